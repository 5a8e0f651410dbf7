import {
  type Implementation,
  tf,
  usesFusedPass,
  WasmArena,
  type WasmHeapModule,
  wasmHeapModule,
} from '@wsss/core';
import { cosineSimilarity, weightedCentroids } from './centroids';
import { CENTROID_SIMILARITY_SHARED_WASM, CENTROID_SIMILARITY_WASM } from './wasm/centroid_similarity_wasm';

interface CentroidExports {
  centroidSimilarity(...args: number[]): void;
  centroidSimilarityGrad(...args: number[]): void;
  normsAndWeightedSums(...args: number[]): void;
  addRowTerms(...args: number[]): void;
  unitCentroids(...args: number[]): void;
  centroidGradient(dUnit: number, unit: number, scale: number, rows: number, dim: number): void;
}

let arena: WasmArena<CentroidExports> | undefined;
const EPS = 1e-8;
/** Both builds, for the wasm backend's heap (plain or, in its threaded build, shared). */
const HEAP_BINARIES = { plain: CENTROID_SIMILARITY_WASM, shared: CENTROID_SIMILARITY_SHARED_WASM };

/**
 * Cosine similarities [N, K] of embeddings [N, D] to weighted class centroids `sum_i W_ik x_i / sum_i W_ik`, with
 * the gradient flowing through both the embeddings and the centroids (the weights [N, K] are constants). With
 * `groups` > 1 the rows form that many equal consecutive blocks (e.g. images) with their own centroids: row i is
 * compared with the centroids of its block only. Empty centroids (all weights 0) give similarity 0.
 *
 * On cpu and wasm: on the wasm backend (D a multiple of 4) as products on @wsss/core's threaded kernels plus two
 * passes of our WebAssembly SIMD kernel (assembly/centroid_similarity.ts), on its heap where the tensors are, with
 * no copies; on cpu one pass of that kernel forward and one backward, in a memory of its own, reading the embeddings
 * back. Elsewhere (`implementation: 'ops'` or GPU backends): tf ops and autodiff.
 */
export function centroidCosineSimilarity(
  embeddings: tf.Tensor2D,
  weights: Float32Array,
  classes: number,
  options: { groups?: number; implementation?: Implementation } = {},
): tf.Tensor2D {
  const { groups = 1, implementation = 'auto' } = options;
  const [n, d] = embeddings.shape;
  const k = classes;
  if (weights.length !== n * k) {
    throw new Error(
      `centroidCosineSimilarity: weights must be [N, K] = [${n}, ${k}], got ${weights.length} values`,
    );
  }
  if (!Number.isInteger(groups) || groups < 1 || n % groups !== 0) {
    throw new Error(`centroidCosineSimilarity: groups must divide the ${n} rows, got ${groups}`);
  }
  const rows = n / groups;
  if (!usesFusedPass(implementation)) {
    return tf.tidy(() => {
      const blocks = Array.from({ length: groups }, (_, g) => {
        const x = tf.slice(embeddings, [g * rows, 0], [rows, d]) as tf.Tensor2D;
        const w = tf.tensor2d(weights.subarray(g * rows * k, (g + 1) * rows * k), [rows, k]);
        return cosineSimilarity(x, weightedCentroids(x, w));
      });
      return (groups === 1 ? blocks[0] : tf.concat(blocks, 0)) as tf.Tensor2D;
    });
  }
  const heap = d % 4 === 0 ? wasmHeapModule<CentroidExports>(HEAP_BINARIES) : undefined;
  if (heap) return onWasmHeap(heap, embeddings, weights, k, groups);
  const dp = Math.ceil(d / 4) * 4;
  const op = tf.customGrad(((x: tf.Tensor) => {
    const values = x.dataSync();
    const padded = new Float32Array(n * dp);
    for (let i = 0; i < n; i++) padded.set(values.subarray(i * d, (i + 1) * d), i * dp);
    arena ??= new WasmArena<CentroidExports>({ plain: CENTROID_SIMILARITY_WASM });
    arena.reset();
    const at = {
      x: arena.put(padded),
      weights: arena.put(weights),
      colsum: arena.alloc(groups * k * 4),
      centroids: arena.alloc(groups * k * dp * 4),
      rho: arena.alloc(groups * k * 4),
      unit: arena.alloc(groups * k * dp * 4),
      r: arena.alloc(n * 4),
      s: arena.alloc(n * k * 4),
    };
    for (let g = 0; g < groups; g++) {
      const row = g * rows;
      const cen = g * k;
      arena.exports.centroidSimilarity(
        at.x + row * dp * 4,
        at.weights + row * k * 4,
        rows,
        dp,
        k,
        EPS,
        at.colsum + cen * 4,
        at.centroids + cen * dp * 4,
        at.rho + cen * 4,
        at.unit + cen * dp * 4,
        at.r + row * 4,
        at.s + row * k * 4,
      );
    }
    // the arena is shared with later calls: keep what the backward pass needs
    const saved = {
      colsum: arena.f32(at.colsum, groups * k).slice(),
      rho: arena.f32(at.rho, groups * k).slice(),
      unit: arena.f32(at.unit, groups * k * dp).slice(),
      r: arena.f32(at.r, n).slice(),
      s: arena.f32(at.s, n * k).slice(),
    };
    const gradFunc = (dy: tf.Tensor) => {
      const wasm = arena as WasmArena<CentroidExports>;
      wasm.reset();
      const b = {
        x: wasm.put(padded),
        weights: wasm.put(weights),
        colsum: wasm.put(saved.colsum),
        rho: wasm.put(saved.rho),
        unit: wasm.put(saved.unit),
        r: wasm.put(saved.r),
        s: wasm.put(saved.s),
        g: wasm.put(Float32Array.from(dy.dataSync())),
        dx: wasm.alloc(n * dp * 4),
        work: wasm.alloc(k * dp * 4),
      };
      for (let g = 0; g < groups; g++) {
        const row = g * rows;
        const cen = g * k;
        wasm.exports.centroidSimilarityGrad(
          b.x + row * dp * 4,
          b.weights + row * k * 4,
          rows,
          dp,
          k,
          b.colsum + cen * 4,
          b.rho + cen * 4,
          b.unit + cen * dp * 4,
          b.r + row * 4,
          b.s + row * k * 4,
          b.g + row * k * 4,
          b.dx + row * dp * 4,
          b.work,
        );
      }
      const dxPadded = wasm.f32(b.dx, n * dp);
      const dx = new Float32Array(n * d);
      for (let i = 0; i < n; i++) dx.set(dxPadded.subarray(i * dp, i * dp + d), i * d);
      return tf.tensor2d(dx, [n, d]);
    };
    return { value: tf.tensor2d(saved.s, [n, k]), gradFunc };
  }) as unknown as Parameters<typeof tf.customGrad>[0]);
  return op(embeddings) as tf.Tensor2D;
}

/**
 * {@link centroidCosineSimilarity} on the wasm backend's heap. Its two dense products, the similarities `X Ĉᵀ` and
 * in the gradient `(g r)ᵀ X` and `(g r) Ĉ`, are batched matMuls over the groups, which run as @wsss/core's threaded
 * kernels there; the inverse row norms with the centroids' weighted sums (mostly one-hot weights), and the
 * gradient's terms through r and the centroids, are one pass each of our kernel over the tensors in place. The
 * classes are padded to a multiple of 8 (empty centroids) so that the products run on whole 8-column strips.
 */
function onWasmHeap(
  heap: WasmHeapModule<CentroidExports>,
  embeddings: tf.Tensor2D,
  weights: Float32Array,
  k: number,
  groups: number,
): tf.Tensor2D {
  const [n, d] = embeddings.shape;
  const rows = n / groups;
  const kp = Math.ceil(k / 8) * 8;
  const padded = new Float32Array(n * kp);
  const inverseMass = new Float32Array(groups * kp);
  for (let i = 0; i < n; i++) {
    const g = Math.floor(i / rows);
    for (let c = 0; c < k; c++) {
      padded[i * kp + c] = weights[i * k + c];
      inverseMass[g * kp + c] += weights[i * k + c];
    }
  }
  // 1 / sum_i W_ik (1e-12 keeps empty centroids finite: they are 0, and no row weighs them)
  for (let j = 0; j < inverseMass.length; j++) inverseMass[j] = 1 / (inverseMass[j] + 1e-12);
  /** Runs `body` with `values` (the padded weights, the inverse masses) in fresh heap blocks, freed afterwards. */
  const onHeap = <T>(values: Float32Array[], body: (...at: number[]) => T): T => {
    const at = values.map((v) => heap.put(v));
    try {
      return body(...at);
    } finally {
      for (const a of at) heap.free(a);
    }
  };
  const op = tf.customGrad(((x: tf.Tensor, save: tf.GradSaveFunc) => {
    const r = heap.makeTensor([n]);
    const [unit, scale] = [heap.makeTensor([groups, kp, d]), heap.makeTensor([groups, kp])];
    const sums = heap.makeTensor([groups, kp, d]);
    onHeap([padded, inverseMass], (w, mass) => {
      heap.exports.normsAndWeightedSums(
        ...[heap.offsetOf(x), w, n, d, kp, rows, EPS],
        ...[heap.offsetOf(r), heap.offsetOf(sums)],
      );
      // ĉ_k, and rho_k / sum_i W_ik for the gradient
      heap.exports.unitCentroids(
        heap.offsetOf(sums),
        mass,
        heap.offsetOf(unit),
        heap.offsetOf(scale),
        groups * kp,
        d,
        EPS,
      );
    });
    sums.dispose();
    const s = tf.tidy(() => {
      const x3 = tf.reshape(x, [groups, rows, d]);
      const similarity = tf.mul(tf.reshape(tf.matMul(x3, unit, false, true), [n, kp]), tf.reshape(r, [n, 1]));
      return tf.slice(similarity, [0, 0], [n, k]);
    });
    save([x, s, unit, scale, r]);
    const gradFunc = (dy: tf.Tensor, saved: tf.Tensor[]) => {
      const [xs, ss, us, sc, rr] = saved;
      const [dx, beta, dUnit] = tf.tidy(() => {
        const alpha = tf.pad(tf.mul(dy, tf.reshape(rr, [n, 1])), [
          [0, 0],
          [0, kp - k],
        ]); // g_ik r_i
        const beta = tf.mul(tf.neg(tf.square(rr)), tf.sum(tf.mul(dy, ss), 1));
        const alpha3 = tf.reshape(alpha, [groups, rows, kp]);
        const dUnit = tf.matMul(alpha3, tf.reshape(xs, [groups, rows, d]), true, false);
        return [tf.reshape(tf.matMul(alpha3, us), [n, d]), beta, dUnit];
      });
      // dUnit (fresh) becomes dC_k / sum_i W_ik in place; then dx (fresh) += beta_i x_i + sum_k W_ik dC_k / sum_j W_jk
      heap.exports.centroidGradient(
        heap.offsetOf(dUnit),
        heap.offsetOf(us),
        heap.offsetOf(sc),
        groups * kp,
        d,
      );
      onHeap([padded], (w) =>
        heap.exports.addRowTerms(
          ...[heap.offsetOf(dx), heap.offsetOf(xs), heap.offsetOf(beta), w, heap.offsetOf(dUnit)],
          ...[n, d, kp, rows],
        ),
      );
      tf.dispose([beta, dUnit]);
      return dx;
    };
    return { value: s, gradFunc };
  }) as unknown as Parameters<typeof tf.customGrad>[0]);
  return op(embeddings) as tf.Tensor2D;
}
