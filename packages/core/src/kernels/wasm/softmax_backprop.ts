import { softmaxBackpropOps } from '../../gradients/softmax_gradient';
import type { tf } from '../../tf';
import { type KernelArgs, wasmHeapKernels } from './wasm_heap_kernels';

/** `SoftmaxBackprop` on wasm: one WebAssembly SIMD pass per row over the backend's heap, rows split between threads. */
export function softmaxBackprop({ inputs, backend }: KernelArgs): tf.TensorInfo {
  const dy = inputs.dy as tf.Tensor;
  const y = inputs.y as tf.Tensor;
  const kernels = wasmHeapKernels(backend);
  if (!kernels) return softmaxBackpropOps(dy, y);
  const cols = dy.shape[dy.shape.length - 1];
  const rows = dy.shape.reduce((n, d) => n * d, 1) / cols;
  const out = kernels.makeOutput([...dy.shape]);
  const [dyAt, yAt, outAt] = [kernels.offsetOf(dy), kernels.offsetOf(y), kernels.offsetOf(out)];
  kernels.split('softmaxBackprop', rows, 1, rows * cols, (r0, r1) => [dyAt, yAt, outAt, cols, r0, r1]);
  return out;
}
