import { runPortableAsync, runPortableKernel, type tf } from '@wsss/core';
import {
  RANDOM_WALK,
  type RandomWalkAttrs,
  randomWalkCompute,
  registerRandomWalkKernels,
} from './kernels/random_walk_kernel';
import type { PairIndices } from './neighbourhood';
import type { RandomWalkOptions } from './random_walk';

registerRandomWalkKernels();

/**
 * psa's random walk as a tensor op (not differentiable): scores [channels, N] propagated over the pair affinities
 * [offsets, from] of `pairs` (see {@link randomWalk}). Dispatches to the `WsssRandomWalk` kernel of the active
 * backend (registered for cpu, wasm, webgl and tensorflow; override per backend with `tf.registerKernel`). On webgpu,
 * which reads tensors only asynchronously, use {@link randomWalkOpAsync}.
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
  const attrs = randomWalkAttrs('randomWalkOp', affinity, scores, pairs, options);
  return runPortableKernel('randomWalkOp', RANDOM_WALK, { affinity, scores }, attrs) as tf.Tensor2D;
}

/**
 * {@link randomWalkOp} on every backend, webgpu included: the backend's kernel where it has one, otherwise the inputs
 * are read with `data()` (asynchronously), the walk runs in WebAssembly and the result is uploaded to the backend.
 *
 * @example
 * ```ts
 * const propagated = await randomWalkOpAsync(affinity, cam, pairIndices(56, 56, 5)); // on webgpu too
 * ```
 */
export async function randomWalkOpAsync(
  affinity: tf.Tensor2D,
  scores: tf.Tensor2D,
  pairs: PairIndices,
  options: RandomWalkOptions = {},
): Promise<tf.Tensor2D> {
  const attrs = randomWalkAttrs('randomWalkOpAsync', affinity, scores, pairs, options);
  return (await runPortableAsync(RANDOM_WALK, randomWalkCompute, { affinity, scores }, attrs)) as tf.Tensor2D;
}

/** The kernel's attributes, after checking the inputs against `pairs`. */
function randomWalkAttrs(
  op: string,
  affinity: tf.Tensor2D,
  scores: tf.Tensor2D,
  pairs: PairIndices,
  options: RandomWalkOptions,
): RandomWalkAttrs {
  const { beta = 8, logSteps = 8, tolerance = 1e-5 } = options;
  if (
    affinity.rank !== 2 ||
    affinity.shape[0] !== pairs.offsets.length ||
    affinity.shape[1] !== pairs.from.length
  ) {
    throw new Error(
      `${op}: affinity must be [${pairs.offsets.length}, ${pairs.from.length}], got [${affinity.shape}]`,
    );
  }
  if (scores.rank !== 2 || scores.shape[1] !== pairs.height * pairs.width) {
    throw new Error(`${op}: scores must be [channels, ${pairs.height * pairs.width}], got [${scores.shape}]`);
  }
  return {
    height: pairs.height,
    width: pairs.width,
    radius: pairs.radius,
    beta,
    logSteps,
    tolerance,
  };
}
