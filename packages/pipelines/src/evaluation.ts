import { ConfusionMatrix } from '@wsss/core';

/** A confusion matrix as JSON: what stage results store, so that shards can be merged before scoring. */
export interface ConfusionJson {
  numClasses: number;
  ignoreIndex: number;
  /** Row-major [C, C] counts, ground truth by prediction. */
  counts: number[];
  /** Pixels whose prediction was outside 0..C-1 (e.g. 255 "ignore" in pseudo labels), per ground-truth class. */
  missed: number[];
}

export function confusionToJson(cm: ConfusionMatrix): ConfusionJson {
  return {
    numClasses: cm.numClasses,
    ignoreIndex: cm.ignoreIndex,
    counts: Array.from(cm.counts),
    missed: Array.from(cm.missedPredictions),
  };
}

export function confusionFromJson(json: ConfusionJson): ConfusionMatrix {
  const cm = new ConfusionMatrix(json.numClasses, { ignoreIndex: json.ignoreIndex });
  if (json.counts.length !== json.numClasses ** 2 || json.missed.length !== json.numClasses) {
    throw new Error(
      `confusionFromJson: counts must hold ${json.numClasses}^2 values and missed ${json.numClasses}`,
    );
  }
  cm.counts.set(json.counts);
  cm.missedPredictions.set(json.missed);
  return cm;
}

/** One class's scores; null where the class occurs in neither ground truth nor prediction. */
export interface ClassScores {
  name: string;
  iou: number | null;
  /** TP / (TP + FP). */
  precision: number | null;
  /** TP / (TP + FN); predictions outside the classes (ignore) count as misses. */
  recall: number | null;
}

/** Segmentation scores of a set of label maps against ground truth (percentages are for display only). */
export interface SegmentationScores {
  /** Mean IoU over the classes that occur, background included (what VOC papers report). */
  mIoU: number;
  /** Mean IoU without the background class (null for datasets without one). */
  mIoUWithoutBackground: number | null;
  pixelAccuracy: number;
  classes: ClassScores[];
  /** The background class (left out of `mIoUWithoutBackground`), or null. */
  backgroundIndex: number | null;
  confusion: ConfusionJson;
}

const orNull = (v: number) => (Number.isFinite(v) ? v : null);

/** Scores from a confusion matrix: mIoU with and without background, per-class IoU, precision and recall. */
export function segmentationScores(
  cm: ConfusionMatrix,
  classNames: readonly string[],
  backgroundIndex: number | null,
): SegmentationScores {
  const c = cm.numClasses;
  const iou = cm.perClassIoU();
  const classes = Array.from({ length: c }, (_, k) => {
    let column = 0;
    let row = cm.missedPredictions[k];
    for (let j = 0; j < c; j++) {
      column += cm.at(j, k);
      row += cm.at(k, j);
    }
    const tp = cm.at(k, k);
    return {
      name: classNames[k] ?? String(k),
      iou: orNull(iou[k]),
      precision: column > 0 ? tp / column : null,
      recall: row > 0 ? tp / row : null,
    };
  });
  const mean = (values: (number | null)[]) => {
    const valid = values.filter((v): v is number => v !== null);
    return valid.length ? valid.reduce((a, b) => a + b, 0) / valid.length : 0;
  };
  return {
    mIoU: mean(classes.map((k) => k.iou)),
    mIoUWithoutBackground:
      backgroundIndex === null
        ? null
        : mean(classes.filter((_, k) => k !== backgroundIndex).map((k) => k.iou)),
    pixelAccuracy: orNull(cm.pixelAccuracy()) ?? 0,
    classes,
    backgroundIndex,
    confusion: confusionToJson(cm),
  };
}

/** The scores of several shards' label sets as one: their confusion counts summed, everything recomputed. */
export function mergeScores(parts: readonly SegmentationScores[]): SegmentationScores {
  const [first, ...rest] = parts;
  const cm = confusionFromJson(first.confusion);
  for (const part of rest) cm.merge(confusionFromJson(part.confusion));
  return segmentationScores(
    cm,
    first.classes.map((c) => c.name),
    first.backgroundIndex,
  );
}
