import { type Implementation, tf } from '@wsss/core';
import { centroidCosineSimilarity } from './centroid_similarity';
import { checkEmbeddings, cosineSimilarity, labelledPixels } from './centroids';

export interface TripletCenterOptions {
  /** Hinge margin m. Default 0.3 (with cosine distances). */
  margin?: number;
  /** 'hardest': the nearest other centre only (He et al. 2018, default); 'all': summed over the other centres. */
  negatives?: 'hardest' | 'all';
  /** Learned centres [classes, D] indexed by label value; default: per-batch class means of the embeddings. */
  centers?: tf.Tensor2D;
  ignoreIndex?: number;
  /** For batch-mean centres: 'fused' (WebAssembly, the default on cpu/wasm) or 'ops'; see centroidCosineSimilarity. */
  implementation?: Implementation;
}

/**
 * The triplet-center loss (He et al. 2018) with cosine distance d = 1 - cos, the LR loss's prototype:
 *
 *   l_x = max(0, d(x, c_y) + m - min_{k != y} d(x, c_k))      ('hardest')
 *   l_x = sum_{k != y} max(0, d(x, c_y) + m - d(x, c_k))        ('all')
 *
 * averaged over labelled pixels; centres are learned ones or the batch's class means of the embeddings.
 *
 * Shape: embeddings [B, H, W, D], labels [B, H, W] int32 (255 ignored) -> scalar.
 */
export function tripletCenterLoss(
  embeddings: tf.Tensor4D,
  labels: tf.Tensor3D,
  options: TripletCenterOptions = {},
): tf.Scalar {
  const [b, h, w, d] = checkEmbeddings(embeddings, labels, 'tripletCenterLoss');
  const {
    margin = 0.3,
    negatives = 'hardest',
    centers,
    ignoreIndex = 255,
    implementation = 'auto',
  } = options;
  const pixels = labelledPixels(labels.dataSync(), ignoreIndex);
  const k = pixels.classes.length;
  if (
    centers &&
    (centers.rank !== 2 || centers.shape[1] !== d || pixels.classes.some((c) => c >= centers.shape[0]))
  ) {
    throw new Error(
      `tripletCenterLoss: centers must be [classes, ${d}] covering every label, got [${centers.shape}]`,
    );
  }
  if (k < 2) return tf.scalar(0);
  const total = b * h * w;
  // one-hot rows over every pixel (zero for unlabelled ones) instead of a gather, whose gradient the wasm backend lacks
  const onehotValues = new Float32Array(total * k);
  pixels.positions.forEach((pos, e) => {
    onehotValues[pos * k + pixels.classIndex[e]] = 1;
  });
  return tf.tidy(() => {
    const x = tf.reshape(embeddings, [total, d]) as tf.Tensor2D;
    const onehot = tf.tensor2d(onehotValues, [total, k]);
    const selectCenters = () => {
      const pick = new Float32Array(k * (centers as tf.Tensor2D).shape[0]);
      pixels.classes.forEach((c, i) => {
        pick[i * (centers as tf.Tensor2D).shape[0] + c] = 1;
      });
      return tf.matMul(tf.tensor2d(pick, [k, (centers as tf.Tensor2D).shape[0]]), centers as tf.Tensor2D);
    };
    const similarity = centers
      ? cosineSimilarity(x, selectCenters() as tf.Tensor2D)
      : centroidCosineSimilarity(x, onehotValues, k, { implementation });
    const distance = tf.sub(1, similarity);
    const positive = tf.sum(tf.mul(distance, onehot), 1, true);
    const labelled = tf.sum(onehot, 1); // 1 for labelled pixels
    const m = pixels.positions.length;
    if (negatives === 'all') {
      const others = tf.sub(labelled.expandDims(1), onehot);
      return tf.div(
        tf.sum(tf.mul(tf.relu(tf.sub(tf.add(positive, margin), distance)), others)),
        m,
      ) as tf.Scalar;
    }
    // the hardest negative as a one-hot mask picked from the values (tf.min's gradient is slow on wasm)
    const dist = distance.dataSync();
    const hardest = new Float32Array(total * k);
    for (let i = 0; i < total; i++) {
      let best = -1;
      for (let c = 0; c < k; c++)
        if (onehotValues[i * k + c] === 0 && (best < 0 || dist[i * k + c] < dist[i * k + best])) best = c;
      hardest[i * k + best] = 1;
    }
    const nearestOther = tf.sum(tf.mul(distance, tf.tensor2d(hardest, [total, k])), 1, true);
    const hinge = tf.reshape(tf.relu(tf.add(tf.sub(positive, nearestOther), margin)), [total]);
    return tf.div(tf.sum(tf.mul(hinge, labelled)), m) as tf.Scalar;
  });
}

/** {@link tripletCenterLoss} with its options bound. */
export class TripletCenterLoss {
  constructor(readonly options: TripletCenterOptions = {}) {}
  call(embeddings: tf.Tensor4D, labels: tf.Tensor3D): tf.Scalar {
    return tripletCenterLoss(embeddings, labels, this.options);
  }
}
