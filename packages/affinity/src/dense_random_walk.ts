import type { PairIndices } from './neighbourhood';

/** psa's dense affinity matrix (`to_dense`): pair affinities at (from, to) and (to, from), 1 on the diagonal. */
export function denseAffinityMatrix(affinity: ArrayLike<number>, pairs: PairIndices): Float64Array {
  const n = pairs.height * pairs.width;
  if (affinity.length !== pairs.to.length) {
    throw new Error(
      `denseAffinityMatrix: affinity must hold offsets x from = ${pairs.to.length} values, got ${affinity.length}`,
    );
  }
  const a = new Float64Array(n * n);
  for (let i = 0; i < n; i++) a[i * n + i] = 1;
  const m = pairs.from.length;
  for (let e = 0; e < pairs.to.length; e++) {
    const i = pairs.from[e % m];
    const j = pairs.to[e];
    a[i * n + j] = a[j * n + i] = affinity[e];
  }
  return a;
}

/**
 * psa's dense random walk (`infer_aff.py`), for small N and for checking {@link randomWalk}: T = A^beta
 * (element-wise) column-normalised (T = A / sum_rows A), `logSteps` squarings, then v T. Memory N^2, cost
 * logSteps N^3.
 *
 * Shape: affinity [N x N] (row-major), scores [channels x N] -> [channels x N].
 */
export function denseRandomWalk(
  affinity: ArrayLike<number>,
  scores: Float32Array,
  channels: number,
  options: { beta?: number; logSteps?: number } = {},
): Float32Array {
  const { beta = 8, logSteps = 8 } = options;
  const n = Math.round(Math.sqrt(affinity.length));
  if (n * n !== affinity.length || scores.length !== channels * n) {
    throw new Error(
      `denseRandomWalk: affinity must be N x N and scores channels x N, got ${affinity.length} and ${scores.length} values`,
    );
  }
  if (n > 4096)
    throw new Error(
      `denseRandomWalk: N = ${n} is too large for the dense path (at most 4096); use randomWalk`,
    );
  let t = Float64Array.from(affinity, (a) => Math.max(0, a) ** beta);
  for (let j = 0; j < n; j++) {
    let sum = 0;
    for (let i = 0; i < n; i++) sum += t[i * n + j];
    for (let i = 0; i < n; i++) t[i * n + j] /= sum;
  }
  for (let s = 0; s < logSteps; s++) {
    const sq = new Float64Array(n * n);
    for (let i = 0; i < n; i++) {
      for (let k = 0; k < n; k++) {
        const a = t[i * n + k];
        if (a === 0) continue;
        for (let j = 0; j < n; j++) sq[i * n + j] += a * t[k * n + j];
      }
    }
    t = sq;
  }
  const out = new Float32Array(channels * n);
  for (let c = 0; c < channels; c++) {
    for (let i = 0; i < n; i++) {
      const v = scores[c * n + i];
      if (v === 0) continue;
      for (let j = 0; j < n; j++) out[c * n + j] += v * t[i * n + j];
    }
  }
  return out;
}
