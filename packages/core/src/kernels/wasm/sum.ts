import { tf } from '../../tf';
import { runOriginalKernel } from './original_kernels';
import { type KernelArgs, wasmHeapKernels } from './wasm_heap_kernels';

/**
 * `Sum` for wasm: a float32 sum over every axis but the last (the bias and batch-norm gradients, `[N,H,W,C] -> [C]`)
 * is one WebAssembly SIMD pass of column sums; tfjs-backend-wasm 4.22 transposes the input first. Other sums go to
 * the original kernel.
 */
export function sum(args: KernelArgs): tf.TensorInfo {
  const { axis, keepDims } = args.attrs as unknown as tf.SumAttrs;
  const x = args.inputs.x as tf.TensorInfo;
  const rank = x.shape.length;
  const axes = tf.util.parseAxisParam(axis, x.shape);
  const cols = x.shape[rank - 1];
  const leading = rank >= 2 && new Set(axes).size === rank - 1 && axes.every((a) => a < rank - 1) && cols > 0;
  const kernels = leading && x.dtype === 'float32' ? wasmHeapKernels(args.backend) : undefined;
  if (!kernels) {
    return runOriginalKernel(tf.Sum, args);
  }
  const rows = tf.util.sizeFromShape(x.shape) / cols;
  const outShape = keepDims ? [...x.shape.slice(0, -1).map(() => 1), cols] : [cols];
  const out = kernels.makeOutput(outShape);
  const [xAt, outAt] = [kernels.offsetOf(x), kernels.offsetOf(out)];
  // each part's own accumulators, 64 bytes apart
  const accBytes = 4 * cols + 64;
  const acc = kernels.alloc(accBytes * kernels.parts);
  try {
    // memory-bound: one thread (work 0: split only when a test asks for every split)
    kernels.split('columnSums', cols, 4, 0, (c0, c1, part) => [
      xAt,
      outAt,
      rows,
      cols,
      c0,
      c1,
      acc + accBytes * part,
    ]);
  } finally {
    kernels.free(acc);
  }
  return out;
}
