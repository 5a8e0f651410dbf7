/** @wsss/crf: the fully connected CRF (pydensecrf-compatible) and bilateral filtering on a permutohedral lattice. */
export { BilateralFilter, type BilateralOptions } from './bilateral_filter';
export {
  argmaxLabels,
  type Compatibility,
  DenseCrf,
  type InferenceOptions,
  type PairwiseOptions,
} from './dense_crf';
export {
  type CrfInput,
  type CrfResult,
  type CrfScores,
  crfOnScores,
  denseCrf,
  saliencyCrf,
} from './dense_crf_inference';
export { denseCrfOp, denseCrfOpAsync } from './dense_crf_op';
export {
  DENSE_CRF,
  type DenseCrfAttrs,
  denseCrfCompute,
  denseCrfKernelFunc,
  registerDenseCrfKernels,
} from './kernels/dense_crf_kernel';
export { PermutohedralLattice } from './lattice/permutohedral_lattice';
export type { KernelNormalization } from './mean_field';
export { BackgroundCrf } from './parallel/background_crf';
export { CRF_PRESETS, type CrfParams, type CrfPresetName } from './presets';
export { saliencyUnary, unaryFromLabels, unaryFromSoftmax } from './unary';
