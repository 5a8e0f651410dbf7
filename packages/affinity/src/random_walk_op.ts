import { tf } from '@wsss/core';
import { RANDOM_WALK, type RandomWalkAttrs, registerRandomWalkKernels } from './kernels/random_walk_kernel';
import type { PairIndices } from './neighbourhood';
import type { RandomWalkOptions } from './random_walk';

registerRandomWalkKernels();

/**
 * psa's random walk as a tensor op (not differentiable): scores [channels, N] propagated over the pair affinities
 * [offsets, from] of `pairs` (see {@link randomWalk}). Dispatches to the `WsssRandomWalk` kernel of the active
 * backend (registered for cpu, wasm, webgl, webgpu and tensorflow; override per backend with `tf.registerKernel`).
 *
 * @example
 * ```ts
 * const propagated = randomWalkOp(affinity, cam, pairIndices(56, 56, 5)); // [21, 3136]
 * ```
 */
export function randomWalkOp(
  affinity: tf.Tensor2D,
  scores: tf.Tensor2D,
  pairs: PairIndices,
  options: RandomWalkOptions = {},
): tf.Tensor2D {
  const { beta = 8, logSteps = 8, tolerance = 1e-5 } = options;
  if (
    affinity.rank !== 2 ||
    affinity.shape[0] !== pairs.offsets.length ||
    affinity.shape[1] !== pairs.from.length
  ) {
    throw new Error(
      `randomWalkOp: affinity must be [${pairs.offsets.length}, ${pairs.from.length}], got [${affinity.shape}]`,
    );
  }
  if (scores.rank !== 2 || scores.shape[1] !== pairs.height * pairs.width) {
    throw new Error(
      `randomWalkOp: scores must be [channels, ${pairs.height * pairs.width}], got [${scores.shape}]`,
    );
  }
  const attrs: RandomWalkAttrs = {
    height: pairs.height,
    width: pairs.width,
    radius: pairs.radius,
    beta,
    logSteps,
    tolerance,
  };
  return tf.engine().runKernel(RANDOM_WALK, { affinity, scores }, attrs) as tf.Tensor2D;
}
