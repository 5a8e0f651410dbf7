import { tf } from '@wsss/core';
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

interface SyncBackend {
  readSync(dataId: object): ArrayLike<number>;
  makeTensorInfo?(shape: number[], dtype: 'float32', values: Float32Array): tf.TensorInfo;
  makeOutput?(
    shape: number[],
    dtype: 'float32',
    memoryOffset: undefined,
    values: Float32Array,
  ): tf.TensorInfo;
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
  const backend = args.backend as SyncBackend;
  const graph = new RandomWalkGraph(
    backend.readSync(affinity.dataId),
    pairIndices(height, width, radius),
    beta,
  );
  const channels = scores.shape[0];
  const out = randomWalk(graph, Float32Array.from(backend.readSync(scores.dataId)), channels, {
    logSteps,
    tolerance,
  }).scores;
  if (backend.makeTensorInfo) return backend.makeTensorInfo([channels, height * width], 'float32', out);
  if (backend.makeOutput) return backend.makeOutput([channels, height * width], 'float32', undefined, out);
  throw new Error(
    `${RANDOM_WALK}: this backend can neither makeTensorInfo nor makeOutput; register a kernel for it`,
  );
}

/** Registers {@link randomWalkKernelFunc} for the backends that can read tensors synchronously (unless already registered). */
export function registerRandomWalkKernels(
  backends: readonly string[] = ['cpu', 'wasm', 'webgl', 'webgpu', 'tensorflow'],
): void {
  for (const backendName of backends) {
    if (!tf.getKernel(RANDOM_WALK, backendName)) {
      tf.registerKernel({
        kernelName: RANDOM_WALK,
        backendName,
        kernelFunc: randomWalkKernelFunc as unknown as tf.KernelFunc,
      });
    }
  }
}
