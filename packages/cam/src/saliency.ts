import type { RgbImage } from '@wsss/core';

/** sRGB 0..255 -> CIE L*a*b* (D65 white), per pixel: [H*W*3]. */
export function rgbToLab(rgb: ArrayLike<number>): Float32Array {
  if (rgb.length % 3 !== 0) throw new Error(`rgbToLab: expected H*W*3 values, got ${rgb.length}`);
  const linear = (v: number) => {
    const c = v / 255;
    return c <= 0.04045 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
  };
  const f = (t: number) => (t > 216 / 24389 ? Math.cbrt(t) : (24389 / 27 / 116) * t + 16 / 116);
  const out = new Float32Array(rgb.length);
  for (let i = 0; i < rgb.length; i += 3) {
    const r = linear(rgb[i]);
    const g = linear(rgb[i + 1]);
    const b = linear(rgb[i + 2]);
    const x = (0.4124564 * r + 0.3575761 * g + 0.1804375 * b) / 0.95047;
    const y = 0.2126729 * r + 0.7151522 * g + 0.072175 * b;
    const z = (0.0193339 * r + 0.119192 * g + 0.9503041 * b) / 1.08883;
    const fx = f(x);
    const fy = f(y);
    const fz = f(z);
    out[i] = 116 * fy - 16;
    out[i + 1] = 500 * (fx - fy);
    out[i + 2] = 200 * (fy - fz);
  }
  return out;
}

/** The 5-tap binomial filter [1 4 6 4 1] / 16 along rows and columns (edges replicated). */
function binomialBlur(lab: Float32Array, width: number, height: number): Float32Array {
  const taps = [1 / 16, 4 / 16, 6 / 16, 4 / 16, 1 / 16];
  const clamp = (v: number, n: number) => Math.min(n - 1, Math.max(0, v));
  const rows = new Float32Array(lab.length);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      for (let c = 0; c < 3; c++) {
        let sum = 0;
        for (let k = -2; k <= 2; k++) sum += taps[k + 2] * lab[(y * width + clamp(x + k, width)) * 3 + c];
        rows[(y * width + x) * 3 + c] = sum;
      }
    }
  }
  const out = new Float32Array(lab.length);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      for (let c = 0; c < 3; c++) {
        let sum = 0;
        for (let k = -2; k <= 2; k++) sum += taps[k + 2] * rows[(clamp(y + k, height) * width + x) * 3 + c];
        out[(y * width + x) * 3 + c] = sum;
      }
    }
  }
  return out;
}

/**
 * Frequency-tuned salient-region detection (Achanta, Hemami, Estrada, Süsstrunk, CVPR 2009), the unsupervised
 * saliency a pipeline falls back to when no saliency maps are given:
 *
 *   S(x, y) = || I_mu - I_blur(x, y) ||_2   in CIE L*a*b*,
 *
 * I_mu the image's mean colour, I_blur the image smoothed by a 5x5 binomial filter. Scaled to [0, 1] by `scale`:
 * 'max' divides by the maximum (the paper's maps); 'adaptive' divides by 4 mean(S) and clips at 1, so that 0.5 is
 * the paper's adaptive threshold `2 mean(S)` for its salient regions (a calibration for rules with fixed thresholds,
 * such as AuxSegNet's fusion). A uniform image is 0 everywhere.
 *
 * Shape: H x W RGB image -> [H * W].
 *
 * @example
 * ```ts
 * const saliency = frequencyTunedSaliency(await readImage('photo.jpg')); // Float32Array, H * W values in [0, 1]
 * const regions = frequencyTunedSaliency(photo, { scale: 'adaptive' }).map((s) => (s > 0.5 ? 1 : 0));
 * ```
 */
export function frequencyTunedSaliency(
  image: RgbImage,
  options: { scale?: 'max' | 'adaptive' } = {},
): Float32Array {
  const scale = options.scale ?? 'max';
  if (scale !== 'max' && scale !== 'adaptive')
    throw new Error(`frequencyTunedSaliency: scale must be 'max' or 'adaptive', got '${scale}'`);
  const { width, height, data } = image;
  if (data.length !== width * height * 3)
    throw new Error(
      `frequencyTunedSaliency: image must hold H x W x 3 = ${width * height * 3} values, got ${data.length}`,
    );
  const lab = rgbToLab(data);
  const pixels = width * height;
  const mean = [0, 0, 0];
  for (let i = 0; i < pixels; i++) for (let c = 0; c < 3; c++) mean[c] += lab[i * 3 + c] / pixels;
  const blurred = binomialBlur(lab, width, height);
  const out = new Float32Array(pixels);
  let max = 0;
  for (let i = 0; i < pixels; i++) {
    let d = 0;
    for (let c = 0; c < 3; c++) d += (blurred[i * 3 + c] - mean[c]) ** 2;
    out[i] = Math.sqrt(d);
    max = Math.max(max, out[i]);
  }
  // below 1e-3 Lab units the image is uniform up to rounding: nothing stands out
  if (max <= 1e-3) return out.fill(0);
  const divisor = scale === 'max' ? max : (4 * out.reduce((a, b) => a + b, 0)) / pixels;
  for (let i = 0; i < pixels; i++) out[i] = Math.min(1, out[i] / divisor);
  return out;
}

export interface HeuristicFusionOptions {
  /** A pixel is an object by its CAM where the largest CAM exceeds this (AuxSegNet: 0.2). */
  camThreshold?: number;
  /** A pixel is an object by its saliency where the saliency exceeds this (AuxSegNet: 0.06). */
  saliencyThreshold?: number;
  /** Label of the pixels where CAM and saliency disagree. Default 255. */
  ignoreIndex?: number;
}

/**
 * AuxSegNet's heuristic fusion of CAMs and saliency into pseudo labels (`imutils.py`, anchors digest section 10.3):
 * where both the CAM (max_c CAM_c > camThreshold) and the saliency (s > saliencyThreshold) see an object, the CAM's
 * argmax class; where neither does, background 0; where exactly one does, `ignoreIndex`. The CAMs are those of the
 * image's labelled classes (max-normalised), channel c becoming mask value `classValues[c]`.
 *
 * Shape: cams [N x K] (pixel-major, as H x W x K), saliency [N] in [0, 1] -> labels [N].
 *
 * @example
 * ```ts
 * const labels = heuristicFusion(cams, [8, 15], frequencyTunedSaliency(image)); // cat, person; 0 background
 * ```
 */
export function heuristicFusion(
  cams: ArrayLike<number>,
  classValues: readonly number[],
  saliency: ArrayLike<number>,
  options: HeuristicFusionOptions = {},
): Uint8Array {
  const { camThreshold = 0.2, saliencyThreshold = 0.06, ignoreIndex = 255 } = options;
  const k = classValues.length;
  const pixels = saliency.length;
  if (cams.length !== pixels * k) {
    throw new Error(
      `heuristicFusion: cams must be [N x K] = ${pixels} x ${k} (one value per pixel and class), got ${cams.length}`,
    );
  }
  const out = new Uint8Array(pixels);
  for (let i = 0; i < pixels; i++) {
    let best = -1;
    let max = Number.NEGATIVE_INFINITY;
    for (let c = 0; c < k; c++) {
      if (cams[i * k + c] > max) {
        max = cams[i * k + c];
        best = c;
      }
    }
    const byCam = best >= 0 && max > camThreshold;
    const bySaliency = saliency[i] > saliencyThreshold;
    out[i] = byCam && bySaliency ? classValues[best] : byCam || bySaliency ? ignoreIndex : 0;
  }
  return out;
}
