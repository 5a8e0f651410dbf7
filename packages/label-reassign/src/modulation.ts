import { tf, withoutGradient } from '@wsss/core';

/**
 * The LR loss's modulation alpha (AA/LR paper eq. 16) from the similarities to the assigned and the second centroid:
 * `clip(1 - (s_i - s_j) / (s_i + s_j), 0, 1)^gamma` (denominator clamped at 1e-6, see labelReassignLoss). Where the
 * base is 0 the power's derivative is infinite for 0 < gamma < 1 (and 0 * Infinity made the gradient NaN): there
 * the base enters the power as 1 and alpha is set to 0, so the value is unchanged and the gradient finite.
 */
export function labelReassignModulation(si: tf.Tensor, sj: tf.Tensor, gamma: number): tf.Tensor {
  return tf.tidy(() => {
    if (gamma === 0) return tf.onesLike(si);
    const base = tf.clipByValue(tf.sub(1, tf.div(tf.sub(si, sj), tf.maximum(tf.add(si, sj), 1e-6))), 0, 1);
    const positive = withoutGradient(base, (t) => tf.cast(tf.greater(t, 0), 'float32'));
    const safe = tf.add(tf.mul(base, positive), tf.sub(1, positive));
    return tf.mul(tf.pow(safe, gamma), positive);
  });
}
