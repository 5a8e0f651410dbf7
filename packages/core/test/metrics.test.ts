import { ConfusionMatrix, confusionMatrix, tf } from '@wsss/core';

describe('ConfusionMatrix', () => {
  it('reproduces the digest parity case (item 12): mIoU = 1/3 with 255 ignored', () => {
    const cm = confusionMatrix([0, 0, 1, 1, 2, 255], [0, 1, 1, 1, 0, 2], 3);
    expect(Array.from(cm.counts)).toEqual([1, 1, 0, 0, 2, 0, 1, 0, 0]);
    const iou = cm.perClassIoU();
    expect(iou[0]).toBeCloseTo(1 / 3, 12);
    expect(iou[1]).toBeCloseTo(2 / 3, 12);
    expect(iou[2]).toBe(0);
    expect(cm.meanIoU()).toBeCloseTo(1 / 3, 12);
  });

  it('computes mIoU without background, pixel accuracy and leaves absent classes out', () => {
    // class 3 never appears in gt or pred -> NaN, excluded from the mean.
    const cm = confusionMatrix([0, 0, 1, 2, 2, 2], [0, 1, 1, 2, 2, 0], 4);
    expect(cm.perClassIoU()[3]).toBeNaN();
    // IoU0 = 1/(2+2-1) = 1/3, IoU1 = 1/(1+2-1) = 1/2, IoU2 = 2/(3+2-2) = 2/3
    expect(cm.meanIoU()).toBeCloseTo((1 / 3 + 1 / 2 + 2 / 3) / 3, 12);
    expect(cm.meanIoU({ includeBackground: false })).toBeCloseTo((1 / 2 + 2 / 3) / 2, 12);
    expect(cm.pixelAccuracy()).toBeCloseTo(4 / 6, 12);
  });

  it('counts an out-of-range prediction (255) as a miss of its ground-truth class', () => {
    const cm = confusionMatrix([1, 1], [1, 255], 2);
    expect(cm.at(1, 1)).toBe(1);
    expect(cm.missedPredictions[1]).toBe(1);
    expect(cm.perClassIoU()[1]).toBeCloseTo(0.5, 12);
    expect(cm.pixelAccuracy()).toBeCloseTo(0.5, 12);
  });

  it('accumulates over images, merges, accepts tensors and a custom ignore index', () => {
    const a = new ConfusionMatrix(3, { ignoreIndex: 11 });
    a.update([0, 1, 11], [0, 1, 2]);
    const t = tf.tensor1d([2, 2], 'int32');
    a.update(t, tf.tensor1d([2, 1], 'int32'));
    const b = new ConfusionMatrix(3, { ignoreIndex: 11 }).update([0], [2]);
    a.merge(b);
    expect(Array.from(a.counts)).toEqual([1, 0, 1, 0, 1, 0, 0, 1, 1]);
    a.reset();
    expect(a.counts.every((v) => v === 0)).toBe(true);
  });

  it('rejects bad input with messages naming the argument', () => {
    expect(() => new ConfusionMatrix(0)).toThrow(/numClasses must be a positive integer, got 0/);
    expect(() => confusionMatrix([0, 1], [0], 2)).toThrow(/gt has 2 values but pred has 1/);
    expect(() => new ConfusionMatrix(2).merge(new ConfusionMatrix(3))).toThrow(/3 classes, expected 2/);
  });
});
