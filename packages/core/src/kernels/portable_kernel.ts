import { tf } from '../tf';

/** The backends a portable (read back, compute on the CPU side, write back) kernel is registered for by default. */
export const SYNC_BACKENDS: readonly string[] = ['cpu', 'wasm', 'webgl', 'webgpu', 'tensorflow'];

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

/** The values of an input of a kernel, read synchronously from whatever backend holds them. */
export function readKernelInput(backend: unknown, input: tf.TensorInfo): ArrayLike<number> {
  return (backend as SyncBackend).readSync(input.dataId);
}

/** A float32 kernel output on `backend` (cpu/webgl/webgpu: makeTensorInfo; wasm: makeOutput). */
export function makeKernelOutput(
  backend: unknown,
  shape: number[],
  values: Float32Array,
  kernelName: string,
): tf.TensorInfo {
  const b = backend as SyncBackend;
  if (b.makeTensorInfo) return b.makeTensorInfo(shape, 'float32', values);
  if (b.makeOutput) return b.makeOutput(shape, 'float32', undefined, values);
  throw new Error(
    `${kernelName}: this backend can neither makeTensorInfo nor makeOutput; register a kernel for it`,
  );
}

/**
 * Registers `kernelFunc` under `kernelName` for every backend in `backends` that has none yet, so that a backend
 * can ship (or a user register) its own implementation first.
 */
export function registerPortableKernel(
  kernelName: string,
  kernelFunc: tf.KernelFunc,
  backends: readonly string[] = SYNC_BACKENDS,
): void {
  for (const backendName of backends) {
    if (!tf.getKernel(kernelName, backendName)) tf.registerKernel({ kernelName, backendName, kernelFunc });
  }
}
