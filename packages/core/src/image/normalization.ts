import { tf } from '../tf';
import type { RgbImage } from './types';

/**
 * Per-channel input normalisation of 0..255 RGB, `(x / 255 - mean) / std`: the one definition of a network's input
 * scaling in the project (a backbone declares its own; batches, multi-scale CAMs and inference apply it).
 */
export interface Normalization {
  readonly mean: readonly [number, number, number];
  readonly std: readonly [number, number, number];
}

/** ResNet-38 / ResNet-50 (psa, IRN, RRM, AuxSegNet): ImageNet statistics. */
export const IMAGENET_NORMALIZATION: Normalization = {
  mean: [0.485, 0.456, 0.406],
  std: [0.229, 0.224, 0.225],
};

/** MobileNetV2 (Keras / TF.js weights): `x / 127.5 - 1`. */
export const MOBILENET_NORMALIZATION: Normalization = { mean: [0.5, 0.5, 0.5], std: [0.5, 0.5, 0.5] };

/**
 * Normalised network input from 0..255 RGB values. Shape: [..., 3] -> same, float32.
 *
 * ```ts
 * const x = normalizeImages(tf.tensor4d(pixels, [1, h, w, 3]), MOBILENET_NORMALIZATION); // [-1, 1]
 * ```
 */
export function normalizeImages<T extends tf.Tensor>(images: T, normalization: Normalization): T {
  if (images.shape[images.rank - 1] !== 3) {
    throw new Error(`normalizeImages: images must end in 3 RGB channels, got [${images.shape}]`);
  }
  const { mean, std } = normalization;
  return tf.tidy(
    () =>
      tf.div(
        tf.sub(tf.div(tf.cast(images, 'float32'), 255), tf.tensor1d([...mean])),
        tf.tensor1d([...std]),
      ) as T,
  );
}

/**
 * Normalised values of interleaved 0..255 RGB bytes into `out` (e.g. one image of a batch at `offset`), the same
 * arithmetic as {@link normalizeImages} for code that fills typed arrays.
 */
export function normalizePixels(
  data: ArrayLike<number>,
  normalization: Normalization,
  out: Float32Array = new Float32Array(data.length),
  offset = 0,
): Float32Array {
  const { mean, std } = normalization;
  for (let i = 0; i < data.length; i++) {
    const c = i % 3;
    out[offset + i] = (data[i] / 255 - mean[c]) / std[c];
  }
  return out;
}

/** One image as a normalised network input batch [1, H, W, 3]. */
export function imageToInput(image: RgbImage, normalization: Normalization): tf.Tensor4D {
  return tf.tensor4d(normalizePixels(image.data, normalization), [1, image.height, image.width, 3]);
}
