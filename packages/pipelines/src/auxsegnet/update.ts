import { type HeuristicFusionOptions, heuristicFusion } from '@wsss/cam';
import { type RgbImage, tf } from '@wsss/core';
import { saliencyCrf } from '@wsss/crf';

/**
 * The pseudo labels of CAMs [N x K] and saliency [N]: AuxSegNet's heuristic fusion where the dataset has a background
 * (0); without one (CamVid: every pixel is some class, saliency separates nothing from "background") the CAM's
 * argmax class where its maximum exceeds the CAM threshold, the rest ignored (255).
 */
export function fusedPseudoLabels(
  cams: ArrayLike<number>,
  classValues: readonly number[],
  saliency: ArrayLike<number>,
  options: HeuristicFusionOptions & { background: boolean },
): Uint8Array {
  const { background, ...fusion } = options;
  if (background) return heuristicFusion(cams, classValues, saliency, fusion);
  // with a saliency of 1 everywhere heuristicFusion never says "background": CAM class or ignored
  return heuristicFusion(cams, classValues, new Float32Array(saliency.length).fill(1), {
    ...fusion,
    saliencyThreshold: 0.5,
  });
}

/**
 * AuxSegNet's pseudo-label update for one image (digest section 10.4, steps 2 and 3), given the network's A_ct-refined
 * CAMs of the labelled classes and its predicted saliency at the image's size: the new saliency is the mean of the
 * prediction and the *original* map, refined by the 2-label saliency CRF (`saliencyCrf`, 1 iteration) unless
 * `saliencyCrf` is false; the new labels are the heuristic fusion of the refined CAMs and the new saliency (see
 * {@link fusedPseudoLabels} for datasets without background). Without a predicted saliency (no saliency branch) the
 * original map is used as it is.
 *
 * Shape: refinedCams [N x K] (pixel-major), classValues [K], saliency maps [N] in [0, 1] -> labels [N], saliency [N].
 */
export async function updatedPseudoLabels(
  image: RgbImage,
  refinedCams: Float32Array,
  classValues: readonly number[],
  saliency: { original: Float32Array; predicted?: Float32Array },
  options: { fusion: HeuristicFusionOptions; saliencyCrf: boolean; background?: boolean },
): Promise<{ labels: Uint8Array; saliency: Float32Array }> {
  const { original, predicted } = saliency;
  const pixels = image.width * image.height;
  if (original.length !== pixels || (predicted && predicted.length !== pixels)) {
    throw new Error(
      `updatedPseudoLabels: saliency maps must hold H x W = ${pixels} values, got ${original.length} and ${predicted?.length}`,
    );
  }
  let updated = original;
  if (predicted) {
    const fused = predicted.map((s, i) => (s + original[i]) / 2);
    updated = options.saliencyCrf ? await saliencyCrf(image, fused) : fused;
  }
  const labels = fusedPseudoLabels(refinedCams, classValues, updated, {
    ...options.fusion,
    background: options.background ?? true,
  });
  return { labels, saliency: updated };
}

/**
 * Step 1 of the update: the CAMs of the labelled classes (`present`, channel indices of the activation maps), ReLU and
 * divided by their spatial maximum (+1e-5), propagated once by the cross-task affinity (`refined = A_ct · cam`) when
 * there is one; the reference does not renormalise them afterwards (`renormalise` does).
 *
 * Shape: activationMaps [1, h, w, L], crossTask [1, N, N] (N = h w) -> [1, h, w, K].
 */
export function propagatedCams(
  activationMaps: tf.Tensor4D,
  present: readonly number[],
  crossTask: tf.Tensor3D | undefined,
  renormalise: boolean,
): tf.Tensor4D {
  const [b, h, w] = activationMaps.shape;
  if (b !== 1) throw new Error(`propagatedCams: one image at a time, got a batch of ${b}`);
  if (crossTask && (crossTask.shape[1] !== h * w || crossTask.shape[2] !== h * w))
    throw new Error(`propagatedCams: crossTask must be [1, ${h * w}, ${h * w}], got [${crossTask.shape}]`);
  return tf.tidy(() => {
    if (!present.length) return tf.zeros([1, h, w, 0]) as tf.Tensor4D;
    const normalise = (maps: tf.Tensor4D) =>
      tf.div(maps, tf.add(tf.max(maps, [1, 2], true), 1e-5)) as tf.Tensor4D;
    const cams = normalise(tf.relu(tf.gather(activationMaps, present, 3)));
    if (!crossTask) return cams;
    const refined = tf.reshape(tf.matMul(crossTask, tf.reshape(cams, [1, h * w, present.length])), [
      1,
      h,
      w,
      present.length,
    ]) as tf.Tensor4D;
    return renormalise ? normalise(tf.relu(refined)) : refined;
  });
}
