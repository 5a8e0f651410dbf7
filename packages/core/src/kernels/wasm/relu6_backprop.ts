import { tf } from '../../tf';
import { heapElementwise, wasmHeapKernels } from './wasm_heap_kernels';

/** `Relu6Backprop` on wasm: one WebAssembly SIMD pass over the backend's heap, `dx = dy & (0 < x <= 6)`. */
export function relu6Backprop({ inputs, backend }: { inputs: tf.NamedTensorInfoMap; backend?: unknown }) {
  const dy = inputs.dy as tf.Tensor;
  const x = inputs.x as tf.Tensor;
  const kernels = wasmHeapKernels(backend);
  if (!kernels) {
    return tf.tidy(() => tf.mul(dy, tf.cast(tf.logicalAnd(tf.greater(x, 0), tf.lessEqual(x, 6)), 'float32')));
  }
  return heapElementwise(kernels, 'relu6Backprop', dy, x);
}
