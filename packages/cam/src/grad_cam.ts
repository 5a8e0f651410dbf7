import { tf } from '@wsss/core';

/**
 * Grad-CAM (Selvaraju et al. 2017) for networks without a GAP classifier:
 * `CAM_c = ReLU(Σ_k α_k^c A_k)` with `α_k^c = mean_{x,y} ∂y_c / ∂A_k(x, y)`.
 *
 * Shape: features A [1, h, w, K] (the layer to explain), `head` maps them to logits [1, C] -> [h, w].
 *
 * ```ts
 * const { features } = backbone.forward(image);
 * const cam = gradCam(features, (f) => head.forward(f), 7);
 * ```
 */
export function gradCam(
  features: tf.Tensor4D,
  head: (features: tf.Tensor4D) => tf.Tensor2D,
  classIndex: number,
): tf.Tensor2D {
  if (features.rank !== 4 || features.shape[0] !== 1) {
    throw new Error(`gradCam: features must be [1, h, w, K], got [${features.shape}]`);
  }
  return tf.tidy(() => {
    const grads = tf.grad((a: tf.Tensor) => {
      const logits = head(a as tf.Tensor4D);
      if (!(classIndex >= 0 && classIndex < logits.shape[1])) {
        throw new Error(`gradCam: classIndex ${classIndex} is outside 0..${logits.shape[1] - 1}`);
      }
      return logits.slice([0, classIndex], [1, 1]).sum();
    })(features);
    const alpha = tf.mean(grads, [1, 2], true);
    return tf.relu(tf.sum(tf.mul(alpha, features), 3)).squeeze([0]) as tf.Tensor2D;
  });
}
