import {
  type PortableCompute,
  portableKernelFunc,
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
 * The portable implementation: the WebAssembly sparse walk on the inputs' values. Inputs: affinity [offsets, from]
 * (psa's pairs of an height x width map), scores [channels, N]. Output: [channels, N].
 */
export const randomWalkCompute: PortableCompute<RandomWalkAttrs> = (inputs, attrs) => {
  const { affinity, scores } = inputs;
  const { height, width, radius, beta, logSteps, tolerance } = attrs;
  const graph = new RandomWalkGraph(affinity.values, pairIndices(height, width, radius), beta);
  const channels = scores.shape[0];
  const out = randomWalk(graph, Float32Array.from(scores.values), channels, { logSteps, tolerance }).scores;
  return { shape: [channels, height * width], values: out };
};

/** The synchronous kernel function of {@link randomWalkCompute} (reads its inputs back synchronously). */
export const randomWalkKernelFunc: tf.KernelFunc = portableKernelFunc(RANDOM_WALK, randomWalkCompute);

/** Registers {@link randomWalkKernelFunc} for the backends that can read tensors synchronously (unless already registered). */
export function registerRandomWalkKernels(backends: readonly string[] = SYNC_BACKENDS): void {
  registerPortableKernel(RANDOM_WALK, randomWalkKernelFunc, backends);
}
