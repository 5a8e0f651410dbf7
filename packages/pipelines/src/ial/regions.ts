import { confidentRegions, type PairIndices, RandomWalkGraph, randomWalk } from '@wsss/affinity';
import { argmaxLabels } from '@wsss/crf';

/**
 * The per-pixel arithmetic of the IAL-style pipeline, on plain arrays: unary scores from CAMs, per-pixel shares,
 * confident-region mining, label maps at the affinity network's resolution, and the energy the rounds are
 * measured by. Score maps are channel-major [channels x N] (N = height x width) throughout.
 */

/**
 * Round 1's unary scores from one image's CAMs [H, W, K] (pixel-major, the present classes, values in [0, 1]):
 * with a background class `[(1 - max_c CAM_c)^alpha, CAM_1 .. CAM_K]` (psa's random-walk input), without one the
 * CAMs as they are. Then normalised per pixel to shares (see {@link sharesPerPixel}).
 *
 * Shape: cams [N x K] -> [(K + 1) x N] with a background, [K x N] without.
 */
export function unaryFromCams(
  cams: ArrayLike<number>,
  classes: number,
  options: { background: boolean; alpha: number },
): Float32Array {
  if (!Number.isInteger(classes) || classes < 0 || cams.length % Math.max(classes, 1) !== 0) {
    throw new Error(`unaryFromCams: cams must be [N x ${classes}], got ${cams.length} values`);
  }
  if (!options.background && classes === 0)
    throw new Error('unaryFromCams: without a background class there must be at least one CAM');
  const pixels = classes ? cams.length / classes : 0;
  const offset = options.background ? 1 : 0;
  const channels = classes + offset;
  const out = new Float32Array(channels * pixels);
  for (let i = 0; i < pixels; i++) {
    let max = 0;
    for (let c = 0; c < classes; c++) {
      const v = Math.max(0, cams[i * classes + c]);
      out[(c + offset) * pixels + i] = v;
      max = Math.max(max, v);
    }
    if (options.background) out[i] = Math.max(0, 1 - max) ** options.alpha;
  }
  return sharesPerPixel(out, channels);
}

/**
 * Scores divided by their sum at each pixel (a pixel whose scores are all 0 gets equal shares).
 *
 * Shape: [channels x N] -> same.
 */
export function sharesPerPixel(scores: ArrayLike<number>, channels: number): Float32Array {
  if (!Number.isInteger(channels) || channels < 1 || scores.length % channels !== 0) {
    throw new Error(`sharesPerPixel: scores must be [${channels} x N], got ${scores.length} values`);
  }
  const pixels = scores.length / channels;
  const out = new Float32Array(scores.length);
  for (let i = 0; i < pixels; i++) {
    let sum = 0;
    for (let c = 0; c < channels; c++) sum += Math.max(0, scores[c * pixels + i]);
    for (let c = 0; c < channels; c++)
      out[c * pixels + i] = sum > 0 ? Math.max(0, scores[c * pixels + i]) / sum : 1 / channels;
  }
  return out;
}

/**
 * Confident-region mining: each pixel's best class (over `shares`, see {@link sharesPerPixel}) is kept where its
 * share reaches the class's threshold and, when `agreement` is given (e.g. a dense CRF's labels of the same
 * scores, as channel indices), where that agrees; everything else is `ignoreIndex`. `thresholds`: one value, or one
 * per mask class (indexed by class value). Returns mask values.
 *
 * Shape: shares [channels x N] -> labels [N].
 */
export function mineConfidentRegions(
  shares: Float32Array,
  classValues: readonly number[],
  options: { thresholds: readonly number[]; agreement?: ArrayLike<number>; ignoreIndex?: number },
): Uint8Array {
  const { thresholds, agreement, ignoreIndex = 255 } = options;
  const channels = classValues.length;
  if (thresholds.length === 0 || thresholds.some((t) => !(t >= 0 && t <= 1)))
    throw new Error(`mining.thresholds: expected values in [0, 1], got [${thresholds}]`);
  const perChannel = classValues.map((v) => {
    if (thresholds.length === 1) return thresholds[0];
    if (v >= thresholds.length) {
      throw new Error(
        `mining.thresholds: one value, or one per mask class (class ${v} has none among ${thresholds.length})`,
      );
    }
    return thresholds[v];
  });
  const labels = confidentRegions(shares, channels, { thresholds: perChannel, classValues, ignoreIndex });
  if (agreement) {
    if (agreement.length !== labels.length) {
      throw new Error(
        `mineConfidentRegions: agreement must hold one label per pixel (${labels.length}), got ${agreement.length}`,
      );
    }
    for (let i = 0; i < labels.length; i++) {
      if (labels[i] !== ignoreIndex && classValues[agreement[i]] !== labels[i]) labels[i] = ignoreIndex;
    }
  }
  return labels;
}

/**
 * A label map [height x width] at `stride` times lower resolution ([ceil(height / stride) x ceil(width / stride)],
 * as a backbone with 'same' padding gives): a cell takes the label its labelled pixels agree on when at least half of
 * its pixels are labelled; otherwise (mixed labels, mostly unlabelled) it is `ignoreIndex`. So affinity pairs never
 * straddle a boundary inside a cell.
 */
export function labelsAtStride(
  labels: ArrayLike<number>,
  height: number,
  width: number,
  stride: number,
  ignoreIndex = 255,
): { labels: Uint8Array; height: number; width: number } {
  if (labels.length !== height * width)
    throw new Error(`labelsAtStride: labels must be ${height} x ${width}, got ${labels.length} values`);
  const h = Math.ceil(height / stride);
  const w = Math.ceil(width / stride);
  const out = new Uint8Array(h * w).fill(ignoreIndex);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      let label = -1;
      let count = 0;
      let size = 0;
      let mixed = false;
      for (let yy = y * stride; yy < Math.min(height, (y + 1) * stride); yy++) {
        for (let xx = x * stride; xx < Math.min(width, (x + 1) * stride); xx++) {
          size++;
          const v = labels[yy * width + xx];
          if (v === ignoreIndex) continue;
          count++;
          if (label < 0) label = v;
          else if (v !== label) mixed = true;
        }
      }
      if (!mixed && label >= 0 && 2 * count >= size) out[y * w + x] = label;
    }
  }
  return { labels: out, height: h, width: w };
}

/** The terms of {@link labellingEnergy}, each averaged over the pixels. */
export interface Energy {
  unary: number;
  pairwise: number;
  total: number;
}

/**
 * The energy the IAL-style rounds are measured by, of a labelling y of the affinity grid:
 *
 *   E(y) = 1/N sum_i -log(u_i(y_i) + 1e-5)  +  lambda / N sum_{(i,j) in pairs} a_ij [y_i != y_j]
 *
 * u: the round's unary shares (pooled to the grid), a: the round's learned pair affinities (psa's radius-r pairs,
 * [offsets x from]). The random walk trades the first term for the second; the unary network, trained on the walk's
 * labels, lowers the first for the next round.
 */
export function labellingEnergy(
  unaryShares: ArrayLike<number>,
  labels: ArrayLike<number>,
  affinity: ArrayLike<number>,
  pairs: PairIndices,
  pairwiseWeight: number,
): Energy {
  const pixels = pairs.height * pairs.width;
  if (labels.length !== pixels || unaryShares.length % pixels !== 0) {
    throw new Error(
      `labellingEnergy: labels must be [${pixels}] and unaryShares [channels x ${pixels}], got ${labels.length} and ${unaryShares.length}`,
    );
  }
  const n = pairs.from.length;
  if (affinity.length !== pairs.offsets.length * n)
    throw new Error(
      `labellingEnergy: affinity must be [${pairs.offsets.length} x ${n}], got ${affinity.length}`,
    );
  let unary = 0;
  for (let i = 0; i < pixels; i++) unary -= Math.log(unaryShares[labels[i] * pixels + i] + 1e-5);
  let pairwise = 0;
  for (let e = 0; e < pairs.to.length; e++) {
    if (labels[pairs.from[e % n]] !== labels[pairs.to[e]]) pairwise += affinity[e];
  }
  unary /= pixels;
  pairwise = (pairwiseWeight * pairwise) / pixels;
  return { unary, pairwise, total: unary + pairwise };
}

/** What {@link refineByRandomWalk} gives for one image. */
export interface Refinement {
  /** Propagated scores [channels x N] of the grid (not normalised). */
  scores: Float32Array;
  /** Their argmax channel per grid pixel. */
  labels: Uint8Array;
  /** Steps the walk ran (it stops early once the scores settle). */
  steps: number;
  /** Energy of the unary's own argmax labelling and of the walk's (same unary, same affinities). */
  energy: { unary: Energy; walk: Energy };
}

/**
 * One round's refinement on the affinity grid: the unary shares [channels x N] propagated by psa's random walk
 * (`T = colnorm(A^beta)`, `v T^(2^logSteps)`) over the learned pair affinities [offsets x from], with the energy of
 * the labellings before and after.
 */
export function refineByRandomWalk(
  unaryShares: Float32Array,
  channels: number,
  affinity: ArrayLike<number>,
  pairs: PairIndices,
  options: { beta: number; logSteps: number; pairwiseWeight: number },
): Refinement {
  const graph = new RandomWalkGraph(affinity, pairs, options.beta);
  const walk = randomWalk(graph, unaryShares, channels, { logSteps: options.logSteps });
  const labels = argmaxLabels(walk.scores, channels);
  const energyOf = (y: Uint8Array) =>
    labellingEnergy(unaryShares, y, affinity, pairs, options.pairwiseWeight);
  return {
    scores: walk.scores,
    labels,
    steps: walk.steps,
    energy: { unary: energyOf(argmaxLabels(unaryShares, channels)), walk: energyOf(labels) },
  };
}
