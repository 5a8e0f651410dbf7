import { sumTensors, tf } from '@wsss/core';
import { checkInputs } from './affinity_loss';
import { neighbourShifts } from './pair_divergence';

export interface AffinityFieldOptions {
  /** Patch sizes s: neighbours are the 8 corners of (2s+1)^2 patches. Default [1, 2, 3] (AAF); [1] is the plain affinity loss. */
  sizes?: number[];
  /** Margin of the edge hinge. Default 3 (AAF's kld_margin). */
  margin?: number;
  /** lambda_1 (edge) and lambda_2 (non-edge) weights. Default 1 and 1. */
  edgeWeight?: number;
  notEdgeWeight?: number;
  /**
   * AAF's learned per-class size weights, [classes, sizes] each, softmaxed over sizes; a pixel's terms are weighted by
   * the row of its own label. AAF trains them by gradient ascent (minimax): negate their gradients.
   */
  sizeWeights?: { edge: tf.Variable; notEdge: tf.Variable };
  /** The decay 10^(-step / totalSteps) that multiplies the loss (AAF issue 6: needed for convergence). */
  decay?: { step: number; totalSteps: number };
  ignoreIndex?: number;
  clip?: number;
}

/**
 * 1 for the pairs (pixel, each of the 8 corner neighbours at `size`) that AAF ignores: the pixel, the neighbour or the
 * opposite neighbour unlabelled or outside the image. [B, H, W, 1] per neighbour, with tf ops (no readback).
 */
function ignoredPairs(labels: tf.Tensor3D, size: number, ignoreIndex: number): tf.Tensor4D[] {
  const unlabelled = tf.expandDims(tf.cast(tf.equal(labels, ignoreIndex), 'float32'), 3) as tf.Tensor4D;
  const shifted = neighbourShifts(unlabelled, size, 1);
  // eightNeighbours is symmetric: offset 7 - k is offset k negated
  return shifted.map((s, k) => tf.maximum(unlabelled, tf.maximum(s, shifted[7 - k])) as tf.Tensor4D);
}

/**
 * The affinity field loss of AAF (Ke et al. 2018), the per-class form of the pairwise affinity loss: for every class
 * c and each of the 8 corner neighbours j of pixel i, with KL_c = KL(Bern(p_jc) || Bern(p_ic)) (probabilities clipped),
 *
 *   edge (one-hot_c of the labels differ):  max(0, m - KL_c)      non-edge (they agree):  KL_c
 *
 * each averaged over its selected (pixel, neighbour, class) entries (ignore computed in both directions, as AAF),
 * `L = sum_s (lambda_1 edge_s + lambda_2 notEdge_s) * 10^(-step / totalSteps)`.
 *
 * Shape: probabilities [B, H, W, C], labels [B, H, W] int32 -> scalar.
 */
export function affinityFieldLoss(
  probabilities: tf.Tensor4D,
  labels: tf.Tensor3D,
  options: AffinityFieldOptions = {},
): tf.Scalar {
  const shape = checkInputs(probabilities, labels, 'affinityFieldLoss');
  const [b, h, w] = shape;
  const classes = probabilities.shape[3];
  const {
    sizes = [1, 2, 3],
    margin = 3,
    edgeWeight = 1,
    notEdgeWeight = 1,
    sizeWeights,
    decay,
    ignoreIndex = 255,
    clip = 1e-4,
  } = options;
  if (
    sizeWeights &&
    (sizeWeights.edge.shape.join() !== `${classes},${sizes.length}` ||
      sizeWeights.notEdge.shape.join() !== `${classes},${sizes.length}`)
  ) {
    throw new Error(
      `affinityFieldLoss: sizeWeights must be [classes, sizes] = [${classes}, ${sizes.length}]`,
    );
  }
  return tf.tidy(() => {
    const classOf = tf.cast(labels, 'int32') as tf.Tensor3D;
    const p = tf.clipByValue(probabilities, clip, 1 - clip) as tf.Tensor4D;
    const logP = tf.log(p);
    const log1mP = tf.log(tf.sub(1, p));
    const onehot = tf.oneHot(classOf, classes) as tf.Tensor4D; // 255 -> all zero
    // each pixel's row of the size weights, as a one-hot product (a gather's gradient needs a kernel wasm lacks)
    const ownClass = tf.where(tf.equal(classOf, ignoreIndex), tf.zerosLike(classOf), classOf);
    const own = tf.oneHot(tf.reshape(ownClass, [-1]) as tf.Tensor1D, classes).toFloat();
    const perPixel = (weights: tf.Variable, s: number) =>
      tf.reshape(tf.matMul(own, tf.slice(tf.softmax(weights, 1), [0, s], [classes, 1])), [b, h, w, 1]);
    const terms = sizes.map((size, s) => {
      const ignored = ignoredPairs(classOf, size, ignoreIndex);
      const shiftedOnehot = neighbourShifts(onehot, size);
      const sums = {
        edge: [] as tf.Tensor[],
        edgeCount: [] as tf.Tensor[],
        notEdge: [] as tf.Tensor[],
        notEdgeCount: [] as tf.Tensor[],
      };
      // outside pairs are ignored; 0.5 keeps their logs finite
      neighbourShifts(p, size, 0.5).forEach((q, k) => {
        // KL(Bern(q) || Bern(p)) per class: [B, H, W, C]
        const kl = tf.sub(
          tf.add(tf.mul(q, tf.log(q)), tf.mul(tf.sub(1, q), tf.log(tf.sub(1, q)))),
          tf.add(tf.mul(q, logP), tf.mul(tf.sub(1, q), log1mP)),
        );
        const keep = tf.sub(1, ignored[k]);
        const edge = tf.mul(tf.notEqual(shiftedOnehot[k], onehot).toFloat(), keep);
        const notEdge = tf.sub(keep, edge);
        let edgeLoss = tf.relu(tf.sub(margin, kl));
        let notEdgeLoss = kl;
        if (sizeWeights) {
          edgeLoss = tf.mul(edgeLoss, perPixel(sizeWeights.edge, s));
          notEdgeLoss = tf.mul(notEdgeLoss, perPixel(sizeWeights.notEdge, s));
        }
        sums.edge.push(tf.sum(tf.mul(edgeLoss, edge)));
        sums.edgeCount.push(tf.sum(edge));
        sums.notEdge.push(tf.sum(tf.mul(notEdgeLoss, notEdge)));
        sums.notEdgeCount.push(tf.sum(notEdge));
      });
      const mean = (total: tf.Tensor[], count: tf.Tensor[]) =>
        tf.div(sumTensors(total), tf.maximum(sumTensors(count), 1));
      return tf.add(
        tf.mul(edgeWeight, mean(sums.edge, sums.edgeCount)),
        tf.mul(notEdgeWeight, mean(sums.notEdge, sums.notEdgeCount)),
      );
    });
    const total = sumTensors(terms);
    return (decay ? tf.mul(total, 10 ** (-decay.step / decay.totalSteps)) : total) as tf.Scalar;
  });
}

/** {@link affinityFieldLoss} with its options bound. */
export class AffinityFieldLoss {
  constructor(readonly options: AffinityFieldOptions = {}) {}
  call(probabilities: tf.Tensor4D, labels: tf.Tensor3D): tf.Scalar {
    return affinityFieldLoss(probabilities, labels, this.options);
  }
}
