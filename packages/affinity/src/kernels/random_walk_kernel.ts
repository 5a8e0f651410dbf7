import {
  makeKernelOutput,
  readKernelInput,
  registerPortableKernel,
  SYNC_BACKENDS,
  type tf,
} from '@wsss/core';
import { pairIndices } from '../neighbourhood';
import { RandomWalkGraph, randomWalk } from '../random_walk';

/** Kernel name of the random-walk op; backends may register their own implementation under it. */
export const RANDOM_WALK = 'WsssRandomWalk';

/** Attributes of the random-walk kernel. */
export interface RandomWalkAttrs {
  [name: string]: number;
  height: number;
  width: number;
  radius: number;
  beta: number;
  logSteps: number;
  tolerance: number;
}

/**
 * The portable implementation: reads the inputs back (synchronously) and runs the WebAssembly sparse walk.
 * Inputs: affinity [offsets, from] (psa's pairs of an height x width map), scores [channels, N]. Output: [channels, N].
 */
export function randomWalkKernelFunc(args: {
  inputs: tf.NamedTensorInfoMap;
  backend: unknown;
  attrs?: tf.NamedAttrMap;
}): tf.TensorInfo {
  const { affinity, scores } = args.inputs as { affinity: tf.TensorInfo; scores: tf.TensorInfo };
  const { height, width, radius, beta, logSteps, tolerance } = args.attrs as unknown as RandomWalkAttrs;
  const graph = new RandomWalkGraph(
    readKernelInput(args.backend, affinity),
    pairIndices(height, width, radius),
    beta,
  );
  const channels = scores.shape[0];
  const values = Float32Array.from(readKernelInput(args.backend, scores));
  const out = randomWalk(graph, values, channels, { logSteps, tolerance }).scores;
  return makeKernelOutput(args.backend, [channels, height * width], out, RANDOM_WALK);
}

/** Registers {@link randomWalkKernelFunc} for the backends that can read tensors synchronously (unless already registered). */
export function registerRandomWalkKernels(backends: readonly string[] = SYNC_BACKENDS): void {
  registerPortableKernel(RANDOM_WALK, randomWalkKernelFunc as unknown as tf.KernelFunc, backends);
}
