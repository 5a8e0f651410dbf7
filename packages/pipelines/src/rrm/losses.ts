import { adaptiveAffinityLoss, standardAffinityLoss } from '@wsss/affinity';
import { tf } from '@wsss/core';
import { labelReassignLoss } from '@wsss/label-reassign';
import { multilabelSoftMarginLoss, segmentationCrossEntropy } from '@wsss/models';
import type { RrmConfig } from './config';
import type { RrmOutputs } from './network';

export interface RrmTargets {
  /** [B, L] image-level labels. */
  labels: tf.Tensor2D;
  /** [B, H, W] int32 pseudo labels (255 unsure) at the input's resolution. */
  pseudoLabels?: tf.Tensor3D;
  /** [B, H, W] confidence V of each pixel for the AA loss (`losses.confidence: 'pseudo-label'`). */
  confidence?: tf.Tensor3D;
  /**
   * Mask value of the background, whose pixels L_CE and L_LR average apart from the others (RRM); null for a
   * dataset without background (one mean over all labelled pixels). Default 0.
   */
  background?: number | null;
}

/** The terms of one step's loss, each a scalar (absent when switched off or not yet on). */
export interface RrmLossTerms {
  total: tf.Scalar;
  classification: tf.Scalar;
  crossEntropy?: tf.Scalar;
  affinity?: tf.Scalar;
  labelReassign?: tf.Scalar;
}

/**
 * One step's loss of the RRM + AA/LR network, AA/LR paper section 4.1:
 *
 *   L = L_cls + L_CE + lambda_1 L_AA + lambda_2 L_LR
 *
 * L_cls the multi-label soft margin on the class logits; L_CE RRM's cross-entropy on the pseudo labels (background
 * and foreground pixels averaged separately and added);
 * L_AA the adaptive (or standard) affinity loss on the segmentation probabilities at the input's resolution; L_LR the
 * label-reassign loss on the embedding F^s at feature resolution (pseudo labels resized by nearest neighbour),
 * with the segmentation probabilities as the centroids' beta. Without pseudo labels (`joint` false: the
 * classification warm-up) only L_cls.
 */
export function rrmLoss(
  outputs: RrmOutputs,
  targets: RrmTargets,
  losses: RrmConfig['losses'],
  phase: { joint: boolean; labelReassign: boolean },
): RrmLossTerms {
  return tf.tidy((): RrmLossTerms & tf.TensorContainerObject => {
    const classification = multilabelSoftMarginLoss(outputs.classLogits, targets.labels);
    const pseudo = targets.pseudoLabels;
    const background = targets.background === undefined ? 0 : targets.background;
    if (!phase.joint || !pseudo) return { total: classification, classification };
    const terms: RrmLossTerms & tf.TensorContainerObject = { total: classification, classification };
    const parts: tf.Scalar[] = [classification];
    const logits = outputs.segmentationLogits;
    // upsampled once for CE and the affinity loss
    const [, height, width] = pseudo.shape;
    const up = tf.image.resizeBilinear(logits, [height, width], false, true);
    if (losses.crossEntropy) {
      terms.crossEntropy = segmentationCrossEntropy(up, pseudo, { balanceClass: background ?? undefined });
      parts.push(terms.crossEntropy);
    }
    if (losses.affinity !== 'none') {
      const probabilities = tf.softmax(up) as tf.Tensor4D;
      const common = { dilations: losses.dilations, margin: losses.margin };
      if (losses.affinity === 'standard') {
        terms.affinity = standardAffinityLoss(probabilities, pseudo, common);
      } else {
        if (losses.confidence === 'pseudo-label' && !targets.confidence)
          throw new Error("rrmLoss: losses.confidence 'pseudo-label' needs targets.confidence");
        const confidence = losses.confidence === 'prediction' ? 'maxProbability' : targets.confidence!;
        terms.affinity = adaptiveAffinityLoss(probabilities, pseudo, confidence, {
          ...common,
          connection: losses.connection,
        });
      }
      parts.push(tf.mul(losses.affinityWeight, terms.affinity) as tf.Scalar);
    }
    if (losses.labelReassign && phase.labelReassign) {
      const [, h, w] = outputs.embedding.shape;
      const small = tf.cast(
        tf.squeeze(
          tf.image.resizeNearestNeighbor(
            tf.expandDims(tf.cast(pseudo, 'float32'), 3) as tf.Tensor4D,
            [h, w],
            false,
            true,
          ),
          [3],
        ),
        'int32',
      ) as tf.Tensor3D;
      terms.labelReassign = labelReassignLoss(outputs.embedding, small, tf.softmax(logits) as tf.Tensor4D, {
        margin: losses.labelReassignMargin,
        gamma: losses.gamma,
        balance: background !== null,
        backgroundIndex: background ?? 0,
      });
      parts.push(tf.mul(losses.labelReassignWeight, terms.labelReassign) as tf.Scalar);
    }
    terms.total = tf.addN(parts) as tf.Scalar;
    return terms;
  });
}
