import { type Implementation, stopGradient, sumTensors, tf, usesFusedPass } from '@wsss/core';
import { fusedPairwiseAffinityLoss } from './fused_pairwise_loss';
import { type Divergence, divergenceAt, divergenceTerms, eightNeighbours } from './pair_divergence';
import { pairSetMaskTensors } from './pair_sets';

/** How the connection weight Omega_ij combines the confidences V_i, V_j (AA/LR paper eq. 7 uses max; table 3 compares). */
export type Connection = 'max' | 'min' | 'mean';

export interface AffinityLossOptions {
  /** Dilations of the 3 x 3 kernels, losses summed over them (eqs. 6, 12). Default [4, 8, 12, 24]. */
  dilations?: number[];
  /** Margin m of the negative hinge (eqs. 3, 10). Default 3. */
  margin?: number;
  /** W_ij: 'categorical' KL(F_i || F_j) (eq. 4, default) or AAF's per-class binary KL summed over classes. */
  divergence?: Divergence;
  /** Label of unlabelled pixels. Default 255. */
  ignoreIndex?: number;
  /**
   * 'fused': one WebAssembly pass computing loss and gradient (reads the probabilities back; the fast path on cpu
   * and wasm); 'ops': tf ops and autodiff (stays on the device, e.g. WebGPU). 'auto' (default): fused on cpu/wasm.
   */
  implementation?: Implementation;
}

/** Mean of `values` over `mask`, 0 when the mask is empty (AAF issue 14: empty edge sets gave NaN). */
function maskedMean(values: tf.Tensor, mask: tf.Tensor): tf.Scalar {
  return tf.div(tf.sum(tf.mul(values, mask)), tf.maximum(tf.sum(mask), 1)) as tf.Scalar;
}

export function checkInputs(
  probabilities: tf.Tensor4D,
  labels: tf.Tensor3D,
  fn: string,
): [number, number, number] {
  const [b, h, w] = probabilities.shape;
  if (probabilities.rank !== 4)
    throw new Error(`${fn}: probabilities must be [B, H, W, C], got [${probabilities.shape}]`);
  if (labels.rank !== 3 || labels.shape[0] !== b || labels.shape[1] !== h || labels.shape[2] !== w) {
    throw new Error(`${fn}: labels must be [${b}, ${h}, ${w}] like probabilities, got [${labels.shape}]`);
  }
  return [b, h, w];
}

/**
 * The pairwise terms shared by SA and AA: for every dilation k,
 * `L_fg+ + L_bg+ + 2 L-` with `L_fg+ = mean_{P+fg} Omega W`, `L_bg+ = mean_{P+bg} Omega W`,
 * `L- = mean_{P-} max(0, Omega m - W)`; Omega = 1 gives the standard loss.
 */
function pairwiseAffinityLoss(
  probabilities: tf.Tensor4D,
  labels: tf.Tensor3D,
  omega: ((dilation: number) => tf.Tensor4D) | undefined,
  options: AffinityLossOptions,
  fn: string,
  fused?: { connection: 1 | 2 | 3; confidence: () => ArrayLike<number> },
): tf.Scalar {
  checkInputs(probabilities, labels, fn);
  const {
    dilations = [4, 8, 12, 24],
    margin = 3,
    divergence = 'categorical',
    ignoreIndex = 255,
    implementation = 'auto',
  } = options;
  if (usesFusedPass(implementation)) {
    // the fused pass reads everything back; the ops below never do (WebGPU reads only asynchronously)
    return fusedPairwiseAffinityLoss(probabilities, labels.dataSync(), {
      dilations,
      margin,
      divergence,
      ignoreIndex,
      clip: 1e-4,
      connection: fused?.connection ?? 0,
      confidence: fused?.confidence(),
    });
  }
  return tf.tidy(() => {
    const pieces = divergenceTerms(probabilities, divergence);
    const terms = dilations.map((d) => {
      const sets = pairSetMaskTensors(labels, d, ignoreIndex);
      const w = divergenceAt(pieces, d);
      const weight = omega?.(d);
      const weighted = weight ? tf.mul(weight, w) : w;
      const hinge = tf.relu(tf.sub(weight ? tf.mul(weight, margin) : tf.scalar(margin), w));
      return sumTensors([
        maskedMean(weighted, sets.fg),
        maskedMean(weighted, sets.bg),
        tf.mul(2, maskedMean(hinge, sets.negative)),
      ]);
    });
    return sumTensors(terms) as tf.Scalar;
  });
}

/**
 * Standard affinity (SA) loss, AA/LR paper eqs. 1-6: over pixel pairs of 3 x 3 kernels at several dilations,
 *
 *   L_SKSA = mean_{P+fg} W_ij + mean_{P+bg} W_ij + 2 mean_{P-} max(0, m - W_ij),   L_SA = sum_k L_SKSA^k
 *
 * with W_ij = KL(F_i || F_j) of the predicted class distributions and pair sets from the (pseudo) labels:
 * P+fg same foreground class, P+bg both background, P- different classes; ignored and out-of-image pairs excluded,
 * empty sets contribute 0.
 *
 * Shape: probabilities [B, H, W, C] (softmax), labels [B, H, W] int32 -> scalar.
 */
export function standardAffinityLoss(
  probabilities: tf.Tensor4D,
  labels: tf.Tensor3D,
  options: AffinityLossOptions = {},
): tf.Scalar {
  return pairwiseAffinityLoss(probabilities, labels, undefined, options, 'standardAffinityLoss');
}

export interface AdaptiveAffinityOptions extends AffinityLossOptions {
  /** Omega_ij from V_i, V_j: 'max' (eq. 7, default), 'min' or 'mean'. */
  connection?: Connection;
}

/**
 * Adaptive affinity (AA) loss, AA/LR paper eqs. 7-12: the SA loss with each pair weighted by a connection weight
 * Omega_ij = max(V_i, V_j) of the pixels' confidence scores V in [0, 1]:
 *
 *   L_SKAA = mean_{P+fg} Omega W + mean_{P+bg} Omega W + 2 mean_{P-} max(0, Omega m - W),   L_AA = sum_k L_SKAA^k
 *
 * The paper does not say where V comes from: pass a map (e.g. the CAM or CRF confidence of the pseudo label), or
 * 'maxProbability' for the prediction's own max class probability. V is a weight, not differentiated.
 *
 * Shape: probabilities [B, H, W, C], labels [B, H, W] int32, confidence [B, H, W] -> scalar.
 *
 * @example
 * ```ts
 * const loss = adaptiveAffinityLoss(tf.softmax(logits), pseudoLabels, 'maxProbability', { connection: 'max' });
 * ```
 */
export function adaptiveAffinityLoss(
  probabilities: tf.Tensor4D,
  labels: tf.Tensor3D,
  confidence: tf.Tensor3D | 'maxProbability',
  options: AdaptiveAffinityOptions = {},
): tf.Scalar {
  const [b, h, w] = checkInputs(probabilities, labels, 'adaptiveAffinityLoss');
  if (
    confidence !== 'maxProbability' &&
    (confidence.rank !== 3 || confidence.shape.join() !== [b, h, w].join())
  ) {
    throw new Error(`adaptiveAffinityLoss: confidence must be [${b}, ${h}, ${w}], got [${confidence.shape}]`);
  }
  const { connection = 'max' } = options;
  return tf.tidy(() => {
    // Omega carries no gradient: V enters as a constant (through a zero-gradient identity, no readback)
    const v = stopGradient(
      tf.reshape(confidence === 'maxProbability' ? tf.max(probabilities, 3) : confidence, [b, h, w, 1]),
    ) as tf.Tensor4D;
    const omega = (d: number) => {
      const pad = tf.pad(v, [
        [0, 0],
        [d, d],
        [d, d],
        [0, 0],
      ]);
      const nbr = tf.concat(
        eightNeighbours(d).map(([dy, dx]) => tf.slice(pad, [0, d + dy, d + dx, 0], [b, h, w, 1])),
        3,
      );
      // tiled, not broadcast: tfjs' maximum / minimum gradients do not reduce a broadcast input
      const own = tf.tile(v, [1, 1, 1, 8]);
      if (connection === 'max') return tf.maximum(own, nbr) as tf.Tensor4D;
      if (connection === 'min') return tf.minimum(own, nbr) as tf.Tensor4D;
      return tf.div(tf.add(own, nbr), 2) as tf.Tensor4D;
    };
    const code = ({ max: 1, min: 2, mean: 3 } as const)[connection];
    return pairwiseAffinityLoss(probabilities, labels, omega, options, 'adaptiveAffinityLoss', {
      connection: code,
      confidence: () => v.dataSync(),
    });
  });
}

/** {@link standardAffinityLoss} with its options bound. */
export class StandardAffinityLoss {
  constructor(readonly options: AffinityLossOptions = {}) {}
  call(probabilities: tf.Tensor4D, labels: tf.Tensor3D): tf.Scalar {
    return standardAffinityLoss(probabilities, labels, this.options);
  }
}

/** {@link adaptiveAffinityLoss} with its options bound. */
export class AdaptiveAffinityLoss {
  constructor(readonly options: AdaptiveAffinityOptions = {}) {}
  call(
    probabilities: tf.Tensor4D,
    labels: tf.Tensor3D,
    confidence: tf.Tensor3D | 'maxProbability' = 'maxProbability',
  ): tf.Scalar {
    return adaptiveAffinityLoss(probabilities, labels, confidence, this.options);
  }
}
