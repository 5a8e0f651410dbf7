import { tf } from '@wsss/core';
import type { RrmNetwork } from './network';

export interface OnlineCams {
  /** [B, H, W, L] CAMs of the present classes, each max-normalised (absent and dropped classes 0). */
  cams: tf.Tensor4D;
  /** [B, L] 1 where a class is in the image labels and the classifier scores it at least `minClassScore`. */
  present: tf.Tensor2D;
}

/**
 * RRM's CAMs inside training (anchors digest section 2.3): the batch at each scale (bilinear), ReLU of the
 * classifier's activation maps resized to the scale-1 feature size and averaged over scales, upsampled bilinearly to
 * `outputSize` (default the input's), multiplied by the labels and max-normalised per class (+1e-5). Classes the
 * classifier scores (sigmoid of the scale-1 logits) below `minClassScore` are dropped (AA/LR paper section 4.1).
 * Nothing is differentiated. `scales` must include 1.
 *
 * Shape: images [B, H, W, 3] normalised, labels [B, L] -> cams [B, H', W', L], present [B, L].
 */
export function onlineCams(
  net: RrmNetwork,
  images: tf.Tensor4D,
  labels: tf.Tensor2D,
  options: {
    scales: readonly number[];
    minClassScore: number;
    outputSize?: [number, number];
    /** The backbone's features of `images` when already computed (scale 1). */
    features?: tf.Tensor4D;
  },
): OnlineCams {
  const { scales, minClassScore } = options;
  if (!scales.includes(1))
    throw new Error(`onlineCams: scales must include 1 (the class scores come from it), got [${scales}]`);
  const [, height, width] = images.shape;
  const outputSize = options.outputSize ?? [height, width];
  return tf.tidy(() => {
    // the classification branch only: the segmentation branch plays no part in the CAMs
    const features = options.features ?? net.backbone.forward(images).features;
    const activationMaps = net.classifier.activationMaps(features);
    const classLogits = tf.mean(activationMaps, [1, 2]) as tf.Tensor2D;
    const size: [number, number] = [activationMaps.shape[1], activationMaps.shape[2]];
    let sum = tf.relu(activationMaps) as tf.Tensor4D;
    for (const scale of scales) {
      if (scale === 1) continue;
      const h = Math.max(1, Math.round(height * scale));
      const w = Math.max(1, Math.round(width * scale));
      const x = tf.image.resizeBilinear(images, [h, w], false, true);
      const maps = tf.relu(net.classifier.activationMaps(net.backbone.forward(x).features)) as tf.Tensor4D;
      sum = tf.add(sum, tf.image.resizeBilinear(maps, size, false, true)) as tf.Tensor4D;
    }
    const mean = tf.div(sum, scales.length) as tf.Tensor4D;
    const up = tf.image.resizeBilinear(mean, outputSize, false, true);
    const present = tf.mul(
      labels,
      tf.cast(tf.greaterEqual(tf.sigmoid(classLogits), minClassScore), 'float32'),
    ) as tf.Tensor2D;
    const [b, , , l] = up.shape;
    const masked = tf.mul(up, tf.reshape(present, [b, 1, 1, l]));
    const max = tf.max(masked, [1, 2], true);
    return { cams: tf.div(masked, tf.add(max, 1e-5)) as tf.Tensor4D, present };
  });
}
