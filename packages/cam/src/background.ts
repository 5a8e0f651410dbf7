import { tf } from '@wsss/core';

/**
 * How the background gets a score next to the normalised CAMs:
 * - `{ threshold: t }`: a constant map t (psa's quick labels: 0.2; IRN's CAM evaluation: 0.15; 1STAGE: 0.1);
 * - `{ alpha: a }`: `(1 - max_c cam_c)^a` (psa: 4 for "low" and 32 for "high" confidence, 16 for random walk).
 */
export type BackgroundMode = { threshold: number } | { alpha: number };

/**
 * Background score map. Shape: cams [H, W, C] (max-normalised) -> [H, W, 1].
 *
 * ```ts
 * backgroundScore(cams, { alpha: 32 }); // (1 - max)^32
 * ```
 */
export function backgroundScore(cams: tf.Tensor3D, mode: BackgroundMode): tf.Tensor3D {
  if (cams.rank !== 3) throw new Error(`backgroundScore: cams must be [H, W, C], got [${cams.shape}]`);
  return tf.tidy(() => {
    if ('threshold' in mode) return tf.fill([cams.shape[0], cams.shape[1], 1], mode.threshold) as tf.Tensor3D;
    if (!(mode.alpha > 0)) throw new Error(`backgroundScore: alpha must be > 0, got ${mode.alpha}`);
    const top = tf.max(cams, 2, true);
    return tf.pow(tf.relu(tf.sub(1, top)), mode.alpha) as tf.Tensor3D;
  });
}

/** [bg, cams] along the channels. Shape: cams [H, W, C] -> [H, W, 1 + C]. */
export function withBackground(cams: tf.Tensor3D, mode: BackgroundMode): tf.Tensor3D {
  return tf.tidy(() => tf.concat([backgroundScore(cams, mode), cams], 2));
}
