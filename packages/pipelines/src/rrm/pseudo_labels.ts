import { rrmPseudoLabels, rrmPseudoLabelsWithoutBackground } from '@wsss/cam';
import type { RgbImage } from '@wsss/core';
import { type CrfResult, crfOnScores } from '@wsss/crf';
import type { RrmConfig } from './config';
import type { RrmLayout } from './layout';

/** Runs one CRF over label-major scores: `crfOnScores` here, or a `BackgroundCrf` worker's. */
export type CrfRunner = (
  image: RgbImage,
  input: { labelMajor: Float32Array; classValues: readonly number[] },
  options: { numClasses: number; params: 'psa' },
) => Promise<CrfResult>;

export interface RrmImageLabels {
  /** [H*W] mask values, 255 unsure. */
  labels: Uint8Array;
  /**
   * [H*W] the low-power CRF's marginal (without a background: the CRF's) of each pixel's label, 0 where unsure: a
   * confidence V for the AA loss.
   */
  confidence: Float32Array;
  /** Milliseconds from submitting the two CRFs to having both results. */
  crfMs: number;
}

/**
 * RRM's pseudo label of one image (anchors digest section 8.2) from its online CAMs: CRFs over background power
 * `lowAlpha` and `highAlpha` + the present classes (psa's kernels), then {@link rrmPseudoLabels}'s rule. A layout
 * without background (every pixel has a class) runs one CRF over the present classes' CAMs and
 * {@link rrmPseudoLabelsWithoutBackground}'s rule.
 *
 * `cams` is pixel-major [H*W x L] (the image's slice of {@link onlineCams}), `present` [L] 0/1, `layout.classValues[l]`
 * the mask value of label l; the background, when there is one, is mask value 0.
 */
export async function rrmImageLabels(
  image: RgbImage,
  cams: Float32Array,
  present: ArrayLike<number>,
  layout: Pick<RrmLayout, 'classValues' | 'numClasses' | 'background'>,
  options: RrmConfig['pseudoLabels'],
  runCrf: CrfRunner = crfOnScores,
): Promise<RrmImageLabels> {
  const { classValues, numClasses } = layout;
  const pixels = image.width * image.height;
  const numLabels = classValues.length;
  const kept = classValues.flatMap((_, l) => (present[l] > 0 ? [l] : []));
  const planes = kept.map((l) => {
    const plane = new Float32Array(pixels);
    for (let i = 0; i < pixels; i++) plane[i] = cams[i * numLabels + l];
    return plane;
  });
  const camAll = new Float32Array(numClasses * pixels);
  planes.forEach((plane, k) => {
    camAll.set(plane, classValues[kept[k]] * pixels);
  });
  const sure = { camPercentile: options.camPercentile, crfSure: options.crfSure };
  if (layout.background === null) {
    // no class: nothing is sure
    if (kept.length === 0)
      return { labels: new Uint8Array(pixels).fill(255), confidence: new Float32Array(pixels), crfMs: 0 };
    const scores = new Float32Array(kept.length * pixels);
    planes.forEach((plane, k) => {
      scores.set(plane, k * pixels);
    });
    const start = performance.now();
    const crf = await runCrf(
      image,
      { labelMajor: scores, classValues: kept.map((l) => classValues[l]) },
      { numClasses, params: 'psa' },
    );
    const crfMs = performance.now() - start;
    const labels = rrmPseudoLabelsWithoutBackground(
      { width: image.width, height: image.height, numClasses, cams: camAll, crf: crf.q },
      sure,
    );
    return { labels, confidence: confidenceOf(labels, crf.q), crfMs };
  }
  if (kept.length === 0) {
    // no class: everything is sure background (the reference fails on an empty class set)
    return { labels: new Uint8Array(pixels), confidence: new Float32Array(pixels).fill(1), crfMs: 0 };
  }
  const maxCam = new Float32Array(pixels);
  for (const plane of planes) for (let i = 0; i < pixels; i++) maxCam[i] = Math.max(maxCam[i], plane[i]);
  const background = (alpha: number) => maxCam.map((m) => (1 - m) ** alpha);
  const scores = (alpha: number) => {
    const out = new Float32Array((1 + kept.length) * pixels);
    out.set(background(alpha));
    planes.forEach((plane, k) => {
      out.set(plane, (k + 1) * pixels);
    });
    return out;
  };
  const crfClassValues = [0, ...kept.map((l) => classValues[l])];
  const start = performance.now();
  const crf = (alpha: number) =>
    runCrf(image, { labelMajor: scores(alpha), classValues: crfClassValues }, { numClasses, params: 'psa' });
  // both submitted before either is awaited: a worker runs them back to back
  const [low, high] = await Promise.all([crf(options.lowAlpha), crf(options.highAlpha)]);
  const crfMs = performance.now() - start;
  camAll.set(background(32)); // RRM's cam_all: background power 32
  const labels = rrmPseudoLabels(
    { width: image.width, height: image.height, numClasses, cams: camAll, crfLow: low.q, crfHigh: high.q },
    { ...sure, backgroundSure: options.backgroundSure },
  );
  return { labels, confidence: confidenceOf(labels, low.q), crfMs };
}

/** The marginal of each pixel's label in label-major `q`, 0 where unsure (255). */
function confidenceOf(labels: Uint8Array, q: Float32Array): Float32Array {
  const pixels = labels.length;
  const confidence = new Float32Array(pixels);
  for (let i = 0; i < pixels; i++) if (labels[i] !== 255) confidence[i] = q[labels[i] * pixels + i];
  return confidence;
}
