import { type Implementation, tf, usesFusedPass } from '@wsss/core';
import { centroidCosineSimilarity } from './centroid_similarity';
import { checkEmbeddings, labelledPixels } from './centroids';
import { labelReassignLossOnDevice, type ResolvedLabelReassignOptions } from './label_reassign_device';
import { labelReassignModulation } from './modulation';

export interface LabelReassignOptions {
  /** Margin n of the hinge on cosine similarities (eqs. 14-15). Default 1. */
  margin?: number;
  /** Concentration gamma of the modulation alpha (eq. 16); 0 gives the unmodulated prototype. Default 2. */
  gamma?: number;
  /**
   * Which centroid c_i a pixel is pulled to: 'reassign' (default) its most similar centroid, the label reassignment
   * of the paper; 'label' its pseudo label's centroid (the triplet-center prototype).
   */
  assignment?: 'reassign' | 'label';
  /**
   * Include j = i, the pixel's own centroid, in the sum over j = 1..N of eqs. 14-15 (default true, as the equations
   * write it): its hinge is the constant n, weighted by alpha_i, so with gamma > 0 it adds n alpha_i per pixel and
   * changes the gradient. false sums over j != i only (the triplet-center prototype's form).
   */
  includeAssignedCentroid?: boolean;
  /**
   * Average background and foreground pixels separately and add the two means (eqs. 14, 15, 17; default), or
   * average all labelled pixels together. A pixel counts as background when its centroid c_i is the background's.
   */
  balance?: boolean;
  /** beta_i of eq. 13: 'probability' (default) the predicted probability of the pixel's label, or 'uniform'. */
  confidence?: 'probability' | 'uniform';
  /** Label of the background class. Default 0. */
  backgroundIndex?: number;
  ignoreIndex?: number;
  /**
   * 'fused' (WebAssembly similarities and the assignment on the host, the default on cpu/wasm) or 'ops' (everything
   * with tf ops on the tensors' device, nothing read back: the default elsewhere, e.g. WebGPU).
   */
  implementation?: Implementation;
  /** Number of classes C, for the 'ops' path without probabilities (`confidence: 'uniform'`). */
  numClasses?: number;
}

/**
 * The label-reassign (LR) loss of the AA/LR paper (eqs. 13-17), per image over the classes present in its (pseudo)
 * labels, on cosine similarities D between pixel embeddings F_x and class centroids:
 *
 *   c_k     = sum_{x in I_k} beta_x F_x / sum_{x in I_k} beta_x           (beta_x: predicted probability of x's label)
 *   c_i     = argmax_k D(x, c_k)  (reassignment),  c_j the second most similar centroid
 *   alpha_x = clip(1 - (D(x, c_i) - D(x, c_j)) / (D(x, c_i) + D(x, c_j)), 0, 1)^gamma
 *   l_x     = alpha_x sum_{k = 1..N} max(0, n + D(x, c_k) - D(x, c_i))      (k = i adds n)
 *   L_LR    = mean_{x in E_bg} l_x + mean_{x in E_fg} l_x
 *
 * averaged over the images with at least two classes. Choices the paper leaves open, as options: the split of
 * E_bg/E_fg (by the assigned centroid), beta (the prediction's probability, not differentiated), whether the sum
 * includes k = i (`includeAssignedCentroid`, default as written). alpha is bounded to [0, 1]: with reassignment and
 * positive similarities eq. 16 stays there anyway; where c_i is not the nearest centroid (`assignment: 'label'`) or
 * D(x, c_i) + D(x, c_j) <= 0 (cosines can be negative) eq. 16 is unbounded (a denominator near 0 gave losses of 1e10),
 * so the base is clipped (its denominator clamped at 1e-6): such a pixel gets the full weight 1 when its label's
 * centroid is not the nearest, and 0 when it is dissimilar to both centroids.
 *
 * Shape: embeddings [B, H, W, D], labels [B, H, W] int32 (255 ignored), probabilities [B, H, W, C] -> scalar.
 *
 * @example
 * ```ts
 * const loss = labelReassignLoss(features, pseudoLabels, tf.softmax(logits), { gamma: 2 });
 * ```
 */
export function labelReassignLoss(
  embeddings: tf.Tensor4D,
  labels: tf.Tensor3D,
  probabilities: tf.Tensor4D | undefined,
  options: LabelReassignOptions = {},
): tf.Scalar {
  const [b, h, w, d] = checkEmbeddings(embeddings, labels, 'labelReassignLoss');
  const resolved: ResolvedLabelReassignOptions = {
    margin: options.margin ?? 1,
    gamma: options.gamma ?? 2,
    assignment: options.assignment ?? 'reassign',
    includeAssignedCentroid: options.includeAssignedCentroid ?? true,
    balance: options.balance ?? true,
    confidence: options.confidence ?? 'probability',
    backgroundIndex: options.backgroundIndex ?? 0,
    ignoreIndex: options.ignoreIndex ?? 255,
  };
  const {
    margin,
    gamma,
    assignment,
    includeAssignedCentroid,
    balance,
    confidence,
    backgroundIndex,
    ignoreIndex,
  } = resolved;
  const implementation = options.implementation ?? 'auto';
  if (
    confidence === 'probability' &&
    (probabilities?.rank !== 4 || probabilities.shape.slice(0, 3).join() !== [b, h, w].join())
  ) {
    throw new Error(
      `labelReassignLoss: probabilities must be [${b}, ${h}, ${w}, C] (or use confidence: 'uniform')`,
    );
  }
  if (!usesFusedPass(implementation)) {
    const classes = probabilities?.shape[3] ?? options.numClasses;
    if (classes === undefined)
      throw new Error(
        'labelReassignLoss: the tf-ops path needs the number of classes: pass probabilities [B, H, W, C] or options.numClasses',
      );
    return labelReassignLossOnDevice(embeddings, labels, probabilities, classes, resolved);
  }
  const labelValues = labels.dataSync();
  const probValues = confidence === 'probability' ? (probabilities as tf.Tensor4D).dataSync() : undefined;
  const classes = probabilities?.shape[3] ?? 0;
  const n = h * w;
  // all images at once: rows are pixels, columns the (at most kMax) classes present in the row's image
  const images = Array.from({ length: b }, (_, img) =>
    labelledPixels(labelValues.subarray(img * n, (img + 1) * n), ignoreIndex),
  );
  const used = images.filter((p) => p.classes.length >= 2).length;
  if (used === 0) return tf.scalar(0);
  const kMax = Math.max(...images.map((p) => p.classes.length));
  const weights = new Float32Array(b * n * kMax);
  images.forEach((pixels, img) => {
    if (pixels.classes.length < 2) return;
    pixels.positions.forEach((pos, e) => {
      const label = pixels.classes[pixels.classIndex[e]];
      if (probValues && label >= classes)
        throw new Error(`labelReassignLoss: label ${label} has no probability channel (C = ${classes})`);
      weights[(img * n + pos) * kMax + pixels.classIndex[e]] = probValues
        ? probValues[(img * n + pos) * classes + label]
        : 1;
    });
  });
  return tf.tidy(() => {
    const x = tf.reshape(embeddings, [b * n, d]) as tf.Tensor2D;
    const similarity = centroidCosineSimilarity(x, weights, kMax, { groups: b, implementation });
    const s = similarity.dataSync();
    const own = new Float32Array(b * n * kMax);
    const second = new Float32Array(b * n * kMax);
    const others = new Float32Array(b * n * kMax);
    const rowWeight = new Float32Array(b * n);
    images.forEach((pixels, img) => {
      const k = pixels.classes.length;
      if (k < 2) return;
      const assigned = Array.from(pixels.positions, (pos, e) => {
        const row = (img * n + pos) * kMax;
        let i = pixels.classIndex[e];
        if (assignment === 'reassign') for (let c = 0; c < k; c++) if (s[row + c] > s[row + i]) i = c;
        let j = i === 0 ? 1 : 0;
        for (let c = 0; c < k; c++) if (c !== i && s[row + c] > s[row + j]) j = c;
        own[row + i] = 1;
        second[row + j] = 1;
        for (let c = 0; c < k; c++) if (c !== i || includeAssignedCentroid) others[row + c] = 1;
        return i;
      });
      // per image: mean over E_bg + mean over E_fg (or one mean), then the mean over images
      const isBackground = assigned.map((i) => pixels.classes[i] === backgroundIndex);
      const bgCount = isBackground.filter(Boolean).length;
      const fgCount = assigned.length - bgCount;
      pixels.positions.forEach((pos, e) => {
        const count = !balance ? assigned.length : isBackground[e] ? bgCount : fgCount;
        rowWeight[img * n + pos] = 1 / (count * used);
      });
    });
    const ownMask = tf.tensor2d(own, [b * n, kMax]);
    const si = tf.sum(tf.mul(similarity, ownMask), 1, true);
    const sj = tf.sum(tf.mul(similarity, tf.tensor2d(second, [b * n, kMax])), 1, true);
    const hinge = tf.sum(
      tf.mul(tf.relu(tf.sub(tf.add(similarity, margin), si)), tf.tensor2d(others, [b * n, kMax])),
      1,
    );
    const alpha = tf.reshape(labelReassignModulation(si, sj, gamma), [b * n]);
    return tf.sum(tf.mul(tf.mul(alpha, hinge), tf.tensor1d(rowWeight))) as tf.Scalar;
  });
}

/** {@link labelReassignLoss} with its options bound. */
export class LabelReassignLoss {
  constructor(readonly options: LabelReassignOptions = {}) {}
  call(embeddings: tf.Tensor4D, labels: tf.Tensor3D, probabilities?: tf.Tensor4D): tf.Scalar {
    return labelReassignLoss(embeddings, labels, probabilities, this.options);
  }
}
