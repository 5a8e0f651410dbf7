import { tf } from '../../tf';
import { runOriginalKernel } from './original_kernels';
import type { KernelArgs } from './wasm_heap_kernels';

/** What the data-movement kernels use of tfjs-backend-wasm's backend: outputs, and views of tensors on its heap. */
export interface WasmHeapBackend {
  makeOutput(shape: number[], dtype: tf.DataType): tf.TensorInfo;
  typedArrayFromHeap(t: tf.TensorInfo): Float32Array | Int32Array | Uint8Array;
}

/**
 * `Slice` for wasm, straight out of the heap: a contiguous slice (e.g. one batch item) in one copy, a strided one run
 * by run (a run: the innermost sliced axis with the full axes after it). tfjs-backend-wasm 4.22 first copies the
 * whole input out of the heap (`readSync`), so taking the 8 items of an [8, 1681, 1681] tensor cost 640 ms instead
 * of ~10 ms, and the first 18 of 24 columns of a [13448, 24] matrix 3.5 ms instead of ~0.3 ms.
 */
export function slice(args: KernelArgs): tf.TensorInfo {
  const x = args.inputs.x as tf.TensorInfo;
  const { begin, size } = args.attrs as unknown as tf.SliceAttrs;
  const [begin_, size_] = tf.slice_util.parseSliceParams(x as tf.Tensor, begin, size);
  if (x.dtype === 'string') return runOriginalKernel(tf.Slice, args);
  const backend = args.backend as WasmHeapBackend;
  const out = backend.makeOutput(size_, x.dtype);
  const strides = tf.util.computeStrides(x.shape);
  const count = tf.util.sizeFromShape(size_);
  // views are taken after makeOutput, which may grow (and so detach) the heap
  const to = backend.typedArrayFromHeap(out);
  const from = backend.typedArrayFromHeap(x);
  if (tf.slice_util.isSliceContinous(x.shape, begin_, size_)) {
    const start = tf.slice_util.computeFlatOffset(begin_, strides);
    to.set(from.subarray(start, start + count));
    return out;
  }
  // the innermost axis that is not taken whole: a run is its slice, with every axis after it
  let axis = x.shape.length - 1;
  while (axis > 0 && size_[axis] === x.shape[axis]) axis--;
  const run = axis === x.shape.length - 1 ? size_[axis] : size_[axis] * strides[axis];
  const outer = size_.slice(0, axis);
  const index = new Array<number>(axis).fill(0);
  for (let written = 0; written < count; written += run) {
    let start = begin_[axis] * (axis === x.shape.length - 1 ? 1 : strides[axis]);
    for (let a = 0; a < axis; a++) start += (begin_[a] + index[a]) * strides[a];
    if (run < 64) for (let i = 0; i < run; i++) to[written + i] = from[start + i];
    else to.set(from.subarray(start, start + run), written);
    for (let a = axis - 1; a >= 0 && ++index[a] === outer[a]; a--) index[a] = 0;
  }
  return out;
}
