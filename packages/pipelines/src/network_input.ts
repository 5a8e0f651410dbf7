import { imageToInput, type Normalization, type RgbImage, tf } from '@wsss/core';

/**
 * An image as a network input [1, H', W', 3] at `scale` times its size (H' = round(scale H), at least 1; bilinear),
 * normalised for the backbone's weights.
 */
export function scaledInput(image: RgbImage, normalization: Normalization, scale: number): tf.Tensor4D {
  return tf.tidy(() => {
    const x = imageToInput(image, normalization);
    if (scale === 1) return x;
    const size: [number, number] = [
      Math.max(1, Math.round(image.height * scale)),
      Math.max(1, Math.round(image.width * scale)),
    ];
    return tf.image.resizeBilinear(x, size);
  });
}
