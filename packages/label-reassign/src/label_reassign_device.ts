import { stopGradient, tf, withoutGradient } from '@wsss/core';
import { labelReassignModulation } from './modulation';

/** The options of labelReassignLoss, resolved (see there). */
export interface ResolvedLabelReassignOptions {
  margin: number;
  gamma: number;
  assignment: 'reassign' | 'label';
  includeAssignedCentroid: boolean;
  balance: boolean;
  confidence: 'probability' | 'uniform';
  backgroundIndex: number;
  ignoreIndex: number;
}

/**
 * labelReassignLoss with tf ops only, on the tensors' device: nothing is read back (WebGPU reads only
 * asynchronously). The same loss as the host path, over `classes` channels instead of each image's compacted class
 * list: classes absent from an image have no centroid and take no part in the argmaxes or the hinge.
 *
 * Shape: embeddings [B, H, W, D], labels [B, H, W] (values < `classes` or `ignoreIndex`), probabilities [B, H, W, C]
 * (or undefined with `confidence: 'uniform'`) -> scalar.
 */
export function labelReassignLossOnDevice(
  embeddings: tf.Tensor4D,
  labels: tf.Tensor3D,
  probabilities: tf.Tensor4D | undefined,
  classes: number,
  options: ResolvedLabelReassignOptions,
): tf.Scalar {
  const {
    margin,
    gamma,
    assignment,
    includeAssignedCentroid,
    balance,
    confidence,
    backgroundIndex,
    ignoreIndex,
  } = options;
  const [b, h, w, d] = embeddings.shape;
  const n = h * w;
  return tf.tidy(() => {
    const x = tf.reshape(embeddings, [b, n, d]) as tf.Tensor3D;
    const label = tf.reshape(tf.cast(labels, 'int32'), [b, n]) as tf.Tensor2D;
    const valid = tf.cast(tf.notEqual(label, ignoreIndex), 'float32') as tf.Tensor2D; // [B, N]
    const onehot = tf.mul(tf.oneHot(label, classes), tf.expandDims(valid, 2)) as tf.Tensor3D; // [B, N, C]
    // beta_x of eq. 13: the prediction's probability of the label (a constant), or 1
    const beta =
      confidence === 'probability'
        ? (tf.mul(onehot, stopGradient(tf.reshape(probabilities!, [b, n, classes]))) as tf.Tensor3D)
        : onehot;
    const weightSum = tf.sum(beta, 1); // [B, C]
    const present = tf.cast(tf.greater(tf.sum(onehot, 1), 0), 'float32') as tf.Tensor2D; // [B, C]
    const centroids = tf.div(tf.matMul(beta, x, true, false), tf.add(tf.expandDims(weightSum, 2), 1e-12));
    const unit = (t: tf.Tensor) => tf.div(t, tf.sqrt(tf.add(tf.sum(tf.square(t), -1, true), 1e-8)));
    const s = tf.matMul(unit(x), unit(centroids), false, true) as tf.Tensor3D; // [B, N, C]
    const presentRows = tf.expandDims(present, 1); // [B, 1, C]
    // the discrete choices (assigned and second centroid, background rows), off the tape as in the host path
    const choices = withoutGradient(s, (sv) => {
      // below any cosine: absent classes never win an argmax
      const masked = tf.add(tf.mul(sv, presentRows), tf.mul(tf.sub(1, presentRows), -10));
      const own =
        assignment === 'reassign' ? tf.oneHot(tf.argMax(masked, 2), classes) : tf.oneHot(label, classes);
      const second = tf.oneHot(tf.argMax(tf.sub(masked, tf.mul(own, 100)), 2), classes);
      const background = tf.mul(tf.cast(tf.equal(tf.argMax(own, 2), backgroundIndex), 'float32'), valid);
      return tf.concat(
        [tf.cast(own, 'float32'), tf.cast(second, 'float32'), tf.expandDims(background, 2)],
        2,
      );
    });
    const own = tf.slice(choices, [0, 0, 0], [b, n, classes]);
    const second = tf.slice(choices, [0, 0, classes], [b, n, classes]);
    const isBackground = tf.reshape(tf.slice(choices, [0, 0, 2 * classes], [b, n, 1]), [b, n]);
    const si = tf.sum(tf.mul(s, own), 2); // [B, N]
    const sj = tf.sum(tf.mul(s, second), 2);
    const others = includeAssignedCentroid ? presentRows : tf.mul(presentRows, tf.sub(1, own));
    const hinge = tf.sum(tf.mul(tf.relu(tf.sub(tf.add(s, margin), tf.expandDims(si, 2))), others), 2);
    const alpha = labelReassignModulation(si, sj, gamma);
    // per image: mean over E_bg + mean over E_fg (or one mean), over the images with at least two classes
    const usedImage = tf.cast(tf.greaterEqual(tf.sum(present, 1), 2), 'float32'); // [B]
    const used = tf.maximum(tf.sum(usedImage), 1);
    const bgCount = tf.sum(isBackground, 1, true);
    const allCount = tf.sum(valid, 1, true);
    const count = balance
      ? tf.add(tf.mul(isBackground, bgCount), tf.mul(tf.sub(valid, isBackground), tf.sub(allCount, bgCount)))
      : tf.mul(valid, allCount);
    const rowWeight = tf.div(tf.mul(valid, tf.expandDims(usedImage, 1)), tf.mul(tf.maximum(count, 1), used));
    return tf.sum(tf.mul(tf.mul(alpha, hinge), rowWeight)) as tf.Scalar;
  });
}
