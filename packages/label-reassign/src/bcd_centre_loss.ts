import { tf } from '@wsss/core';
import { checkEmbeddings, cosineSimilarity, normalizeRows, weightedCentroids } from './centroids';

/**
 * RRM(attention)'s "BCD" centre loss (anchors digest section 8.5) on predicted labels at feature resolution, with
 * a background centre per image and foreground centres per batch (class means of the embeddings):
 *
 *   pixel  = mean_centres mean_{x of the centre's class} (1 - cos(f_x, c))
 *   centre = 0.5 mean_{i != j} (1 + cos(c_i, c_j)) over foreground centres + 0.5 mean (1 + cos(c_fg, c_bg))
 *   L = pixel + centre
 *
 * Shape: embeddings [B, H, W, D], labels [B, H, W] int32 (predicted argmax; 0 background, `ignoreIndex` skipped)
 * -> scalar.
 */
export function bcdCentreLoss(
  embeddings: tf.Tensor4D,
  labels: tf.Tensor3D,
  options: { ignoreIndex?: number } = {},
): tf.Scalar {
  const [b, h, w, d] = checkEmbeddings(embeddings, labels, 'bcdCentreLoss');
  const { ignoreIndex = 255 } = options;
  const values = labels.dataSync();
  const n = h * w;
  // one group (centre) per image background, then one per foreground class of the batch: membership [B*H*W, G]
  const group = new Int32Array(b * n).fill(-1);
  const isBackground: boolean[] = [];
  for (let img = 0; img < b; img++) {
    const id = isBackground.length;
    let any = false;
    for (let i = img * n; i < (img + 1) * n; i++) {
      if (values[i] === 0) {
        group[i] = id;
        any = true;
      }
    }
    if (any) isBackground.push(true);
  }
  const foreground = new Map<number, number>();
  for (let i = 0; i < b * n; i++) {
    const l = values[i];
    if (l === 0 || l === ignoreIndex) continue;
    if (!foreground.has(l)) {
      foreground.set(l, isBackground.length);
      isBackground.push(false);
    }
    group[i] = foreground.get(l) as number;
  }
  const groups = isBackground.length;
  if (!groups) return tf.scalar(0);
  const membership = new Float32Array(b * n * groups);
  group.forEach((g, i) => {
    if (g >= 0) membership[i * groups + g] = 1;
  });
  return tf.tidy(() => {
    const x = tf.reshape(embeddings, [b * n, d]) as tf.Tensor2D;
    const m = tf.tensor2d(membership, [b * n, groups]);
    const centres = weightedCentroids(x, m);
    // pixel term: mean over groups of the group's mean (1 - cos)
    const perGroup = tf.div(tf.sum(tf.mul(tf.sub(1, cosineSimilarity(x, centres)), m), 0), tf.sum(m, 0));
    const terms: tf.Tensor[] = [tf.mean(perGroup)];
    const fgIndex = isBackground.flatMap((bg, g) => (bg ? [] : [g]));
    const bgIndex = isBackground.flatMap((bg, g) => (bg ? [g] : []));
    const rows = (index: number[]) => {
      const pick = new Float32Array(index.length * groups);
      index.forEach((g, r) => {
        pick[r * groups + g] = 1;
      });
      return normalizeRows(tf.matMul(tf.tensor2d(pick, [index.length, groups]), centres));
    };
    if (fgIndex.length > 1) {
      const fg = rows(fgIndex);
      const offDiagonal = tf.sub(tf.sum(tf.add(1, tf.matMul(fg, fg, false, true))), 2 * fgIndex.length); // diagonal: 1 + 1
      terms.push(tf.mul(0.5, tf.div(offDiagonal, fgIndex.length * (fgIndex.length - 1))));
    }
    if (fgIndex.length && bgIndex.length)
      terms.push(tf.mul(0.5, tf.mean(tf.add(1, tf.matMul(rows(fgIndex), rows(bgIndex), false, true)))));
    return tf.addN(terms) as tf.Scalar;
  });
}
