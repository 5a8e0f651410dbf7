import { Rng, vocPalette } from '@wsss/core';
import { hsvToRgb } from './colour';
import { labelsFromMask, resolveId, type Sample, type SegmentationDataset } from './types';

// Math functions hoisted to module constants: global lookups are ~10x slower inside vm contexts (jest).
const { abs, atan2, ceil, cos, floor, hypot, max, min, round, sin } = Math;

/** The object classes of the synthetic dataset, by shape; mask value = index + 1 (0 = background). */
export const SYNTHETIC_SHAPES = [
  'disc',
  'square',
  'triangle',
  'ring',
  'cross',
  'star',
  'hexagon',
  'diamond',
  'crescent',
  'ellipse',
] as const;

export interface SyntheticOptions {
  /** Number of images. Default 1000. */
  size?: number;
  /** Default 0. Image i depends only on (seed, i, the options), so any subset can be generated in any order. */
  seed?: number | string;
  /** Object classes, 1..10. Default 6. */
  numClasses?: number;
  /** Default 128. */
  height?: number;
  /** Default 128. */
  width?: number;
  /** Objects per image, drawn uniformly from [minObjects, maxObjects]. Defaults 1 and 3. */
  minObjects?: number;
  maxObjects?: number;
  /** Background clutter blobs per image (colours drawn from the object classes' palettes). Default 6. */
  clutter?: number;
  /**
   * An object class counts as present when at least this many of its pixels stay visible; smaller remnants of
   * hidden objects are marked 255 (ignore). Default 24.
   */
  minVisiblePixels?: number;
}

interface ObjectSpec {
  cls: number;
  cx: number;
  cy: number;
  radius: number;
  angle: number;
  aspect: number;
  colourA: [number, number, number];
  colourB: [number, number, number];
  phase: number;
}

/**
 * A procedurally generated WSSS dataset: K object classes that differ in shape, texture and colour statistics,
 * 1-3 objects per image that occlude each other, on textured, cluttered backgrounds whose blobs reuse the objects'
 * colours, so a classifier must look at shape and texture in the right place to succeed, and CAMs come out partial
 * as on real data. Masks are exact (255 only on the few visible pixels of almost hidden objects) and image-level
 * labels are derived from them, so they always agree. Deterministic: the same seed and options give the same bytes.
 *
 * ```ts
 * const data = createSyntheticDataset({ size: 1000, seed: 1 });
 * const { image, mask, labels } = await data.get(0); // 128x128, labels over the 6 shapes
 * ```
 */
export function createSyntheticDataset(options: SyntheticOptions = {}): SegmentationDataset & {
  /** Synchronous variant of `get`. */
  generate(index: number): Sample;
} {
  const size = options.size ?? 1000;
  const numClasses = options.numClasses ?? 6;
  const height = options.height ?? 128;
  const width = options.width ?? 128;
  const minObjects = options.minObjects ?? 1;
  const maxObjects = options.maxObjects ?? 3;
  const clutter = options.clutter ?? 6;
  const minVisible = options.minVisiblePixels ?? 24;
  if (!Number.isInteger(numClasses) || numClasses < 1 || numClasses > SYNTHETIC_SHAPES.length) {
    throw new Error(
      `createSyntheticDataset: numClasses must be 1..${SYNTHETIC_SHAPES.length}, got ${numClasses}`,
    );
  }
  if (!Number.isInteger(size) || size < 0)
    throw new Error(`createSyntheticDataset: size must be >= 0, got ${size}`);
  if (height < 16 || width < 16) {
    throw new Error(`createSyntheticDataset: height and width must be >= 16, got ${height}x${width}`);
  }
  if (minObjects < 1 || maxObjects < minObjects) {
    throw new Error(
      `createSyntheticDataset: need 1 <= minObjects <= maxObjects, got ${minObjects}, ${maxObjects}`,
    );
  }
  const seed = options.seed ?? 0;
  const name = `synthetic(seed=${seed},K=${numClasses},${height}x${width})`;
  const ids = Array.from({ length: size }, (_, i) => `synthetic_${String(i).padStart(6, '0')}`);
  const labelClasses = Array.from({ length: numClasses }, (_, k) => k + 1);
  const root = new Rng(seed);

  const generate = (index: number): Sample => {
    const id = resolveId({ name, ids }, index);
    const rng = root.fork(index);
    const image = new Float32Array(height * width * 3);
    const mask = new Uint8Array(height * width);
    paintBackground(image, height, width, rng);
    for (let i = 0; i < clutter; i++) paintClutter(image, height, width, numClasses, rng);
    const count = rng.int(minObjects, maxObjects + 1);
    for (let i = 0; i < count; i++)
      paintObject(image, mask, height, width, objectSpec(rng, numClasses, height, width));
    ignoreTinyRegions(mask, numClasses, minVisible);
    const data = new Uint8Array(image.length);
    for (let i = 0; i < image.length; i++)
      data[i] = image[i] <= 0 ? 0 : image[i] >= 255 ? 255 : round(image[i]);
    return {
      id,
      image: { width, height, channels: 3, data },
      mask: { width, height, data: mask },
      labels: labelsFromMask(mask, labelClasses),
    };
  };

  return {
    name,
    classNames: ['background', ...SYNTHETIC_SHAPES.slice(0, numClasses)],
    labelClasses,
    backgroundIndex: 0,
    ignoreIndex: 255,
    palette: vocPalette(),
    ids,
    hasMasks: true,
    generate,
    async imageLabels(id) {
      const index = ids.indexOf(id);
      if (index < 0) throw new Error(`${name}: unknown id ${id}`);
      return generate(index).labels;
    },
    async get(idOrIndex) {
      const index = typeof idOrIndex === 'number' ? idOrIndex : ids.indexOf(idOrIndex);
      if (index < 0) throw new Error(`${name}: unknown id ${idOrIndex}`);
      return generate(index);
    },
  };
}

/** Low-frequency colour field: a base colour plus a few random sinusoids, plus fine grain. */
function paintBackground(out: Float32Array, h: number, w: number, rng: Rng): void {
  const base = [rng.uniform(60, 190), rng.uniform(60, 190), rng.uniform(60, 190)];
  const waves = Array.from({ length: 3 }, () => ({
    fx: rng.uniform(-0.12, 0.12),
    fy: rng.uniform(-0.12, 0.12),
    phase: rng.uniform(0, 2 * Math.PI),
    amp: [rng.uniform(-35, 35), rng.uniform(-35, 35), rng.uniform(-35, 35)],
  }));
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const o = 3 * (y * w + x);
      const grain = rng.uniform(-8, 8);
      out[o] = base[0] + grain;
      out[o + 1] = base[1] + grain;
      out[o + 2] = base[2] + grain;
      for (const wave of waves) {
        const s = sin(wave.fx * x + wave.fy * y + wave.phase);
        out[o] += wave.amp[0] * s;
        out[o + 1] += wave.amp[1] * s;
        out[o + 2] += wave.amp[2] * s;
      }
    }
  }
}

/** A soft blob or bar in an object class's colours: colour alone must not identify a class. */
function paintClutter(out: Float32Array, h: number, w: number, numClasses: number, rng: Rng): void {
  const [colour] = classColours(rng.int(0, numClasses), rng);
  const cx = rng.uniform(0, w);
  const cy = rng.uniform(0, h);
  const rx = rng.uniform(2, w / 10);
  const ry = rng.uniform(2, h / 10);
  const alpha = rng.uniform(0.4, 0.9);
  for (let y = max(0, floor(cy - ry)); y < min(h, ceil(cy + ry)); y++) {
    for (let x = max(0, floor(cx - rx)); x < min(w, ceil(cx + rx)); x++) {
      const d = ((x - cx) / rx) ** 2 + ((y - cy) / ry) ** 2;
      if (d > 1) continue;
      const a = alpha * (1 - d);
      const o = 3 * (y * w + x);
      for (let c = 0; c < 3; c++) out[o + c] = (1 - a) * out[o + c] + a * colour[c];
    }
  }
}

/** Two colours per class around a class hue; each object jitters them. */
function classColours(cls: number, rng: Rng): [[number, number, number], [number, number, number]] {
  const hue = (cls * 0.6180339887) % 1;
  const a = hsvToRgb(hue + rng.uniform(-0.04, 0.04), rng.uniform(0.55, 0.9), rng.uniform(0.6, 0.95));
  const b = hsvToRgb(hue + 0.5 + rng.uniform(-0.08, 0.08), rng.uniform(0.2, 0.6), rng.uniform(0.15, 0.45));
  const to255 = (c: [number, number, number]): [number, number, number] => [
    c[0] * 255,
    c[1] * 255,
    c[2] * 255,
  ];
  return [to255(a), to255(b)];
}

function objectSpec(rng: Rng, numClasses: number, h: number, w: number): ObjectSpec {
  const cls = rng.int(0, numClasses);
  const radius = rng.uniform(0.12, 0.26) * min(h, w);
  const [colourA, colourB] = classColours(cls, rng);
  return {
    cls,
    cx: rng.uniform(radius * 0.6, w - radius * 0.6),
    cy: rng.uniform(radius * 0.6, h - radius * 0.6),
    radius,
    angle: rng.uniform(0, 2 * Math.PI),
    aspect: rng.uniform(0.8, 1.25),
    colourA,
    colourB,
    phase: rng.uniform(0, 2 * Math.PI),
  };
}

/** Draws one object over the image and the mask (later objects occlude earlier ones). */
function paintObject(image: Float32Array, mask: Uint8Array, h: number, w: number, s: ObjectSpec): void {
  const cosA = cos(s.angle);
  const sinA = sin(s.angle);
  const reach = s.radius * 1.3;
  for (let y = max(0, floor(s.cy - reach)); y < min(h, ceil(s.cy + reach)); y++) {
    for (let x = max(0, floor(s.cx - reach)); x < min(w, ceil(s.cx + reach)); x++) {
      const dx = (x + 0.5 - s.cx) / s.radius;
      const dy = (y + 0.5 - s.cy) / s.radius;
      const u = (cosA * dx + sinA * dy) * s.aspect;
      const v = (-sinA * dx + cosA * dy) / s.aspect;
      if (!insideShape(s.cls, u, v)) continue;
      const t = texture(s.cls, u, v, s.phase);
      const o = 3 * (y * w + x);
      for (let c = 0; c < 3; c++) image[o + c] = s.colourA[c] * t + s.colourB[c] * (1 - t);
      mask[y * w + x] = s.cls + 1;
    }
  }
}

/** Shape k in object coordinates (the unit disc is the object's extent). */
function insideShape(k: number, u: number, v: number): boolean {
  const r = hypot(u, v);
  const theta = atan2(v, u);
  switch (k) {
    case 0:
      return r <= 0.95;
    case 1:
      return max(abs(u), abs(v)) <= 0.72;
    case 2:
      return v <= 0.55 && v >= -0.95 + 1.9 * abs(u) * 0.95;
    case 3:
      return r <= 0.95 && r >= 0.5;
    case 4:
      return (abs(u) <= 0.28 && abs(v) <= 0.95) || (abs(v) <= 0.28 && abs(u) <= 0.95);
    case 5:
      return r <= 0.45 + 0.5 * abs(cos(2.5 * theta));
    case 6:
      return max(abs(u) * 0.866 + abs(v) * 0.5, abs(v)) <= 0.8;
    case 7:
      return abs(u) + abs(v) <= 0.95;
    case 8:
      return r <= 0.95 && hypot(u - 0.45, v) > 0.7;
    default:
      return u * u + (v / 0.45) ** 2 <= 0.95;
  }
}

/** Class texture in [0, 1]: stripes, checks, dots or rings at a class-specific scale and orientation. */
function texture(k: number, u: number, v: number, phase: number): number {
  const freq = 5 + (k % 4) * 2.5;
  const angle = (k * Math.PI) / 7;
  const a = u * cos(angle) + v * sin(angle);
  const b = -u * sin(angle) + v * cos(angle);
  switch (k % 4) {
    case 0:
      return 0.5 + 0.5 * sin(freq * a + phase);
    case 1:
      return sin(freq * a + phase) * sin(freq * b) > 0 ? 0.85 : 0.2;
    case 2:
      return hypot(((a * freq + phase) % 2.2) - 1.1, ((b * freq) % 2.2) - 1.1) < 0.6 ? 0.15 : 0.9;
    default:
      return 0.5 + 0.5 * cos(freq * hypot(a, b) * 1.5 + phase);
  }
}

/**
 * Marks as ignore (255) the pixels of classes with fewer than `minVisible` visible pixels (objects almost hidden
 * by others): too small to call the class present, yet not background.
 */
function ignoreTinyRegions(mask: Uint8Array, numClasses: number, minVisible: number): void {
  const counts = new Int32Array(numClasses + 1);
  for (let i = 0; i < mask.length; i++) counts[mask[i]]++;
  for (let k = 1; k <= numClasses; k++) {
    if (counts[k] === 0 || counts[k] >= minVisible) continue;
    for (let i = 0; i < mask.length; i++) if (mask[i] === k) mask[i] = 255;
  }
}
