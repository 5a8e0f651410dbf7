import { tf } from '@wsss/core';

/**
 * Class activation maps `CAM_c = ReLU(F · w_c)` (Zhou et al. 2016) from backbone features and the weights of a
 * GAP classifier.
 *
 * Shape: features [B, h, w, K], weights [K, C] or [1, 1, K, C] -> [B, h, w, C].
 *
 * ```ts
 * const cams = classActivationMaps(features, head.weights); // [1, 7, 7, 20]
 * ```
 */
export function classActivationMaps(features: tf.Tensor4D, weights: tf.Tensor): tf.Tensor4D {
  if (features.rank !== 4)
    throw new Error(`classActivationMaps: features must be [B, h, w, K], got [${features.shape}]`);
  const k = features.shape[3];
  const kernel = weights.rank === 2 ? weights.reshape([1, 1, ...weights.shape]) : weights;
  if (kernel.rank !== 4 || kernel.shape[0] !== 1 || kernel.shape[1] !== 1 || kernel.shape[2] !== k) {
    throw new Error(
      `classActivationMaps: weights must be [${k}, C] or [1, 1, ${k}, C], got [${weights.shape}]`,
    );
  }
  return tf.tidy(() => tf.relu(tf.conv2d(features, kernel as tf.Tensor4D, 1, 'valid')));
}

/**
 * Per-class max normalisation `cam_c / (max_{x,y} cam_c + eps)` (eps 1e-5, as psa and IRN), so that every present
 * class peaks at ~1.
 *
 * Shape: cams [H, W, C] or [B, H, W, C] (normalised over the spatial axes).
 */
export function normalizeCams<T extends tf.Tensor3D | tf.Tensor4D>(cams: T, epsilon = 1e-5): T {
  if (cams.rank !== 3 && cams.rank !== 4) {
    throw new Error(`normalizeCams: cams must be [H, W, C] or [B, H, W, C], got [${cams.shape}]`);
  }
  return tf.tidy(() => {
    const axes = cams.rank === 3 ? [0, 1] : [1, 2];
    return tf.div(cams, tf.add(tf.max(cams, axes, true), epsilon)) as T;
  });
}

/** Zeroes the channels of absent classes. Shape: cams [..., C], labels [C] (0/1). */
export function maskAbsentClasses<T extends tf.Tensor>(cams: T, labels: ArrayLike<number>): T {
  const c = cams.shape[cams.rank - 1];
  if (labels.length !== c) {
    throw new Error(`maskAbsentClasses: labels has ${labels.length} values, cams have ${c} channels`);
  }
  return tf.tidy(() => tf.mul(cams, tf.tensor1d(Array.from(labels, (v) => (v > 0 ? 1 : 0)))) as T);
}
