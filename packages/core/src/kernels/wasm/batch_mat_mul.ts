import { tf } from '../../tf';
import { originalKernel } from './original_kernels';

type Attrs = tf.BatchMatMulAttrs;
type KernelArgs = { inputs: tf.NamedTensorInfoMap; attrs?: tf.NamedAttrMap; backend: unknown };

/** Below this many multiply-adds the original kernel is faster than setting up convolutions. */
const SMALL = 1 << 16;

/**
 * `BatchMatMul` for wasm through XNNPACK: each product `A_i B_i` is a 1x1 convolution of A_i (as a 1 x M image with
 * K channels) by B_i (as a 1x1 K -> N filter). tfjs-backend-wasm 4.22's kernel is a plain loop at ~1 GFLOP/s (8.5 s
 * for [8,1681,256] x [8,256,1681]^T); the convolution runs at the backend's ~25 GFLOP/s. Broadcast batches of size 1
 * share one convolution. XNNPACK packs the filter on every call, so when B is the larger side the product is computed
 * transposed, `(A B)^T = B^T A^T`.
 */
export function batchMatMul(args: KernelArgs): tf.TensorInfo {
  const { transposeA, transposeB } = args.attrs as unknown as Attrs;
  const a = args.inputs.a as tf.Tensor;
  const b = args.inputs.b as tf.Tensor;
  const m = a.shape[a.rank - (transposeA ? 1 : 2)];
  const k = a.shape[a.rank - (transposeA ? 2 : 1)];
  const n = b.shape[b.rank - (transposeB ? 2 : 1)];
  const batchA = a.size / (m * k);
  const batchB = b.size / (k * n);
  const original = originalKernel(tf.BatchMatMul);
  if (original && m * n * k * Math.max(batchA, batchB) < SMALL)
    return original(args as never) as tf.TensorInfo;
  const outer = (batchA > batchB || (batchA === batchB && a.rank >= b.rank) ? a : b).shape.slice(0, -2);
  if (batchA !== batchB && batchA !== 1 && batchB !== 1) {
    throw new Error(
      `BatchMatMul (wasm): batch shapes [${a.shape.slice(0, -2)}] and [${b.shape.slice(0, -2)}] must match or be 1`,
    );
  }
  if (n > 2 * m) {
    // XNNPACK packs the filter (here B) on every call: when B is the large operand, compute (A B)^T = B^T A^T
    return tf.tidy(() => {
      const swapped = tf.matMul(b, a, !transposeB, !transposeA);
      const perm = swapped.shape.map((_, i) => i);
      [perm[perm.length - 2], perm[perm.length - 1]] = [perm[perm.length - 1], perm[perm.length - 2]];
      return tf.transpose(swapped, perm);
    });
  }
  return tf.tidy(() => {
    const a3 = tf.reshape(a, [batchA, transposeA ? k : m, transposeA ? m : k]);
    const b3 = tf.reshape(b, [batchB, transposeB ? n : k, transposeB ? k : n]);
    const left = transposeA ? tf.transpose(a3, [0, 2, 1]) : a3; // [batchA, M, K]
    const right = transposeB ? tf.transpose(b3, [0, 2, 1]) : b3; // [batchB, K, N]
    let out: tf.Tensor;
    if (batchB === 1) {
      out = tf.conv2d(
        tf.reshape(left, [1, batchA, m, k]) as tf.Tensor4D,
        tf.reshape(right, [1, 1, k, n]) as tf.Tensor4D,
        1,
        'valid',
      );
    } else {
      const item = (t: tf.Tensor, i: number, rows: number, cols: number) =>
        tf.slice(t, [i, 0, 0], [1, rows, cols]);
      const products = Array.from({ length: batchB }, (_, i) =>
        tf.conv2d(
          tf.reshape(batchA === 1 ? left : item(left, i, m, k), [1, 1, m, k]) as tf.Tensor4D,
          tf.reshape(item(right, i, k, n), [1, 1, k, n]) as tf.Tensor4D,
          1,
          'valid',
        ),
      );
      out = tf.concat(products, 1);
    }
    return tf.reshape(out, [...outer, m, n]);
  });
}
