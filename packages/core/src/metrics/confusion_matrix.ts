import { tf } from '../tf';

export interface ConfusionMatrixOptions {
  /** Ground-truth value that is skipped (VOC: 255, CamVid here: 11 is mapped to it). Default 255. */
  ignoreIndex?: number;
}

type Labels = ArrayLike<number> | tf.Tensor;

/**
 * Streaming confusion matrix over C classes: `counts[g * C + p]` is the number of pixels with ground truth g and
 * prediction p. Pixels whose ground truth is `ignoreIndex` (or outside 0..C-1) are skipped. A prediction outside
 * 0..C-1 (e.g. 255 "ignore" emitted by a pseudo-label method) counts in no column: it is a miss for its ground-truth
 * class, as in SEAM's evaluation (IRN instead maps it to 0: do that before `update` if you want IRN's numbers).
 *
 * ```ts
 * const cm = new ConfusionMatrix(21);
 * for (const { gt, pred } of results) cm.update(gt, pred);
 * console.log(cm.meanIoU(), cm.perClassIoU());
 * ```
 */
export class ConfusionMatrix {
  readonly numClasses: number;
  readonly ignoreIndex: number;
  /** Row-major [C, C] counts (float64 holds exact integers up to 2^53). */
  readonly counts: Float64Array;
  /** Pixels whose prediction was outside 0..C-1, per ground-truth class. */
  readonly missedPredictions: Float64Array;

  constructor(numClasses: number, options: ConfusionMatrixOptions = {}) {
    if (!Number.isInteger(numClasses) || numClasses < 1) {
      throw new Error(`ConfusionMatrix: numClasses must be a positive integer, got ${numClasses}`);
    }
    this.numClasses = numClasses;
    this.ignoreIndex = options.ignoreIndex ?? 255;
    this.counts = new Float64Array(numClasses * numClasses);
    this.missedPredictions = new Float64Array(numClasses);
  }

  /** Adds one image (or any set of pixels): `gt` and `pred` flat arrays or tensors of the same size. */
  update(gt: Labels, pred: Labels): this {
    const g = toArray(gt);
    const p = toArray(pred);
    if (g.length !== p.length) {
      throw new Error(
        `ConfusionMatrix.update: gt has ${g.length} values but pred has ${p.length}; expected equal sizes`,
      );
    }
    const c = this.numClasses;
    for (let i = 0; i < g.length; i++) {
      const gi = g[i];
      if (gi === this.ignoreIndex || gi < 0 || gi >= c) continue;
      const pi = p[i];
      if (pi >= 0 && pi < c && Number.isInteger(pi)) this.counts[gi * c + pi] += 1;
      else this.missedPredictions[gi] += 1;
    }
    return this;
  }

  /** Adds another matrix's counts (e.g. from a worker). */
  merge(other: ConfusionMatrix): this {
    if (other.numClasses !== this.numClasses) {
      throw new Error(
        `ConfusionMatrix.merge: other has ${other.numClasses} classes, expected ${this.numClasses}`,
      );
    }
    for (let i = 0; i < this.counts.length; i++) this.counts[i] += other.counts[i];
    for (let i = 0; i < this.numClasses; i++) this.missedPredictions[i] += other.missedPredictions[i];
    return this;
  }

  reset(): this {
    this.counts.fill(0);
    this.missedPredictions.fill(0);
    return this;
  }

  /** Count of pixels with ground truth g and prediction p. */
  at(g: number, p: number): number {
    return this.counts[g * this.numClasses + p];
  }

  /**
   * IoU_c = TP / (TP + FP + FN) per class; NaN for a class absent from both ground truth and prediction.
   */
  perClassIoU(): number[] {
    const c = this.numClasses;
    const iou: number[] = [];
    for (let k = 0; k < c; k++) {
      const tp = this.at(k, k);
      let gtTotal = this.missedPredictions[k];
      let predTotal = 0;
      for (let j = 0; j < c; j++) {
        gtTotal += this.at(k, j);
        predTotal += this.at(j, k);
      }
      const union = gtTotal + predTotal - tp;
      iou.push(union === 0 ? Number.NaN : tp / union);
    }
    return iou;
  }

  /**
   * Mean IoU over classes that occur (in ground truth or prediction); NaN classes are left out (nanmean).
   * `includeBackground: false` leaves out class 0 as well (1STAGE prints that number first; VOC papers report
   * the one with background).
   */
  meanIoU(options: { includeBackground?: boolean } = {}): number {
    const iou = this.perClassIoU().filter((_, k) => options.includeBackground !== false || k !== 0);
    const valid = iou.filter((v) => !Number.isNaN(v));
    return valid.length === 0 ? Number.NaN : valid.reduce((a, b) => a + b, 0) / valid.length;
  }

  /** Fraction of counted pixels predicted correctly. */
  pixelAccuracy(): number {
    let correct = 0;
    let total = 0;
    for (let k = 0; k < this.numClasses; k++) {
      correct += this.at(k, k);
      total += this.missedPredictions[k];
      for (let j = 0; j < this.numClasses; j++) total += this.at(k, j);
    }
    return total === 0 ? Number.NaN : correct / total;
  }
}

function toArray(labels: Labels): ArrayLike<number> {
  return labels instanceof tf.Tensor ? labels.dataSync() : labels;
}

/** One-shot confusion matrix of a single pair of label maps. */
export function confusionMatrix(
  gt: Labels,
  pred: Labels,
  numClasses: number,
  options?: ConfusionMatrixOptions,
): ConfusionMatrix {
  return new ConfusionMatrix(numClasses, options).update(gt, pred);
}
