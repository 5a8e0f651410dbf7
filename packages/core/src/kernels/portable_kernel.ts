import { tf } from '../tf';

/**
 * The backends a portable (read back, compute on the CPU side, write back) kernel is registered for by default: those
 * that can read a tensor synchronously. Not webgpu: its synchronous readback needs an OffscreenCanvas (absent in
 * Node) and loses the device in Chromium; there the ops' `...Async` forms read with `data()`.
 */
export const SYNC_BACKENDS: readonly string[] = ['cpu', 'wasm', 'webgl', 'tensorflow'];

/** A kernel input or output as plain values. */
export interface PortableValues {
  shape: number[];
  values: ArrayLike<number>;
}

/**
 * A kernel computed on the CPU side: named inputs as values, attributes -> the float32 output. One definition serves
 * the synchronous kernel ({@link portableKernelFunc}) and the asynchronous op ({@link runPortableAsync}).
 */
export type PortableCompute<Attrs> = (
  inputs: Record<string, PortableValues>,
  attrs: Attrs,
) => { shape: number[]; values: Float32Array };

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

/** The kernel function of a {@link PortableCompute}: reads its inputs synchronously, writes the output back. */
export function portableKernelFunc<Attrs>(
  kernelName: string,
  compute: PortableCompute<Attrs>,
): tf.KernelFunc {
  return ({ inputs, backend, attrs }) => {
    const values: Record<string, PortableValues> = {};
    for (const [name, info] of Object.entries(inputs as Record<string, tf.TensorInfo>))
      values[name] = { shape: info.shape, values: readKernelInput(backend, info) };
    const out = compute(values, attrs as unknown as Attrs);
    return makeKernelOutput(backend, out.shape, out.values, kernelName);
  };
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

/**
 * Runs `kernelName` synchronously on the active backend, or fails with an error that names the op's asynchronous
 * form when the backend has no kernel for it (webgpu, unless one was registered there).
 */
export function runPortableKernel(
  op: string,
  kernelName: string,
  inputs: tf.NamedTensorMap,
  attrs: tf.NamedAttrMap,
): tf.Tensor {
  const backend = tf.getBackend();
  if (!tf.getKernel(kernelName, backend)) {
    throw new Error(
      `${op}: the ${backend} backend has no synchronous ${kernelName} kernel (its tensors are read asynchronously); use ${op}Async`,
    );
  }
  return tf.engine().runKernel(kernelName, inputs, attrs) as tf.Tensor;
}

/**
 * The asynchronous form of a portable op, for every backend: the backend's registered kernel when it has one (cpu,
 * wasm, webgl, tensorflow, or a user's webgpu kernel), otherwise the inputs read with `data()` (no synchronous
 * readback), `compute` on the CPU side and the output uploaded to the active backend.
 */
export async function runPortableAsync<Attrs>(
  kernelName: string,
  compute: PortableCompute<Attrs>,
  inputs: tf.NamedTensorMap,
  attrs: Attrs,
): Promise<tf.Tensor> {
  if (tf.getKernel(kernelName, tf.getBackend()))
    return tf.engine().runKernel(kernelName, inputs, attrs as unknown as tf.NamedAttrMap) as tf.Tensor;
  const names = Object.keys(inputs);
  const read = await Promise.all(names.map((n) => inputs[n].data()));
  const values: Record<string, PortableValues> = {};
  names.forEach((n, i) => {
    values[n] = { shape: inputs[n].shape, values: read[i] as ArrayLike<number> };
  });
  const out = compute(values, attrs);
  return tf.tensor(out.values, out.shape, 'float32');
}
