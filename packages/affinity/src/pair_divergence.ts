import { tf } from '@wsss/core';

/** W_ij, the divergence between the class distributions of a pixel i and its neighbour j. */
export type Divergence = 'categorical' | 'binary';

/** The 8 offsets of a 3 x 3 kernel with dilation d (AAF's "eight corners" of a (2d+1)^2 patch), row-major. */
export function eightNeighbours(dilation: number): [number, number][] {
  const out: [number, number][] = [];
  for (const dy of [-dilation, 0, dilation])
    for (const dx of [-dilation, 0, dilation]) if (dy || dx) out.push([dy, dx]);
  return out;
}

/**
 * `x` [B, H, W, C] shifted to each of the 8 neighbours at `dilation`: `out[k][n, y, x] = x[n, y + dy_k, x + dx_k]`
 * (`fill` outside). Separate 4-D tensors rather than one 5-D stack: on the wasm backend the gradients of 5-D
 * broadcasts and stacks go through slow generic transposes and slices (seconds instead of milliseconds).
 */
export function neighbourShifts(x: tf.Tensor4D, dilation: number, fill = 0): tf.Tensor4D[] {
  const [b, h, w, c] = x.shape;
  const padded = tf.pad(
    x,
    [
      [0, 0],
      [dilation, dilation],
      [dilation, dilation],
      [0, 0],
    ],
    fill,
  );
  return eightNeighbours(dilation).map(([dy, dx]) =>
    tf.slice(padded, [0, dilation + dy, dilation + dx, 0], [b, h, w, c]),
  );
}

/**
 * The per-pixel pieces of a divergence, computed once for all dilations: `W_ij = fromNeighbour_j - <own_i,
 * neighbour_j> - fromPixel_i`.
 */
export interface DivergenceTerms {
  own: tf.Tensor4D;
  neighbour: tf.Tensor4D;
  fromNeighbour?: tf.Tensor4D;
  fromPixel: tf.Tensor4D;
}

/**
 * - 'categorical': `W_ij = KL(F_i || F_j) = sum_c p_ic log p_ic - <p_i, log p_j>` (AA/LR paper eq. 4);
 * - 'binary': AAF's per-class binary KL summed over classes, `sum_c KL(Bern(p_jc) || Bern(p_ic)) =
 *   H_j - <p_j, log p_i - log(1 - p_i)> - sum_c log(1 - p_i)` (AAF and the AA/LR code; neighbour first, as theirs).
 * Probabilities are clipped to [clip, 1] (categorical) or [clip, 1 - clip] (binary).
 */
export function divergenceTerms(
  probabilities: tf.Tensor4D,
  divergence: Divergence,
  clip = 1e-4,
): DivergenceTerms {
  return tf.tidy(() => {
    if (divergence === 'categorical') {
      const p = tf.clipByValue(probabilities, clip, 1) as tf.Tensor4D;
      const logP = tf.log(p) as tf.Tensor4D;
      return { own: p, neighbour: logP, fromPixel: tf.neg(tf.sum(tf.mul(p, logP), 3, true)) as tf.Tensor4D };
    }
    const q = tf.clipByValue(probabilities, clip, 1 - clip) as tf.Tensor4D;
    const logQ = tf.log(q);
    const log1mQ = tf.log(tf.sub(1, q));
    return {
      own: tf.sub(logQ, log1mQ) as tf.Tensor4D,
      neighbour: q,
      fromNeighbour: tf.sum(tf.add(tf.mul(q, logQ), tf.mul(tf.sub(1, q), log1mQ)), 3, true) as tf.Tensor4D,
      fromPixel: tf.sum(log1mQ, 3, true) as tf.Tensor4D,
    };
  });
}

/** W_ij for every pixel and its 8 neighbours at `dilation`, [B, H, W, 8] (pairs leaving the image: masked by callers). */
export function divergenceAt(terms: DivergenceTerms, dilation: number): tf.Tensor4D {
  return tf.tidy(() => {
    const fromNeighbour = terms.fromNeighbour ? neighbourShifts(terms.fromNeighbour, dilation) : undefined;
    const maps = neighbourShifts(terms.neighbour, dilation).map((shifted, k) => {
      const cross = tf.add(tf.sum(tf.mul(terms.own, shifted), 3, true), terms.fromPixel);
      return fromNeighbour ? tf.sub(fromNeighbour[k], cross) : tf.neg(cross);
    });
    return tf.concat(maps, 3) as tf.Tensor4D;
  });
}

/** W_ij at one dilation from probabilities [B, H, W, C] -> [B, H, W, 8] (see {@link divergenceTerms}). */
export function pairDivergence(
  probabilities: tf.Tensor4D,
  dilation: number,
  divergence: Divergence,
  clip = 1e-4,
): tf.Tensor4D {
  return tf.tidy(() => divergenceAt(divergenceTerms(probabilities, divergence, clip), dilation));
}
