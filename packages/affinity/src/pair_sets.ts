import { tf } from '@wsss/core';
import { eightNeighbours, neighbourShifts } from './pair_divergence';

/** Masks [B, H, W, 8] (neighbour last, 1 where the pair belongs to the set) of one dilation's pair sets. */
export interface PairSetMasks {
  /** P+fg: same foreground label. */
  fg: Float32Array;
  /** P+bg: both background. */
  bg: Float32Array;
  /** P-: different labels. */
  negative: Float32Array;
}

/**
 * The pair sets of the SA / AA losses for each pixel and its 8 neighbours at `dilation`; pairs with an unlabelled
 * end or leaving the image belong to none.
 */
export function pairSetMasks(
  labels: ArrayLike<number>,
  shape: [number, number, number],
  dilation: number,
  ignoreIndex: number,
): PairSetMasks {
  const [b, h, w] = shape;
  const fg = new Float32Array(b * h * w * 8);
  const bg = new Float32Array(fg.length);
  const negative = new Float32Array(fg.length);
  const offsets = eightNeighbours(dilation);
  for (let n = 0, e = 0; n < b; n++) {
    for (let y = 0; y < h; y++) {
      for (let x = 0; x < w; x++) {
        const a = labels[(n * h + y) * w + x];
        for (const [dy, dx] of offsets) {
          const yy = y + dy;
          const xx = x + dx;
          const other = yy >= 0 && yy < h && xx >= 0 && xx < w ? labels[(n * h + yy) * w + xx] : ignoreIndex;
          if (a !== ignoreIndex && other !== ignoreIndex) {
            if (a !== other) negative[e] = 1;
            else if (a === 0) bg[e] = 1;
            else fg[e] = 1;
          }
          e++;
        }
      }
    }
  }
  return { fg, bg, negative };
}

/**
 * {@link pairSetMasks} computed with tf ops on the labels' backend (no readback, e.g. on WebGPU): float masks
 * [B, H, W, 8], neighbour k in `eightNeighbours(dilation)` order.
 */
export function pairSetMaskTensors(
  labels: tf.Tensor3D,
  dilation: number,
  ignoreIndex: number,
): { fg: tf.Tensor4D; bg: tf.Tensor4D; negative: tf.Tensor4D } {
  return tf.tidy(() => {
    const own = tf.expandDims(tf.cast(labels, 'int32'), 3) as tf.Tensor4D;
    const others = tf.concat(neighbourShifts(own, dilation, ignoreIndex), 3);
    const valid = tf.logicalAnd(tf.notEqual(own, ignoreIndex), tf.notEqual(others, ignoreIndex));
    const same = tf.equal(own, others);
    const isBackground = tf.equal(own, 0);
    const mask = (m: tf.Tensor) => tf.cast(tf.logicalAnd(valid, m), 'float32') as tf.Tensor4D;
    return {
      fg: mask(tf.logicalAnd(same, tf.logicalNot(isBackground))),
      bg: mask(tf.logicalAnd(same, isBackground)),
      negative: mask(tf.logicalNot(same)),
    };
  });
}
