import { tf } from '@wsss/core';
import type { AffinityLabels } from './affinity_labels';
import type { PairIndices } from './neighbourhood';

/**
 * AffinityNet's pair affinities `a_ij = exp(-mean_c |f_i,c - f_j,c|)` for psa's sparse pairs (differentiable).
 *
 * Shape: features [B, H, W, C] -> [B, offsets, from] (pairs as {@link PairIndices}).
 *
 * @example
 * ```ts
 * const pairs = pairIndices(56, 56, 5);
 * const a = pairAffinity(features, pairs); // [B, 34, 2496]
 * ```
 */
export function pairAffinity(features: tf.Tensor4D, pairs: PairIndices): tf.Tensor3D {
  const [b, h, w, c] = features.shape;
  if (features.rank !== 4 || h !== pairs.height || w !== pairs.width) {
    throw new Error(
      `pairAffinity: features must be [B, ${pairs.height}, ${pairs.width}, C], got [${features.shape}]`,
    );
  }
  const rf = pairs.radius - 1;
  return tf.tidy(() => {
    const window = (dy: number, dx: number) =>
      tf.slice(features, [0, dy, rf + dx, 0], [b, pairs.fromHeight, pairs.fromWidth, c]);
    const from = window(0, 0);
    const maps = pairs.offsets.map(([dy, dx]) =>
      tf.exp(tf.neg(tf.mean(tf.abs(tf.sub(window(dy, dx), from)), 3))),
    );
    return tf.reshape(tf.stack(maps, 1), [b, pairs.offsets.length, pairs.from.length]) as tf.Tensor3D;
  });
}

/**
 * AffinityNet's loss (psa `train_aff.py`): `L = L_bg / 4 + L_fg / 4 + L_neg / 2` with
 * `L_bg = sum -bg log(a + 1e-5) / (sum bg + 1e-5)`, `L_fg` likewise and `L_neg = sum -neg log(1 + 1e-5 - a) / (sum neg + 1e-5)`.
 *
 * Shape: affinity [B, offsets, from]; one {@link AffinityLabels} per image -> scalar.
 */
export function affinityNetLoss(affinity: tf.Tensor3D, labels: readonly AffinityLabels[]): tf.Scalar {
  const [b, k, n] = affinity.shape;
  if (labels.length !== b || labels.some((l) => l.negative.length !== k * n)) {
    throw new Error(
      `affinityNetLoss: expected ${b} label sets of ${k} x ${n} pairs (one per image of affinity [${affinity.shape}])`,
    );
  }
  const mask = (pick: (l: AffinityLabels) => Uint8Array) => {
    const data = new Float32Array(b * k * n);
    labels.forEach((l, i) => {
      data.set(pick(l), i * k * n);
    });
    return tf.tensor3d(data, [b, k, n]);
  };
  return tf.tidy(() => {
    const term = (m: tf.Tensor, logOf: tf.Tensor) =>
      tf.div(tf.sum(tf.mul(tf.neg(m), tf.log(logOf))), tf.add(tf.sum(m), 1e-5));
    const positive = tf.add(affinity, 1e-5);
    const bg = term(
      mask((l) => l.bgPositive),
      positive,
    );
    const fg = term(
      mask((l) => l.fgPositive),
      positive,
    );
    const neg = term(
      mask((l) => l.negative),
      tf.sub(1 + 1e-5, affinity),
    );
    return tf.addN([tf.div(bg, 4), tf.div(fg, 4), tf.div(neg, 2)]) as tf.Scalar;
  });
}
