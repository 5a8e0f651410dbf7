import type { RgbImage } from '@wsss/core';

const { abs, floor, max, min, trunc } = Math;

/** Fixed-point precision of PIL's 8-bit resampling (`PRECISION_BITS = 32 - 8 - 2`). */
const PRECISION = 2 ** 22;

/**
 * Resizes an 8-bit RGB image with a bicubic filter exactly as PIL does (`Image.resize(size, BICUBIC)`): a separable
 * convolution (horizontal pass, rounded to 8 bits, then vertical) with the Keys kernel a = -0.5, whose support is
 * widened by the scale factor when shrinking (antialiasing), pixel centres at +0.5, fixed-point coefficients with
 * 22 fractional bits. psa builds its multi-scale CAM inputs this way; tfjs has no bicubic resize.
 */
export function resizeBicubic(image: RgbImage, outWidth: number, outHeight: number): RgbImage {
  if (!(outWidth >= 1 && outHeight >= 1)) {
    throw new Error(`resizeBicubic: output size must be >= 1, got ${outWidth}x${outHeight}`);
  }
  let data = image.data;
  if (outWidth !== image.width) data = resample1d(data, image.width, image.height, outWidth, true);
  if (outHeight !== image.height) data = resample1d(data, outWidth, image.height, outHeight, false);
  return { width: outWidth, height: outHeight, channels: 3, data: data === image.data ? data.slice() : data };
}

function cubic(x: number): number {
  const a = -0.5;
  const t = abs(x);
  if (t < 1) return ((a + 2) * t - (a + 3)) * t * t + 1;
  if (t < 2) return (((t - 5) * t + 8) * t - 4) * a;
  return 0;
}

/** PIL's `precompute_coeffs` + `normalize_coeffs_8bpc` for one output position. */
function coefficients(o: number, inSize: number, scale: number): { from: number; k: number[] } {
  const filterScale = max(scale, 1);
  const support = 2 * filterScale;
  const centre = (o + 0.5) * scale;
  const from = max(0, trunc(centre - support + 0.5));
  const to = min(inSize, trunc(centre + support + 0.5));
  const raw: number[] = [];
  let total = 0;
  for (let i = from; i < to; i++) {
    const w = cubic((i - centre + 0.5) / filterScale);
    raw.push(w);
    total += w;
  }
  const k = raw.map((w) => {
    const v = (total !== 0 ? w / total : 0) * PRECISION;
    return v < 0 ? trunc(v - 0.5) : trunc(v + 0.5);
  });
  return { from, k };
}

function resample1d(
  src: Uint8Array,
  width: number,
  height: number,
  outSize: number,
  alongWidth: boolean,
): Uint8Array {
  const inSize = alongWidth ? width : height;
  const scale = inSize / outSize;
  const outWidth = alongWidth ? outSize : width;
  const out = new Uint8Array((alongWidth ? outSize * height : width * outSize) * 3);
  const lines = alongWidth ? height : width;
  for (let o = 0; o < outSize; o++) {
    const { from, k } = coefficients(o, inSize, scale);
    for (let line = 0; line < lines; line++) {
      let r = PRECISION / 2;
      let g = PRECISION / 2;
      let b = PRECISION / 2;
      for (let j = 0; j < k.length; j++) {
        const i = from + j;
        const s = 3 * (alongWidth ? line * width + i : i * width + line);
        r += src[s] * k[j];
        g += src[s + 1] * k[j];
        b += src[s + 2] * k[j];
      }
      const d = 3 * (alongWidth ? line * outWidth + o : o * outWidth + line);
      out[d] = clip8(r);
      out[d + 1] = clip8(g);
      out[d + 2] = clip8(b);
    }
  }
  return out;
}

function clip8(fixed: number): number {
  const v = floor(fixed / PRECISION);
  return max(0, min(255, v));
}
