import { tf } from '@wsss/core';

/** Rows of `x` [N, D] scaled to unit length (eps keeps zero rows finite). */
export function normalizeRows(x: tf.Tensor2D, eps = 1e-8): tf.Tensor2D {
  return tf.tidy(() => tf.div(x, tf.sqrt(tf.add(tf.sum(tf.square(x), 1, true), eps))) as tf.Tensor2D);
}

/**
 * Weighted class centroids (AA/LR paper eq. 13): `c_k = sum_i w_ik f_i / sum_i w_ik` for weights [N, K] (0 outside
 * class k), embeddings [N, D] -> [K, D].
 */
export function weightedCentroids(embeddings: tf.Tensor2D, weights: tf.Tensor2D): tf.Tensor2D {
  return tf.tidy(
    () =>
      tf.div(
        tf.matMul(weights, embeddings, true, false),
        tf.add(tf.transpose(tf.sum(weights, 0, true)), 1e-12),
      ) as tf.Tensor2D,
  );
}

/** Cosine similarities [N, K] between embeddings [N, D] and centroids [K, D]. */
export function cosineSimilarity(embeddings: tf.Tensor2D, centroids: tf.Tensor2D): tf.Tensor2D {
  return tf.tidy(
    () => tf.matMul(normalizeRows(embeddings), normalizeRows(centroids), false, true) as tf.Tensor2D,
  );
}

/** One image's labelled pixels: positions, their class index among `classes`, and the classes present. */
export interface LabelledPixels {
  positions: Int32Array;
  classIndex: Int32Array;
  classes: number[];
}

/** Labelled pixels of one flat label map (values other than `ignoreIndex`), with classes in ascending order. */
export function labelledPixels(labels: ArrayLike<number>, ignoreIndex: number): LabelledPixels {
  const classes = [...new Set(Array.from(labels).filter((l) => l !== ignoreIndex))].sort((a, b) => a - b);
  const index = new Map(classes.map((c, k) => [c, k]));
  const positions: number[] = [];
  const classIndex: number[] = [];
  for (let i = 0; i < labels.length; i++) {
    const k = index.get(labels[i]);
    if (k !== undefined) {
      positions.push(i);
      classIndex.push(k);
    }
  }
  return { positions: Int32Array.from(positions), classIndex: Int32Array.from(classIndex), classes };
}

export function checkEmbeddings(
  embeddings: tf.Tensor4D,
  labels: tf.Tensor3D,
  fn: string,
): [number, number, number, number] {
  const [b, h, w, d] = embeddings.shape;
  if (embeddings.rank !== 4)
    throw new Error(`${fn}: embeddings must be [B, H, W, D], got [${embeddings.shape}]`);
  if (labels.rank !== 3 || labels.shape[0] !== b || labels.shape[1] !== h || labels.shape[2] !== w) {
    throw new Error(`${fn}: labels must be [${b}, ${h}, ${w}] like embeddings, got [${labels.shape}]`);
  }
  return [b, h, w, d];
}
