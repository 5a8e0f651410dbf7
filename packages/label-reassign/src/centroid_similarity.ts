import { tf, WasmArena } from '@wsss/core';
import { cosineSimilarity, weightedCentroids } from './centroids';
import { CENTROID_SIMILARITY_WASM } from './wasm/centroid_similarity_wasm';

interface CentroidExports {
  centroidSimilarity(...args: number[]): void;
  centroidSimilarityGrad(...args: number[]): void;
}

let arena: WasmArena<CentroidExports> | undefined;
const EPS = 1e-8;

/**
 * Cosine similarities [N, K] of embeddings [N, D] to their weighted class centroids `sum_i W_ik x_i / sum_i W_ik`,
 * with the gradient flowing through both the embeddings and the centroids (the weights are constants).
 * On cpu and wasm: one WebAssembly SIMD pass forward and one backward (assembly/centroid_similarity.ts), reading the
 * embeddings back; elsewhere (`implementation: 'ops'` or GPU backends): tf ops and autodiff.
 */
export function centroidCosineSimilarity(
  embeddings: tf.Tensor2D,
  weights: Float32Array,
  classes: number,
  implementation: 'auto' | 'fused' | 'ops' = 'auto',
): tf.Tensor2D {
  const [n, d] = embeddings.shape;
  if (weights.length !== n * classes) {
    throw new Error(
      `centroidCosineSimilarity: weights must be [N, K] = [${n}, ${classes}], got ${weights.length} values`,
    );
  }
  if (implementation === 'ops' || (implementation === 'auto' && !['cpu', 'wasm'].includes(tf.getBackend()))) {
    return tf.tidy(() =>
      cosineSimilarity(embeddings, weightedCentroids(embeddings, tf.tensor2d(weights, [n, classes]))),
    );
  }
  const k = classes;
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
      colsum: arena.alloc(k * 4),
      centroids: arena.alloc(k * dp * 4),
      rho: arena.alloc(k * 4),
      unit: arena.alloc(k * dp * 4),
      r: arena.alloc(n * 4),
      s: arena.alloc(n * k * 4),
    };
    arena.exports.centroidSimilarity(
      at.x,
      at.weights,
      n,
      dp,
      k,
      EPS,
      at.colsum,
      at.centroids,
      at.rho,
      at.unit,
      at.r,
      at.s,
    );
    // the arena is shared with later calls: keep what the backward pass needs
    const saved = {
      colsum: arena.f32(at.colsum, k).slice(),
      rho: arena.f32(at.rho, k).slice(),
      unit: arena.f32(at.unit, k * dp).slice(),
      r: arena.f32(at.r, n).slice(),
      s: arena.f32(at.s, n * k).slice(),
    };
    const gradFunc = (dy: tf.Tensor) => {
      const g = dy.dataSync() as Float32Array;
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
        g: wasm.put(Float32Array.from(g)),
        dx: wasm.alloc(n * dp * 4),
        work: wasm.alloc(k * dp * 4),
      };
      wasm.exports.centroidSimilarityGrad(
        b.x,
        b.weights,
        n,
        dp,
        k,
        b.colsum,
        b.rho,
        b.unit,
        b.r,
        b.s,
        b.g,
        b.dx,
        b.work,
      );
      const dxPadded = wasm.f32(b.dx, n * dp);
      const dx = new Float32Array(n * d);
      for (let i = 0; i < n; i++) dx.set(dxPadded.subarray(i * dp, i * dp + d), i * d);
      return tf.tensor2d(dx, [n, d]);
    };
    return { value: tf.tensor2d(saved.s, [n, k]), gradFunc };
  }) as unknown as Parameters<typeof tf.customGrad>[0]);
  return op(embeddings) as tf.Tensor2D;
}
