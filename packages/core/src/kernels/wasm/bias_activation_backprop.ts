import { biasActivationBackpropOps } from '../../gradients/fused_conv_gradients';
import type { tf } from '../../tf';
import { ACTIVATION_CODES, inChunks, type KernelArgs, wasmHeapKernels } from './wasm_heap_kernels';

/** Most chunks of rows the bias gradient is summed in (each at least 256 rows). */
const BIAS_CHUNKS = 16;

/**
 * `BiasActivationBackprop` on wasm: `dz` and the column sums `dbias` in one WebAssembly SIMD pass over the
 * backend's heap; the rows in up to 16 chunks that the threads take, the chunks' column sums then added in order
 * (the chunks depend on the shape only, so `dbias` does not depend on the threads).
 */
export function biasActivationBackprop({ inputs, attrs, backend }: KernelArgs): tf.TensorInfo[] {
  const dy = inputs.dy as tf.Tensor;
  const y = inputs.y as tf.Tensor;
  const activation = (attrs?.activation as string | undefined) ?? 'linear';
  const kernels = wasmHeapKernels(backend);
  if (!kernels) {
    const { dz, dbias } = biasActivationBackpropOps(dy, y, activation);
    return [dz, dbias];
  }
  const cols = dy.shape[dy.shape.length - 1];
  const rows = dy.shape.reduce((n, d) => n * d, 1) / cols;
  const dz = kernels.makeOutput([...dy.shape]);
  const dbias = kernels.makeOutput([cols]);
  const [dyAt, yAt, dzAt, dbiasAt] = [dy, y, dz, dbias].map((t) => kernels.offsetOf(t));
  const rowsPerChunk = Math.ceil(rows / Math.max(1, Math.min(BIAS_CHUNKS, Math.floor(rows / 256))));
  const chunks = Math.ceil(rows / rowsPerChunk);
  inChunks(kernels, dbiasAt, cols, chunks, (partials) =>
    kernels.split('biasActivationBackprop', chunks, 1, rows * cols, (k0, k1) => [
      ...[dyAt, yAt, dzAt, partials],
      ...[rows, cols, ACTIVATION_CODES[activation], k0, k1, rowsPerChunk],
    ]),
  );
  return [dz, dbias];
}
