import type { LabelMap, RgbImage, Rng } from '@wsss/core';
import { hsvToRgb, rgbToHsv } from './colour';
import type { FloatMap } from './types';

// Math functions hoisted to module constants: global lookups are ~10x slower inside vm contexts (jest).
const { floor, max, min, round } = Math;

/** What `augment` transforms: one image and any label maps and float maps of the same size. */
export interface Augmentable {
  image: RgbImage;
  /** Nearest-neighbour resampled, padded with `labelPadValue` (masks, pseudo labels). */
  labelMaps?: Record<string, LabelMap>;
  /** Bilinear resampled, padded with 0 (saliency maps, scores). */
  floatMaps?: Record<string, FloatMap>;
}

export interface ColorJitter {
  brightness?: number;
  contrast?: number;
  saturation?: number;
  /** Hue shift range as a fraction of the colour wheel, at most 0.5. */
  hue?: number;
}

export interface AugmentOptions {
  /** Random rescale factor range; default [0.7, 1.3] (RRM, AuxSegNet). `null` keeps the size. */
  scaleRange?: [number, number] | null;
  /** Random horizontal flip with probability 0.5; default true. */
  flip?: boolean;
  /** Random crop to this size (square or [height, width]); smaller images are padded first. `null`: no crop. */
  cropSize?: number | [number, number] | null;
  /**
   * Pad colour of the image (0..255 RGB). Default: the ImageNet mean (124, 116, 104), i.e. 0 in normalised space,
   * as the references pad.
   */
  imagePadValue?: [number, number, number];
  /** Pad value of label maps. Default 255 (ignore); AuxSegNet pads with 0 (background). */
  labelPadValue?: number;
  /** Optional colour jitter (psa: brightness 0.3, contrast 0.3, saturation 0.3, hue 0.1). Default none. */
  colorJitter?: ColorJitter | null;
}

/** The geometric part of one augmentation, shared by the image and every map that goes with it. */
export interface Geometry {
  scale: number;
  flip: boolean;
  /** Offsets of the crop window in the rescaled image; negative = padding before the image. */
  top: number;
  left: number;
  outHeight: number;
  outWidth: number;
}

export const IMAGENET_MEAN_RGB: [number, number, number] = [124, 116, 104];

/**
 * Draws one geometry: scale ~ U(scaleRange), flip with p = 0.5, and a crop window placed uniformly over the
 * rescaled image (or, when the image is smaller than the crop, the image placed uniformly in the window).
 * `scale` may be fixed by the caller (one scale per batch, as RRM and AuxSegNet do).
 */
export function sampleGeometry(
  rng: Rng,
  height: number,
  width: number,
  options: AugmentOptions,
  scale?: number,
): Geometry {
  const range = options.scaleRange === undefined ? ([0.7, 1.3] as [number, number]) : options.scaleRange;
  const s = scale ?? (range ? rng.uniform(range[0], range[1]) : 1);
  const flip = (options.flip ?? true) && rng.bool(0.5);
  const h = max(1, round(height * s));
  const w = max(1, round(width * s));
  const crop = options.cropSize;
  if (crop == null) return { scale: s, flip, top: 0, left: 0, outHeight: h, outWidth: w };
  const [ch, cw] = typeof crop === 'number' ? [crop, crop] : crop;
  const top = h >= ch ? rng.int(0, h - ch + 1) : -rng.int(0, ch - h + 1);
  const left = w >= cw ? rng.int(0, w - cw + 1) : -rng.int(0, cw - w + 1);
  return { scale: s, flip, top, left, outHeight: ch, outWidth: cw };
}

/**
 * Applies the WSSS training augmentation of the references (digest §1): random rescale (bilinear for the image and
 * float maps, nearest for label maps), horizontal flip, random crop with padding (image: mean colour; labels: 255
 * unless configured), optional colour jitter on the image only. Every map gets the same geometric transform.
 *
 * ```ts
 * const rng = new Rng(1);
 * const out = augment({ image, labelMaps: { mask } }, rng, { cropSize: 321 });
 * ```
 */
export function augment(
  input: Augmentable,
  rng: Rng,
  options: AugmentOptions = {},
  scale?: number,
): Augmentable {
  const { width, height } = input.image;
  for (const [key, map] of [
    ...Object.entries(input.labelMaps ?? {}),
    ...Object.entries(input.floatMaps ?? {}),
  ]) {
    if (map.width !== width || map.height !== height) {
      throw new Error(
        `augment: map '${key}' is ${map.width}x${map.height} but the image is ${width}x${height}`,
      );
    }
  }
  const out = applyGeometry(input, sampleGeometry(rng, height, width, options, scale), options);
  if (options.colorJitter) jitterColours(out.image.data, options.colorJitter, rng);
  return out;
}

/**
 * One given geometry (rescale, flip, crop window) applied to an image and its maps: bilinear for the image and float
 * maps, nearest for label maps, padding as `options` say. What {@link augment} does after drawing the geometry, and
 * what deterministic crops use.
 */
export function applyGeometry(
  input: Augmentable,
  g: Geometry,
  options: Pick<AugmentOptions, 'imagePadValue' | 'labelPadValue'> = {},
): Augmentable {
  const { width, height } = input.image;
  const pad = options.imagePadValue ?? IMAGENET_MEAN_RGB;
  const image: RgbImage = {
    width: g.outWidth,
    height: g.outHeight,
    channels: 3,
    data: transform(input.image.data, 3, height, width, g, 'bilinear', pad, Uint8Array),
  };
  const labelPad = options.labelPadValue ?? 255;
  const labelMaps = mapValues(input.labelMaps, (m) => ({
    width: g.outWidth,
    height: g.outHeight,
    data: transform(m.data, 1, height, width, g, 'nearest', [labelPad], Uint8Array),
  }));
  const floatMaps = mapValues(input.floatMaps, (m) => ({
    width: g.outWidth,
    height: g.outHeight,
    data: transform(m.data, 1, height, width, g, 'bilinear', [0], Float32Array),
  }));
  return { image, labelMaps, floatMaps };
}

function mapValues<T, U>(
  record: Record<string, T> | undefined,
  fn: (v: T) => U,
): Record<string, U> | undefined {
  if (!record) return undefined;
  return Object.fromEntries(Object.entries(record).map(([k, v]) => [k, fn(v)]));
}

/**
 * Rescale + flip + crop in one pass: output pixel (y, x) reads the rescaled image at (y + top, x' + left) with
 * x' flipped, and the rescaled image samples the source like cv2.resize (half-pixel centres; nearest = floor).
 */
function transform<T extends Uint8Array | Float32Array>(
  src: T,
  channels: number,
  height: number,
  width: number,
  g: Geometry,
  mode: 'bilinear' | 'nearest',
  pad: number[],
  Out: new (n: number) => T,
): T {
  const scaledH = max(1, round(height * g.scale));
  const scaledW = max(1, round(width * g.scale));
  const sy = height / scaledH;
  const sx = width / scaledW;
  const out = new Out(g.outHeight * g.outWidth * channels);
  const integral = out instanceof Uint8Array;
  for (let y = 0; y < g.outHeight; y++) {
    const ry = y + g.top;
    for (let x = 0; x < g.outWidth; x++) {
      const rxUnflipped = x + g.left;
      const o = (y * g.outWidth + x) * channels;
      if (ry < 0 || ry >= scaledH || rxUnflipped < 0 || rxUnflipped >= scaledW) {
        for (let c = 0; c < channels; c++) out[o + c] = pad[c];
        continue;
      }
      const rx = g.flip ? scaledW - 1 - rxUnflipped : rxUnflipped;
      if (mode === 'nearest') {
        const iy = min(height - 1, floor(ry * sy));
        const ix = min(width - 1, floor(rx * sx));
        for (let c = 0; c < channels; c++) out[o + c] = src[(iy * width + ix) * channels + c];
        continue;
      }
      const fy = min(max((ry + 0.5) * sy - 0.5, 0), height - 1);
      const fx = min(max((rx + 0.5) * sx - 0.5, 0), width - 1);
      const y0 = floor(fy);
      const x0 = floor(fx);
      const y1 = min(y0 + 1, height - 1);
      const x1 = min(x0 + 1, width - 1);
      const wy = fy - y0;
      const wx = fx - x0;
      for (let c = 0; c < channels; c++) {
        const top =
          src[(y0 * width + x0) * channels + c] * (1 - wx) + src[(y0 * width + x1) * channels + c] * wx;
        const bottom =
          src[(y1 * width + x0) * channels + c] * (1 - wx) + src[(y1 * width + x1) * channels + c] * wx;
        const v = top * (1 - wy) + bottom * wy;
        out[o + c] = integral ? round(v) : v;
      }
    }
  }
  return out;
}

/** torchvision-style ColorJitter in a random order: brightness, contrast, saturation (factors), hue (shift). */
function jitterColours(data: Uint8Array, jitter: ColorJitter, rng: Rng): void {
  const ops: ((px: Float32Array) => void)[] = [];
  const factor = (amount = 0) => (amount > 0 ? rng.uniform(max(0, 1 - amount), 1 + amount) : 1);
  const b = factor(jitter.brightness);
  const c = factor(jitter.contrast);
  const s = factor(jitter.saturation);
  const h = jitter.hue ? rng.uniform(-min(jitter.hue, 0.5), min(jitter.hue, 0.5)) : 0;
  const px = Float32Array.from(data);
  if (b !== 1) {
    ops.push((p) => {
      for (let i = 0; i < p.length; i++) p[i] *= b;
    });
  }
  if (c !== 1) {
    ops.push((p) => {
      let grey = 0;
      for (let i = 0; i < p.length; i += 3) grey += 0.299 * p[i] + 0.587 * p[i + 1] + 0.114 * p[i + 2];
      grey /= p.length / 3;
      for (let i = 0; i < p.length; i++) p[i] = grey + c * (p[i] - grey);
    });
  }
  if (s !== 1) {
    ops.push((p) => {
      for (let i = 0; i < p.length; i += 3) {
        const grey = 0.299 * p[i] + 0.587 * p[i + 1] + 0.114 * p[i + 2];
        for (let k = 0; k < 3; k++) p[i + k] = grey + s * (p[i + k] - grey);
      }
    });
  }
  if (h !== 0) ops.push((p) => rotateHue(p, h));
  rng.shuffle(ops).forEach((op) => {
    op(px);
    for (let i = 0; i < px.length; i++) px[i] = max(0, min(255, px[i]));
  });
  for (let i = 0; i < data.length; i++) data[i] = round(px[i]);
}

/** Rotates hue by `shift` turns in HSV space. */
function rotateHue(p: Float32Array, shift: number): void {
  for (let i = 0; i < p.length; i += 3) {
    const [hue, sat, val] = rgbToHsv(p[i] / 255, p[i + 1] / 255, p[i + 2] / 255);
    const [r, g, b] = hsvToRgb(hue + shift, sat, val);
    p[i] = r * 255;
    p[i + 1] = g * 255;
    p[i + 2] = b * 255;
  }
}
