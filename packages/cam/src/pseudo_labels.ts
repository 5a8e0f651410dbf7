import { type LabelMap, tf } from '@wsss/core';
import { type BackgroundMode, withBackground } from './background';

function check(cams: tf.Tensor3D, classValues: readonly number[], name: string): void {
  if (cams.rank !== 3) throw new Error(`${name}: cams must be [H, W, C], got [${cams.shape}]`);
  if (classValues.length !== cams.shape[2]) {
    throw new Error(
      `${name}: classValues has ${classValues.length} entries, cams have ${cams.shape[2]} channels`,
    );
  }
}

function toLabelMap(indices: Int32Array | Uint8Array, height: number, width: number): LabelMap {
  return { width, height, data: Uint8Array.from(indices) };
}

/**
 * Label map by argmax over [background, cams] (psa's quick CAM labels with `{ threshold: 0.2 }`). Channel c of the
 * CAMs becomes mask value `classValues[c]` (VOC: c + 1), background 0. With `background: null` (datasets without
 * a background class, such as CamVid) it is the plain argmax over the CAMs.
 */
export function camLabels(
  cams: tf.Tensor3D,
  classValues: readonly number[],
  background: BackgroundMode | null = { threshold: 0.2 },
): LabelMap {
  const { argmax, lut } = camArgmax(cams, classValues, background, 'camLabels');
  const out = lut.map(argmax.dataSync() as Int32Array);
  argmax.dispose();
  return out;
}

/**
 * {@link camLabels} read back asynchronously: for every backend, webgpu included (whose synchronous readback is
 * unavailable in Node and unreliable in Chromium).
 */
export async function camLabelsAsync(
  cams: tf.Tensor3D,
  classValues: readonly number[],
  background: BackgroundMode | null = { threshold: 0.2 },
): Promise<LabelMap> {
  const { argmax, lut } = camArgmax(cams, classValues, background, 'camLabelsAsync');
  const values = (await argmax.data()) as Int32Array;
  argmax.dispose();
  return lut.map(values);
}

/** The argmax tensor of camLabels and the map from its indices to mask values. */
function camArgmax(
  cams: tf.Tensor3D,
  classValues: readonly number[],
  background: BackgroundMode | null,
  name: string,
) {
  check(cams, classValues, name);
  const [h, w] = cams.shape;
  const argmax = tf.tidy(() => tf.argMax(background ? withBackground(cams, background) : cams, 2));
  const values = background ? [0, ...classValues] : [...classValues];
  return {
    argmax,
    lut: {
      map: (indices: Int32Array): LabelMap =>
        toLabelMap(
          indices.map((i) => values[i]),
          h,
          w,
        ),
    },
  };
}

export interface ConfidentLabelOptions {
  /** A pixel is foreground when its top CAM exceeds this. IRN: 0.30. */
  fgThreshold?: number;
  /** A pixel is background when its top CAM is below this. IRN: 0.05. */
  bgThreshold?: number;
  /** Value of the pixels in between. Default 255. */
  ignoreIndex?: number;
}

/**
 * Pseudo labels with an ignore band (IRN's confident-region labels, before its CRF): foreground argmax where
 * `max cam > fgThreshold`, background where `max cam < bgThreshold`, `ignoreIndex` between.
 */
export function confidentLabels(
  cams: tf.Tensor3D,
  classValues: readonly number[],
  options: ConfidentLabelOptions = {},
): LabelMap {
  check(cams, classValues, 'confidentLabels');
  const fg = options.fgThreshold ?? 0.3;
  const bg = options.bgThreshold ?? 0.05;
  if (!(bg <= fg)) throw new Error(`confidentLabels: need bgThreshold <= fgThreshold, got ${bg} > ${fg}`);
  const [h, w] = cams.shape;
  const [top, arg] = tf.tidy(() => [tf.max(cams, 2).dataSync(), tf.argMax(cams, 2).dataSync()]);
  const out = new Uint8Array(h * w);
  for (let i = 0; i < out.length; i++) {
    out[i] = top[i] > fg ? classValues[arg[i]] : top[i] < bg ? 0 : (options.ignoreIndex ?? 255);
  }
  return { width: w, height: h, data: out };
}

/**
 * psa's affinity-label rule on CAM scores (§3.2, without the CRF): foreground where argmax over
 * [(1-max)^alphaLow, cams] is an object, background where argmax over [(1-max)^alphaHigh, cams] is background,
 * ignore elsewhere. Defaults alphaLow 4, alphaHigh 32.
 */
export function powerLabels(
  cams: tf.Tensor3D,
  classValues: readonly number[],
  options: { alphaLow?: number; alphaHigh?: number; ignoreIndex?: number } = {},
): LabelMap {
  check(cams, classValues, 'powerLabels');
  const low = camLabels(cams, classValues, { alpha: options.alphaLow ?? 4 });
  const high = camLabels(cams, classValues, { alpha: options.alphaHigh ?? 32 });
  const out = low.data.map((v, i) => (high.data[i] === 0 ? 0 : v === 0 ? (options.ignoreIndex ?? 255) : v));
  return { ...low, data: out };
}

/**
 * Image-level labels predicted by a classifier: classes whose sigmoid score reaches `threshold` (1STAGE's
 * FP_CUT_SCORE = 0.1), for inference without ground-truth labels. Shape: logits [C] -> [C] of 0/1.
 */
export function labelsFromScores(logits: tf.Tensor1D | ArrayLike<number>, threshold = 0.1): Uint8Array {
  const values = logits instanceof tf.Tensor ? logits.dataSync() : logits;
  return Uint8Array.from(values, (x) => (1 / (1 + Math.exp(-x)) >= threshold ? 1 : 0));
}

/**
 * Scores ready for a dense CRF over background + present classes only (psa, RRM): channel 0 the background
 * `(1 - max)^alpha`, then one channel per present class; `classValues` says which mask value each channel is.
 * Scores are not renormalised, as in the references (the CRF's unary is -log(clip(p, 1e-5, 1))).
 */
export function crfScores(
  cams: tf.Tensor3D,
  labels: ArrayLike<number>,
  classValues: readonly number[],
  alpha: number,
): { scores: tf.Tensor3D; classValues: number[] } {
  check(cams, classValues, 'crfScores');
  const present = Array.from(labels)
    .map((v, c) => (v > 0 ? c : -1))
    .filter((c) => c >= 0);
  return tf.tidy(() => {
    // The background is scored against the present classes only (absent ones are zero in the references).
    const kept = (
      present.length ? tf.gather(cams, present, 2) : tf.zeros([cams.shape[0], cams.shape[1], 1])
    ) as tf.Tensor3D;
    const scores = withBackground(kept, { alpha });
    return {
      scores: (present.length ? scores : scores.slice([0, 0, 0], [-1, -1, 1])) as tf.Tensor3D,
      classValues: [0, ...present.map((c) => classValues[c])],
    };
  });
}
