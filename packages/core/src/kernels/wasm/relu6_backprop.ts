import { relu6BackpropOps } from '../../gradients/relu6_gradient';
import type { tf } from '../../tf';
import { heapElementwise, wasmHeapKernels } from './wasm_heap_kernels';

/** `Relu6Backprop` on wasm: one WebAssembly SIMD pass over the backend's heap, `dx = dy & (0 < x <= 6)`. */
export function relu6Backprop({ inputs, backend }: { inputs: tf.NamedTensorInfoMap; backend?: unknown }) {
  const dy = inputs.dy as tf.Tensor;
  const x = inputs.x as tf.Tensor;
  const kernels = wasmHeapKernels(backend);
  if (!kernels) return relu6BackpropOps(dy, x);
  return heapElementwise(kernels, 'relu6Backprop', dy, x);
}
