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
 * On cpu and wasm: one WebAssembly SIMD pass forward and one backward (assembly/centroid_similarity.ts); on the wasm
 * backend (D a multiple of 4) on its heap, where the tensors are, with no copies; on cpu in a memory of its own,
 * reading the embeddings back. Elsewhere (`implementation: 'ops'` or GPU backends): tf ops and autodiff.
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

/** {@link centroidCosineSimilarity} on the wasm backend's heap: the kernels read and write the tensors in place. */
function onWasmHeap(
  heap: WasmHeapModule<CentroidExports>,
  embeddings: tf.Tensor2D,
  weights: Float32Array,
  k: number,
  groups: number,
): tf.Tensor2D {
  const [n, d] = embeddings.shape;
  const rows = n / groups;
  const at = (t: tf.TensorInfo, offset: number) => heap.offsetOf(t) + 4 * offset;
  /** Runs `body` with the weights and `scratch` floats in fresh heap blocks, freed afterwards. */
  const withBlocks = (scratch: number, body: (w: number, block: number) => void) => {
    const w = heap.put(weights);
    const block = heap.alloc(4 * scratch);
    try {
      body(w, block);
    } finally {
      heap.free(block);
      heap.free(w);
    }
  };
  const op = tf.customGrad(((x: tf.Tensor, save: tf.GradSaveFunc) => {
    const s = heap.makeTensor([n, k]);
    const [colsum, rho, unit, r] = [[groups * k], [groups * k], [groups * k, d], [n]].map((shape) =>
      heap.makeTensor(shape),
    );
    withBlocks(groups * k * d, (w, centroids) => {
      for (let g = 0; g < groups; g++) {
        const [row, cen] = [g * rows, g * k];
        heap.exports.centroidSimilarity(
          ...[at(x, row * d), w + 4 * row * k, rows, d, k, EPS],
          ...[at(colsum, cen), centroids + 4 * cen * d, at(rho, cen), at(unit, cen * d)],
          ...[at(r, row), at(s, row * k)],
        );
      }
    });
    save([x, s, colsum, rho, unit, r]);
    const gradFunc = (dy: tf.Tensor, saved: tf.Tensor[]) => {
      const [xs, ss, cs, rh, un, rr] = saved;
      const dx = heap.makeTensor([n, d]);
      withBlocks(k * d, (w, work) => {
        for (let g = 0; g < groups; g++) {
          const [row, cen] = [g * rows, g * k];
          heap.exports.centroidSimilarityGrad(
            ...[at(xs, row * d), w + 4 * row * k, rows, d, k],
            ...[at(cs, cen), at(rh, cen), at(un, cen * d), at(rr, row), at(ss, row * k)],
            ...[at(dy, row * k), at(dx, row * d), work],
          );
        }
      });
      return dx;
    };
    return { value: s, gradFunc };
  }) as unknown as Parameters<typeof tf.customGrad>[0]);
  return op(embeddings) as tf.Tensor2D;
}
