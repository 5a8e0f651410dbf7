import { tf } from '../../tf';
import { runOriginalKernel } from './original_kernels';
import {
  heapMatMul,
  heapMatMulTransposedA,
  heapTranspose,
  type KernelArgs,
  wasmHeapKernels,
} from './wasm_heap_kernels';

type Attrs = tf.BatchMatMulAttrs;

/** Below this many multiply-adds the original kernel is faster than setting up ours. */
const SMALL = 1 << 16;

/**
 * `BatchMatMul` for wasm as our matrix products on every thread: `A_i B_i`, `A_i B_iᵀ` (B's strips packed straight
 * from Bᵀ) and `A_iᵀ B_i` directly (rows or columns of the result split between the threads); for `A_iᵀ B_iᵀ` B is
 * first copied transposed. tfjs-backend-wasm 4.22's kernel is a plain loop at
 * ~1 GFLOP/s (8.5 s for [8,1681,256] x [8,256,1681]^T); ours runs at 15-24 GFLOP/s per thread. Broadcast batches of
 * size 1 are shared; tiny products and other types keep the original kernel.
 */
export function batchMatMul(args: KernelArgs): tf.TensorInfo {
  const { transposeA, transposeB } = args.attrs as unknown as Attrs;
  const a = args.inputs.a as tf.TensorInfo;
  const b = args.inputs.b as tf.TensorInfo;
  const m = a.shape[a.shape.length - (transposeA ? 1 : 2)];
  const k = a.shape[a.shape.length - (transposeA ? 2 : 1)];
  const n = b.shape[b.shape.length - (transposeB ? 2 : 1)];
  const batchA = tf.util.sizeFromShape(a.shape) / (m * k);
  const batchB = tf.util.sizeFromShape(b.shape) / (k * n);
  const batch = Math.max(batchA, batchB);
  const kernels =
    a.dtype === 'float32' && b.dtype === 'float32' && m * n * k * batch >= SMALL
      ? wasmHeapKernels(args.backend)
      : undefined;
  if (!kernels) {
    return runOriginalKernel(tf.BatchMatMul, args);
  }
  if (batchA !== batchB && batchA !== 1 && batchB !== 1) {
    throw new Error(
      `BatchMatMul (wasm): batch shapes [${a.shape.slice(0, -2)}] and [${b.shape.slice(0, -2)}] must match or be 1`,
    );
  }
  const outer = (
    batchA > batchB || (batchA === batchB && a.shape.length >= b.shape.length) ? a : b
  ).shape.slice(0, -2);
  const out = kernels.makeOutput([...outer, m, n]);
  const [aAt, bAt, outAt] = [kernels.offsetOf(a), kernels.offsetOf(b), kernels.offsetOf(out)];
  // Aᵀ B runs as it is (the filter-gradient kernel); A Bᵀ packs B straight from Bᵀ; Aᵀ Bᵀ transposes B first
  const bScratch = transposeA && transposeB ? kernels.alloc(4 * k * n) : 0;
  try {
    for (let i = 0; i < batch; i++) {
      const ai = aAt + 4 * m * k * (batchA === 1 ? 0 : i);
      const bi = bAt + 4 * k * n * (batchB === 1 ? 0 : i);
      const ci = outAt + 4 * m * n * i;
      if (transposeA) {
        if (bScratch && (i === 0 || batchB > 1)) heapTranspose(kernels, bi, bScratch, n, k);
        heapMatMulTransposedA(kernels, ai, bScratch || bi, ci, m, k, n);
      } else {
        heapMatMul(kernels, ai, bi, ci, m, k, n, { transposedB: transposeB });
      }
    }
  } finally {
    if (bScratch) kernels.free(bScratch);
  }
  return out;
}
