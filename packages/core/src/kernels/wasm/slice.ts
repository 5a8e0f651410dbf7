import { tf } from '../../tf';
import { runOriginalKernel } from './original_kernels';
import type { KernelArgs } from './wasm_heap_kernels';

interface WasmHeapBackend {
  makeOutput(shape: number[], dtype: tf.DataType): tf.TensorInfo;
  typedArrayFromHeap(t: tf.TensorInfo): Float32Array | Int32Array | Uint8Array;
}

/**
 * `Slice` for wasm: a contiguous slice (e.g. one batch item) is copied straight out of the heap. tfjs-backend-wasm
 * 4.22 first copies the whole input out of the heap (`readSync`), so taking the 8 items of an [8, 1681, 1681]
 * tensor cost 640 ms instead of ~10 ms. Strided slices go to the original kernel.
 */
export function slice(args: KernelArgs): tf.TensorInfo {
  const x = args.inputs.x as tf.TensorInfo;
  const { begin, size } = args.attrs as unknown as tf.SliceAttrs;
  const [begin_, size_] = tf.slice_util.parseSliceParams(x as tf.Tensor, begin, size);
  if (x.dtype === 'string' || !tf.slice_util.isSliceContinous(x.shape, begin_, size_)) {
    return runOriginalKernel(tf.Slice, args);
  }
  const backend = args.backend as WasmHeapBackend;
  const out = backend.makeOutput(size_, x.dtype);
  const from = tf.slice_util.computeFlatOffset(begin_, tf.util.computeStrides(x.shape));
  const count = tf.util.sizeFromShape(size_);
  // views are taken after makeOutput, which may grow (and so detach) the heap
  backend.typedArrayFromHeap(out).set(backend.typedArrayFromHeap(x).subarray(from, from + count));
  return out;
}
