import type { RgbImage } from '@wsss/core';

const { max, min, round } = Math;

/** The "jet" colour map: 0 -> dark blue, 0.5 -> green-yellow, 1 -> dark red. */
export function jet(value: number): [number, number, number] {
  const v = max(0, min(1, value));
  const channel = (offset: number) => max(0, min(1, 1.5 - Math.abs(4 * v - offset)));
  return [round(255 * channel(3)), round(255 * channel(2)), round(255 * channel(1))];
}

/**
 * A CAM heatmap blended over its image: `(1 - alpha) * image + alpha * jet(cam)`.
 * Shape: cam H*W values in [0, 1], row-major, same size as the image.
 */
export function camOverlay(image: RgbImage, cam: ArrayLike<number>, alpha = 0.5): RgbImage {
  const n = image.width * image.height;
  if (cam.length !== n)
    throw new Error(`camOverlay: cam has ${cam.length} values, the image ${image.width}x${image.height}`);
  const data = new Uint8Array(n * 3);
  for (let i = 0; i < n; i++) {
    const c = jet(cam[i]);
    for (let k = 0; k < 3; k++) data[3 * i + k] = round((1 - alpha) * image.data[3 * i + k] + alpha * c[k]);
  }
  return { width: image.width, height: image.height, channels: 3, data };
}
