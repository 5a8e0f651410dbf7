import { tf } from '../../tf';
import { runOriginalKernel } from './original_kernels';
import { heapElementwise, type KernelArgs, wasmHeapKernels } from './wasm_heap_kernels';

/**
 * `Add` for wasm: two float32 tensors of one shape (gradient sums, residual connections) are added by our SIMD pass
 * in place on the heap; broadcasting and other types go to the original kernel.
 */
export function add(args: KernelArgs): tf.TensorInfo {
  const a = args.inputs.a as tf.TensorInfo;
  const b = args.inputs.b as tf.TensorInfo;
  const same =
    a.dtype === 'float32' &&
    b.dtype === 'float32' &&
    a.shape.length === b.shape.length &&
    a.shape.every((d, i) => d === b.shape[i]);
  const kernels = same ? wasmHeapKernels(args.backend) : undefined;
  if (!kernels) {
    return runOriginalKernel(tf.Add, args);
  }
  return heapElementwise(kernels, 'addArrays', a, b);
}
