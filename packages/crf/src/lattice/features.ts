/** An interleaved RGB image, height x width x 3 uint8. */
export interface RgbBytes {
  width: number;
  height: number;
  data: Uint8Array | Uint8ClampedArray;
}

/** Throws unless `image.data` is uint8 RGB of height x width x 3 bytes (`where` names the caller). */
export function checkRgbBytes(image: RgbBytes, where: string): void {
  if (
    !((image.data as unknown) instanceof Uint8Array || (image.data as unknown) instanceof Uint8ClampedArray)
  ) {
    throw new Error(`${where}: image.data must be a Uint8Array of RGB bytes (height x width x 3)`);
  }
  if (image.width * image.height < 1 || image.data.length !== image.width * image.height * 3) {
    throw new Error(
      `${where}: image must be height x width x 3 = ${image.height} x ${image.width} x 3 bytes, got ${image.data.length}`,
    );
  }
}

/**
 * Lattice features (x / sx, y / sy, r / sr, g / sg, b / sb) of every pixel, raw 0..255 colours, [H*W x 5], divided in
 * float32 as pydensecrf (and as the mean-field kernels compute them).
 */
export function bilateralFeatures(
  image: RgbBytes,
  xy: readonly number[],
  rgb: readonly number[],
): Float32Array {
  const [sx, sy] = xy.map(Math.fround);
  const [sr, sg, sb] = rgb.map(Math.fround);
  const { width, height, data } = image;
  const features = new Float32Array(width * height * 5);
  for (let y = 0, i = 0; y < height; y++) {
    for (let x = 0; x < width; x++, i++) {
      features[5 * i] = x / sx;
      features[5 * i + 1] = y / sy;
      features[5 * i + 2] = data[3 * i] / sr;
      features[5 * i + 3] = data[3 * i + 1] / sg;
      features[5 * i + 4] = data[3 * i + 2] / sb;
    }
  }
  return features;
}
