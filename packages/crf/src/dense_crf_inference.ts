import { type RgbImage, tf } from '@wsss/core';
import { DenseCrf, type InferenceOptions } from './dense_crf';
import { CRF_PRESETS, type CrfParams, type CrfPresetName } from './presets';
import { saliencyUnary } from './unary';

export interface CrfResult {
  /** Marginals, [labels x pixels] label-major. */
  q: Float32Array;
  /** Argmax of q per pixel, [pixels]. */
  labels: Uint8Array;
}

type ImageLike = Pick<RgbImage, 'width' | 'height' | 'data'>;

function resolve(params: CrfParams | CrfPresetName): CrfParams {
  if (typeof params !== 'string') return params;
  const preset = CRF_PRESETS[params];
  if (!preset)
    throw new Error(
      `denseCrf: unknown preset '${params}'; expected one of ${Object.keys(CRF_PRESETS).join(', ')}`,
    );
  return preset;
}

/** The unary of {@link denseCrf}, label-major [labels x H*W]: energies, or probabilities (U = -log(clip(p))). */
export type CrfInput = { unary: Float32Array } | { probabilities: Float32Array; clip?: number };

/**
 * One call from scores to labels: builds the CRF over `image` with the preset's (or given) kernels, runs mean field
 * and takes the argmax.
 *
 * @example
 * ```ts
 * const { labels } = await denseCrf(image, { probabilities }, 'psa'); // probabilities: [21 x H*W]
 * ```
 */
export async function denseCrf(
  image: ImageLike,
  input: CrfInput,
  params: CrfParams | CrfPresetName = 'psa',
  options: InferenceOptions = {},
): Promise<CrfResult> {
  const { gaussian, bilateral, iterations } = resolve(params);
  const pixels = image.width * image.height;
  if (pixels === 0) throw new Error('denseCrf: image is empty');
  const values = 'unary' in input ? input.unary : input.probabilities;
  if (values.length === 0 || values.length % pixels !== 0) {
    const name = 'unary' in input ? 'unary' : 'probabilities';
    throw new Error(
      `denseCrf: ${name} must hold labels x ${image.height} x ${image.width} values, got ${values.length}`,
    );
  }
  const labels = values.length / pixels;
  const crf = new DenseCrf(image.width, image.height, labels);
  if ('unary' in input) crf.setUnaryEnergy(input.unary);
  else crf.setUnaryFromSoftmax(input.probabilities, { clip: input.clip });
  if (gaussian) crf.addPairwiseGaussian(gaussian);
  if (bilateral) crf.addPairwiseBilateral({ ...bilateral, image });
  return crf.inferenceWithLabels(iterations, options);
}

/**
 * Scores over background + present classes for {@link crfOnScores}, background first, `classValues[k]` the class of
 * channel k (0 for the background); not renormalised, as in the references. Either the tensor that @wsss/cam's
 * `crfScores` returns (channels last, as every tensor in the project) or a label-major array; a bare array is
 * refused because its layout cannot be told from its length.
 */
export type CrfScores =
  | {
      /** [H, W, 1 + K] (pixel-major, channels last), e.g. `crfScores(cams, labels, classValues, alpha)`. */
      scores: tf.Tensor3D;
      classValues: readonly number[];
    }
  | {
      /** [(1 + K) x H*W] label-major (plane by plane), as pydensecrf and {@link denseCrf} take them. */
      labelMajor: Float32Array;
      classValues: readonly number[];
    };

/**
 * psa / RRM CAM refinement: a CRF over background + the present classes only, scattered back to `numClasses`
 * channels (absent classes 0). The returned labels are class values.
 *
 * @example
 * ```ts
 * const { labels } = await crfOnScores(image, crfScores(cams, imageLabels, classValues, 4)); // psa's "la" labels
 * ```
 */
export async function crfOnScores(
  image: ImageLike,
  input: CrfScores,
  options: InferenceOptions & { numClasses?: number; params?: CrfParams | CrfPresetName } = {},
): Promise<CrfResult> {
  const { numClasses = 21, params = 'psa' } = options;
  const { classValues, probabilities } = await labelMajorScores(image, input);
  for (const value of classValues) {
    if (!Number.isInteger(value) || value < 0 || value >= numClasses) {
      throw new Error(`crfOnScores: class value ${value} is not in 0..${numClasses - 1}`);
    }
  }
  const pixels = image.width * image.height;
  const result = await denseCrf(image, { probabilities }, params, options);
  const q = new Float32Array(numClasses * pixels);
  classValues.forEach((value, k) => {
    q.set(result.q.subarray(k * pixels, (k + 1) * pixels), value * pixels);
  });
  return { q, labels: Uint8Array.from(result.labels, (k) => classValues[k]) };
}

/** The scores of {@link crfOnScores} label-major, checked against the image; tensors are read asynchronously. */
async function labelMajorScores(
  image: ImageLike,
  input: CrfScores,
): Promise<{ classValues: readonly number[]; probabilities: Float32Array }> {
  const { width, height } = image;
  if (
    input === null ||
    typeof input !== 'object' ||
    ArrayBuffer.isView(input) ||
    input instanceof tf.Tensor ||
    !Array.isArray(input.classValues)
  ) {
    throw new Error(
      'crfOnScores: scores must be { scores: Tensor3D [H, W, 1 + K], classValues } (what @wsss/cam crfScores returns) or { labelMajor: Float32Array [(1 + K) x H x W], classValues }; a bare array or tensor has no known layout',
    );
  }
  const { classValues } = input;
  const channels = classValues.length;
  if ('labelMajor' in input) {
    if (channels < 1 || input.labelMajor.length !== channels * width * height) {
      throw new Error(
        `crfOnScores: labelMajor must hold classValues.length x H x W = ${channels} x ${height} x ${width} values, got ${input.labelMajor.length}`,
      );
    }
    return { classValues, probabilities: input.labelMajor };
  }
  const { scores } = input;
  if (!(scores instanceof tf.Tensor) || scores.rank !== 3) {
    throw new Error('crfOnScores: scores must be a Tensor3D [H, W, 1 + K]');
  }
  const [h, w, c] = scores.shape;
  if (h !== height || w !== width || c !== channels || channels < 1) {
    throw new Error(
      `crfOnScores: scores must be [H, W, classValues.length] = [${height}, ${width}, ${channels}], got [${scores.shape}]`,
    );
  }
  const pixelMajor = await scores.data();
  const pixels = width * height;
  const probabilities = new Float32Array(channels * pixels);
  for (let i = 0; i < pixels; i++) {
    for (let k = 0; k < channels; k++) probabilities[k * pixels + i] = pixelMajor[i * channels + k];
  }
  return { classValues, probabilities };
}

/**
 * AuxSegNet's saliency refinement (`crf_for_sal`): a 2-label CRF on {@link saliencyUnary} with the
 * `auxSegNetSaliency` preset (1 iteration); returns the foreground marginal [H*W].
 */
export async function saliencyCrf(
  image: ImageLike,
  saliency: ArrayLike<number>,
  params: CrfParams | CrfPresetName = 'auxSegNetSaliency',
): Promise<Float32Array> {
  const pixels = image.width * image.height;
  if (saliency.length !== pixels) {
    throw new Error(
      `saliencyCrf: saliency must hold H x W = ${image.height} x ${image.width} values, got ${saliency.length}`,
    );
  }
  const { q } = await denseCrf(image, { unary: saliencyUnary(saliency) }, params);
  return q.slice(pixels);
}
