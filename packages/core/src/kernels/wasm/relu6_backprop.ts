import { tf } from '../../tf';
import { wasmHeapKernels } from './wasm_heap_kernels';

/** `Relu6Backprop` on wasm: one WebAssembly SIMD pass over the backend's heap, `dx = dy & (0 < x <= 6)`. */
export function relu6Backprop({ inputs, backend }: { inputs: tf.NamedTensorInfoMap; backend?: unknown }) {
  const dy = inputs.dy as tf.Tensor;
  const x = inputs.x as tf.Tensor;
  const kernels = wasmHeapKernels(backend);
  if (!kernels) {
    return tf.tidy(() => tf.mul(dy, tf.cast(tf.logicalAnd(tf.greater(x, 0), tf.lessEqual(x, 6)), 'float32')));
  }
  const out = kernels.makeOutput([...dy.shape]);
  const [dyAt, xAt, outAt] = [kernels.offsetOf(dy), kernels.offsetOf(x), kernels.offsetOf(out)];
  const size = tf.util.sizeFromShape(dy.shape);
  // memory-bound: one thread (work 0: split only when a test asks for every split)
  kernels.split('relu6Backprop', size, 4, 0, (start, end) => [
    dyAt + 4 * start,
    xAt + 4 * start,
    outAt + 4 * start,
    end - start,
  ]);
  return out;
}
