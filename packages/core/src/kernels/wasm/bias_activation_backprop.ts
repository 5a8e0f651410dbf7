import { biasActivationBackpropOps } from '../../gradients/fused_conv_gradients';
import type { tf } from '../../tf';
import { ACTIVATION_CODES, type KernelArgs, wasmHeapKernels } from './wasm_heap_kernels';

/**
 * `BiasActivationBackprop` on wasm: `dz` and the column sums `dbias` in one WebAssembly SIMD pass over the
 * backend's heap (memory-bound: one thread; a test may split the channels, see setMinimumSplitWork).
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
  const at = [dy, y, dz, dbias].map((t) => kernels.offsetOf(t));
  // each part's own accumulators, 64 bytes apart
  const accBytes = 4 * cols + 64;
  const acc = kernels.alloc(accBytes * kernels.parts);
  try {
    kernels.split('biasActivationBackprop', cols, 4, 0, (c0, c1, part) => [
      ...at,
      rows,
      cols,
      ACTIVATION_CODES[activation],
      c0,
      c1,
      acc + accBytes * part,
    ]);
  } finally {
    kernels.free(acc);
  }
  return [dz, dbias];
}
