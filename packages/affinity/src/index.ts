/** @wsss/affinity: pixel-affinity labels and losses, cross-task affinity, sparse random-walk propagation. */
export { AffinityFieldLoss, type AffinityFieldOptions, affinityFieldLoss } from './affinity_field_loss';
export { type AffinityLabels, affinityLabels, combineLowHighLabels } from './affinity_labels';
export {
  AdaptiveAffinityLoss,
  type AdaptiveAffinityOptions,
  type AffinityLossOptions,
  adaptiveAffinityLoss,
  type Connection,
  StandardAffinityLoss,
  standardAffinityLoss,
} from './affinity_loss';
export { AffinityNetHead, type AffinityNetHeadOptions, affinityNetLoss, pairAffinity } from './affinity_net';
export { confidentRegions } from './confident_regions';
export { CrossTaskAffinity, type Task } from './cross_task_affinity';
export { denseAffinityMatrix, denseRandomWalk } from './dense_random_walk';
export {
  RANDOM_WALK,
  type RandomWalkAttrs,
  randomWalkCompute,
  randomWalkKernelFunc,
  registerRandomWalkKernels,
} from './kernels/random_walk_kernel';
export { neighbourOffsets, type PairIndices, pairIndices } from './neighbourhood';
export {
  type Divergence,
  type DivergenceTerms,
  divergenceAt,
  divergenceTerms,
  eightNeighbours,
  neighbourShifts,
  pairDivergence,
} from './pair_divergence';
export { RandomWalkGraph, type RandomWalkOptions, type RandomWalkResult, randomWalk } from './random_walk';
export { randomWalkOp, randomWalkOpAsync } from './random_walk_op';
