/** RRM's pseudo labels from CAMs and two dense CRFs (anchors digest section 8.2; parity item 15). */

export interface RrmLabelOptions {
  /** Percentile of a class's CAM values (those > `camFloor` in its CAM region) above which its pixels are sure. Default 0.6. */
  camPercentile?: number;
  /** CAM values at or below this do not enter the percentile. Default 0.1. */
  camFloor?: number;
  /** Background score above which background pixels of the CAM are sure. Default 0.8. */
  backgroundSure?: number;
  /** Marginal of the CRFs' label below which a pixel is unsure. Default 0.8. */
  crfSure?: number;
  /** Label of unsure pixels. Default 255. */
  ignoreIndex?: number;
}

export interface RrmLabelInputs {
  width: number;
  height: number;
  /** Number of channels C of every input (background 0 + one per class, channel = mask value). */
  numClasses: number;
  /**
   * [C x H*W] label-major: channel 0 the background score `(1 - max_c cam_c)^32`, channel c the max-normalised CAM
   * of class c when present, 0 when absent (RRM's `cam_all`).
   */
  cams: Float32Array;
  /** [C x H*W] marginals of the CRF with background power 4 (absent classes 0), e.g. `crfOnScores(...).q`. */
  crfLow: Float32Array;
  /** [C x H*W] marginals of the CRF with background power 32. */
  crfHigh: Float32Array;
}

/** Argmax over channels of label-major scores (ties to the lower channel, as numpy). */
function argmax(scores: Float32Array, channels: number, pixels: number): Uint8Array {
  const out = new Uint8Array(pixels);
  for (let i = 0; i < pixels; i++) {
    let best = scores[i];
    for (let c = 1; c < channels; c++) {
      const v = scores[c * pixels + i];
      if (v > best) {
        best = v;
        out[i] = c;
      }
    }
  }
  return out;
}

/** Checks the planes' sizes and the percentile; returns the number of pixels. */
function checkInputs(
  fn: string,
  size: { width: number; height: number; numClasses: number },
  planes: Record<string, Float32Array>,
  camPercentile: number,
): number {
  const { width, height, numClasses: channels } = size;
  const pixels = width * height;
  if (!(Number.isInteger(channels) && channels >= 1 && channels <= 256))
    throw new Error(`${fn}: numClasses must be an integer in 1..256, got ${channels}`);
  for (const [name, values] of Object.entries(planes)) {
    if (values.length !== channels * pixels)
      throw new Error(
        `${fn}: ${name} must be [numClasses x H x W] = ${channels} x ${height} x ${width} label-major, got ${values.length} values`,
      );
  }
  if (!(camPercentile >= 0 && camPercentile < 1))
    throw new Error(`${fn}: camPercentile must be in [0, 1), got ${camPercentile}`);
  return pixels;
}

/**
 * RRM's "CAM is sure" rule for classes: for each class k of `classes`, the pixels of the CAM's argmax region of k
 * whose CAM exceeds the `camPercentile` quantile of that region's values above `camFloor` (the reference indexes the
 * sorted values at `floor(0.6 n)`). A class with no value above the floor has no sure pixel. Returns 0/1 [H*W].
 */
function sureCamPixels(
  cams: Float32Array,
  camArgmax: Uint8Array,
  pixels: number,
  classes: Iterable<number>,
  options: { camPercentile: number; camFloor: number },
): Uint8Array {
  const floor = Math.fround(options.camFloor);
  const sure = new Uint8Array(pixels);
  for (const k of classes) {
    const plane = cams.subarray(k * pixels, (k + 1) * pixels);
    const values: number[] = [];
    for (let i = 0; i < pixels; i++) if (camArgmax[i] === k && plane[i] > floor) values.push(plane[i]);
    if (values.length === 0) continue;
    const sorted = Float32Array.from(values).sort();
    const threshold = sorted[Math.floor(sorted.length * options.camPercentile)];
    for (let i = 0; i < pixels; i++) if (camArgmax[i] === k && plane[i] > threshold) sure[i] = 1;
  }
  return sure;
}

/**
 * RRM's rule for the pseudo label of one training image (`compute_seg_label`): the low-power CRF's label where it
 * says foreground, the high-power CRF's background where it says background, and unsure (255) unless both
 *
 * - the CAM is sure: for each foreground class k the low-power CRF predicts, the pixels of the CAM's argmax region
 *   of k whose CAM exceeds the `camPercentile` quantile of that region's values above `camFloor` (the reference
 *   indexes the sorted values at `floor(0.6 n)`); for the background (when predicted), the CAM-background pixels
 *   scoring above `backgroundSure`. A class with no value above `camFloor` has no sure pixel (the reference crashes);
 * - the CRFs are sure: max over [high-power CRF's background, low-power CRF's classes] >= `crfSure`.
 *
 * Returns mask values [H*W] (channel index = mask value).
 */
export function rrmPseudoLabels(inputs: RrmLabelInputs, options: RrmLabelOptions = {}): Uint8Array {
  const { numClasses: channels, cams, crfLow, crfHigh } = inputs;
  const {
    camPercentile = 0.6,
    camFloor = 0.1,
    backgroundSure = 0.8,
    crfSure = 0.8,
    ignoreIndex = 255,
  } = options;
  const pixels = checkInputs('rrmPseudoLabels', inputs, { cams, crfLow, crfHigh }, camPercentile);

  // thresholds as float32, as numpy compares float32 arrays with Python floats
  const backgroundThreshold = Math.fround(backgroundSure);
  const crfThreshold = Math.fround(crfSure);
  const camArgmax = argmax(cams, channels, pixels);
  const low = argmax(crfLow, channels, pixels);
  const high = argmax(crfHigh, channels, pixels);
  const predicted = new Set(low);
  const sure = sureCamPixels(
    cams,
    camArgmax,
    pixels,
    [...predicted].filter((k) => k !== 0),
    {
      camPercentile,
      camFloor,
    },
  );
  if (predicted.has(0)) {
    for (let i = 0; i < pixels; i++) if (camArgmax[i] === 0 && cams[i] > backgroundThreshold) sure[i] = 1;
  }
  const labels = new Uint8Array(pixels);
  for (let i = 0; i < pixels; i++) {
    let label = low[i] === 0 ? ignoreIndex : low[i];
    if (high[i] === 0) label = 0;
    let crfMax = crfHigh[i];
    for (let c = 1; c < channels; c++) crfMax = Math.max(crfMax, crfLow[c * pixels + i]);
    labels[i] = sure[i] && crfMax >= crfThreshold ? label : ignoreIndex;
  }
  return labels;
}

export interface RrmLabelInputsWithoutBackground {
  width: number;
  height: number;
  /** Number of channels C (one per class, channel = mask value; no background channel). */
  numClasses: number;
  /** [C x H*W] label-major: the max-normalised CAM of each present class, 0 for absent classes. */
  cams: Float32Array;
  /** [C x H*W] marginals of one CRF over the present classes' CAMs (absent classes 0). */
  crf: Float32Array;
}

/**
 * RRM's rule carried over to datasets where every pixel has a class and none is background (CamVid): the CRF's label
 * where the CAM is sure of it (RRM's foreground rule, for every class the CRF predicts) and the CRF's marginal of it is
 * at least `crfSure`, unsure (`ignoreIndex`) elsewhere. RRM has no such variant: its two CRFs differ only in the
 * background's power, so without a background one CRF over the class CAMs takes their place (the pipeline's choice,
 * documented there). `backgroundSure` does not apply.
 *
 * Returns mask values [H*W] (channel index = mask value).
 */
export function rrmPseudoLabelsWithoutBackground(
  inputs: RrmLabelInputsWithoutBackground,
  options: Omit<RrmLabelOptions, 'backgroundSure'> = {},
): Uint8Array {
  const { numClasses: channels, cams, crf } = inputs;
  const { camPercentile = 0.6, camFloor = 0.1, crfSure = 0.8, ignoreIndex = 255 } = options;
  const pixels = checkInputs('rrmPseudoLabelsWithoutBackground', inputs, { cams, crf }, camPercentile);
  const crfThreshold = Math.fround(crfSure);
  const labels = argmax(crf, channels, pixels);
  const sure = sureCamPixels(cams, argmax(cams, channels, pixels), pixels, new Set(labels), {
    camPercentile,
    camFloor,
  });
  for (let i = 0; i < pixels; i++) {
    if (!(sure[i] && crf[labels[i] * pixels + i] >= crfThreshold)) labels[i] = ignoreIndex;
  }
  return labels;
}
