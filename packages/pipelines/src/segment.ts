import { type LabelMap, type RgbImage, tf } from '@wsss/core';
import { type CrfPresetName, denseCrf } from '@wsss/crf';
import type { SegmentationNetwork } from '@wsss/models';

export interface SegmentOptions {
  /** Input scales relative to the image, averaged. */
  scales: readonly number[];
  flip: boolean;
  /** Dense CRF with this preset on the probabilities before the argmax; false for none. */
  crf: false | CrfPresetName;
  /**
   * Mask classes allowed in the prediction (1 allowed): the others' probabilities are zeroed before the argmax, e.g.
   * the image-level labels plus the background ("rfpc": removing false-positive classes). Default: all.
   */
  allowed?: ArrayLike<number>;
}

/**
 * The label map of an image's class probabilities [H, W, C] (e.g. `net.predict(image)`): the optional CRF on them,
 * the classes outside `allowed` zeroed, then the argmax. The probabilities stay the caller's.
 */
export async function labelsFromProbabilities(
  probabilities: tf.Tensor3D,
  image: RgbImage,
  options: Pick<SegmentOptions, 'crf' | 'allowed'>,
): Promise<LabelMap> {
  const numClasses = probabilities.shape[2];
  if (options.allowed && options.allowed.length !== numClasses)
    throw new Error(
      `segment: allowed must have one entry per class (${numClasses}), got ${options.allowed.length}`,
    );
  const kept = options.allowed
    ? tf.tidy(
        () => tf.mul(probabilities, tf.tensor1d(Array.from(options.allowed!), 'float32')) as tf.Tensor3D,
      )
    : probabilities;
  let labels: Uint8Array;
  try {
    if (options.crf) {
      const pixels = image.width * image.height;
      const pixelMajor = await kept.data();
      const labelMajor = new Float32Array(numClasses * pixels);
      for (let p = 0; p < pixels; p++) {
        for (let c = 0; c < numClasses; c++) labelMajor[c * pixels + p] = pixelMajor[p * numClasses + c];
      }
      labels = (await denseCrf(image, { probabilities: labelMajor }, options.crf)).labels;
    } else {
      const argmax = tf.argMax(kept, 2);
      labels = Uint8Array.from(await argmax.data());
      argmax.dispose();
    }
  } finally {
    if (kept !== probabilities) kept.dispose();
  }
  return { width: image.width, height: image.height, data: labels };
}

/** One image through a segmentation network (at the scales, flips, optional CRF): its label map. */
export async function segment(
  net: SegmentationNetwork,
  image: RgbImage,
  options: SegmentOptions,
): Promise<LabelMap> {
  const probabilities = net.predict(image, { scales: options.scales, flip: options.flip });
  try {
    return await labelsFromProbabilities(probabilities, image, options);
  } finally {
    probabilities.dispose();
  }
}
