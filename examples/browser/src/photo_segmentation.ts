/**
 * What the demo page computes, as one function that runs the same in the page and in Node (the page's test compares
 * the two): the ImageNet MobileNetV2 decides which VOC classes a photo shows, its classifier weights give the CAMs of
 * those classes (no training: each VOC class uses the column of its best-scoring ImageNet class), and two
 * refinements turn the CAMs into label maps: psa's dense CRF over [(1 - max)^4, CAMs], and psa's random walk over
 * pair affinities of the network's own features (AffinityNet's exp(-mean |f_i - f_j|), untrained here).
 */
import { pairAffinity, pairIndices, randomWalkOpAsync } from '@wsss/affinity';
import { camLabelsAsync, crfScores, multiScaleCam, resizeBicubic } from '@wsss/cam';
import { type LabelMap, MOBILENET_NORMALIZATION, normalizeImages, type RgbImage, tf } from '@wsss/core';
import { crfOnScores } from '@wsss/crf';
import { VOC_CLASSES } from '@wsss/datasets';
import {
  bestImageNetClassPerVocClass,
  type LoadWeightsOptions,
  loadWeights,
  MobileNetV2,
  vocProbabilitiesFromImageNet,
} from '@wsss/models';

/** The ImageNet MobileNetV2 twice: as trained (stride 32) to classify, dilated (stride 16) for CAMs and features. */
export interface PhotoNetworks {
  classifier: MobileNetV2;
  dilated: MobileNetV2;
  dispose(): void;
}

/** Loads the ImageNet MobileNetV2 weights (a TF.js manifest folder or URL) once into both networks. */
export async function loadPhotoNetworks(
  weights: string,
  onProgress?: LoadWeightsOptions['onProgress'],
): Promise<PhotoNetworks> {
  const { tensors } = await loadWeights(weights, { onProgress });
  const classifier = new MobileNetV2({ includeTop: true, randomInit: false });
  const dilated = new MobileNetV2({ includeTop: true, outputStride: 16, randomInit: false });
  try {
    classifier.params.load(tensors, { strict: true });
    dilated.params.load(tensors, { strict: true });
  } finally {
    tf.dispose(Object.values(tensors));
  }
  return {
    classifier,
    dilated,
    dispose() {
      classifier.dispose();
      dilated.dispose();
    },
  };
}

export interface PhotoOptions {
  /** Longer side the photo is resized to first (bicubic). Default 320. */
  maxSide?: number;
  /** CAM scales (psa: 1, 0.5, 1.5, 2). Default [1, 0.5, 1.5]. */
  scales?: number[];
  /** Add the flipped inputs to the CAMs. Default true. */
  flip?: boolean;
  /** VOC classes with an ImageNet-derived probability at least this are present (the best one always is). Default 0.1. */
  minProbability?: number;
  /** Background score of the CAM labels (psa's quick labels: 0.2). Default 0.2. */
  camThreshold?: number;
  /** Background power of the CRF's scores (psa's low alpha). Default 4. */
  crfAlpha?: number;
  /** Background power of the random walk's scores, beta and log2 of its steps (psa infer_aff: 16, 8, 8). */
  walk?: { alpha?: number; beta?: number; logSteps?: number };
}

/** What {@link segmentPhoto} returns: the photo as processed, its classes, the CAMs' maximum and three label maps. */
export interface PhotoResult {
  image: RgbImage;
  /** Present VOC classes: mask value, name, probability. */
  classes: { value: number; name: string; probability: number }[];
  /** [H*W] the largest CAM of the present classes per pixel (for a heat map). */
  camMax: Float32Array;
  labels: { cam: LabelMap; crf: LabelMap; walk: LabelMap };
  /** Milliseconds per step. */
  ms: { classify: number; cams: number; camLabels: number; crf: number; randomWalk: number };
}

/** The steps of {@link segmentPhoto}, reported as each begins. */
export type PhotoStep = keyof PhotoResult['ms'];

const VOC_VALUES = VOC_CLASSES.slice(1).map((_, c) => c + 1);

/**
 * CAM, dense-CRF and random-walk label maps of a photo (VOC classes) from the ImageNet MobileNetV2. Every readback
 * is asynchronous, so it runs on webgpu as on wasm and cpu.
 *
 * ```ts
 * const nets = await loadPhotoNetworks('/weights/mobilenet_v2_1.0_224');
 * const { classes, labels } = await segmentPhoto(await readImage('/images/cat.bmp'), nets);
 * ```
 */
export async function segmentPhoto(
  photo: RgbImage,
  nets: PhotoNetworks,
  options: PhotoOptions = {},
  onStep?: (step: PhotoStep) => void,
): Promise<PhotoResult> {
  const {
    maxSide = 320,
    scales = [1, 0.5, 1.5],
    flip = true,
    minProbability = 0.1,
    camThreshold = 0.2,
    crfAlpha = 4,
  } = options;
  const walk = { alpha: 16, beta: 8, logSteps: 8, ...options.walk };
  const ms = { classify: 0, cams: 0, camLabels: 0, crf: 0, randomWalk: 0 };
  const timed = async <T>(step: PhotoStep, run: () => Promise<T>): Promise<T> => {
    onStep?.(step);
    const start = performance.now();
    const out = await run();
    ms[step] = performance.now() - start;
    return out;
  };
  const scale = maxSide / Math.max(photo.width, photo.height);
  const image =
    scale < 1
      ? resizeBicubic(photo, Math.round(photo.width * scale), Math.round(photo.height * scale))
      : photo;

  const logits = await timed('classify', async () => {
    const out = tf.tidy(() => {
      const x = tf.tensor4d(Float32Array.from(image.data), [1, image.height, image.width, 3]);
      const resized = tf.image.resizeBilinear(x, [224, 224], false, true);
      return nets.classifier.forward(normalizeImages(resized, MOBILENET_NORMALIZATION)).logits!;
    });
    const values = (await out.data()) as Float32Array;
    out.dispose();
    return values;
  });
  const probabilities = vocProbabilitiesFromImageNet(logits);
  const best = probabilities.indexOf(Math.max(...probabilities));
  const present = Uint8Array.from(probabilities, (p, c) => (p >= minProbability || c === best ? 1 : 0));
  const classes = [...present].flatMap((v, c) =>
    v ? [{ value: c + 1, name: VOC_CLASSES[c + 1], probability: probabilities[c] }] : [],
  );

  // CAMs of the 20 VOC classes from the ImageNet classifier's columns (absent ones zero)
  const kernel = nets.dilated.params.get('MobilenetV2/Logits/Conv2d_1c_1x1/kernel');
  const columns = bestImageNetClassPerVocClass(logits);
  const cams = await timed('cams', async () => {
    const maps = tf.tidy(() => {
      const weights = tf.gather(
        kernel,
        Array.from(columns, (k) => Math.max(k, 0)),
        3,
      ) as tf.Tensor4D;
      const mask = tf.tensor1d(Array.from(columns, (k) => (k < 0 ? 0 : 1)));
      // centred per image and class: an ImageNet classifier's class map is positive over most of a photo, and only
      // what rises above its mean is the object
      const network = (x: tf.Tensor4D) => {
        const raw = tf.conv2d(nets.dilated.forward(x).features, weights, 1, 'valid');
        return tf.mul(tf.sub(raw, tf.mean(raw, [1, 2], true)), mask) as tf.Tensor4D;
      };
      return multiScaleCam(image, present, network, { scales, flip, normalization: MOBILENET_NORMALIZATION });
    });
    await maps.data(); // settled, so that the time is the CAMs'
    return maps;
  });
  try {
    const cam = await timed('camLabels', () => camLabelsAsync(cams, VOC_VALUES, { threshold: camThreshold }));
    const camMax = tf.tidy(() => tf.max(cams, 2));
    const camMaxValues = (await camMax.data()) as Float32Array;
    camMax.dispose();

    const crf = await timed('crf', async () => {
      const scored = crfScores(cams, present, VOC_VALUES, crfAlpha);
      try {
        const { labels } = await crfOnScores(image, scored, { numClasses: 21 });
        return { width: image.width, height: image.height, data: labels };
      } finally {
        scored.scores.dispose();
      }
    });

    const walked = await timed('randomWalk', () => randomWalkLabels(image, cams, present, nets, walk));
    return { image, classes, camMax: camMaxValues, labels: { cam, crf, walk: walked }, ms };
  } finally {
    cams.dispose();
  }
}

/**
 * psa's random walk (infer_aff) with untrained affinities: the dilated network's features of the photo, scaled to a
 * mean magnitude of 1, give AffinityNet's pair affinities (radius 5, less on a small photo's feature map); the scores [(1 - max)^alpha, present CAMs] at
 * the features' resolution are propagated, upsampled bilinearly and argmaxed.
 */
async function randomWalkLabels(
  image: RgbImage,
  cams: tf.Tensor3D,
  present: Uint8Array,
  nets: PhotoNetworks,
  walk: { alpha: number; beta: number; logSteps: number },
): Promise<LabelMap> {
  const features = tf.tidy(() => {
    const x = tf.tensor4d(Float32Array.from(image.data), [1, image.height, image.width, 3]);
    const f = nets.dilated.forward(normalizeImages(x, MOBILENET_NORMALIZATION)).features;
    return tf.div(f, tf.add(tf.mean(tf.abs(f)), 1e-5)) as tf.Tensor4D;
  });
  const [, h, w] = features.shape;
  // psa's radius 5, smaller where the feature map of a small photo is too small for it
  const radius = Math.min(5, h, Math.floor((w + 1) / 2));
  if (radius < 2) {
    tf.dispose(features);
    throw new Error(
      `segmentPhoto: the photo (${image.width} x ${image.height}) is too small for the random walk`,
    );
  }
  const pairs = pairIndices(h, w, radius);
  const small = tf.tidy(() => tf.image.resizeBilinear(cams, [h, w], false, true) as tf.Tensor3D);
  const scored = crfScores(small, present, VOC_VALUES, walk.alpha);
  const affinity = tf.tidy(() => tf.squeeze(pairAffinity(features, pairs), [0]) as tf.Tensor2D);
  const channels = scored.classValues.length;
  const scores = tf.tidy(() => tf.transpose(tf.reshape(scored.scores, [h * w, channels])) as tf.Tensor2D);
  tf.dispose([features, small, scored.scores]);
  const propagated = await randomWalkOpAsync(affinity, scores, pairs, {
    beta: walk.beta,
    logSteps: walk.logSteps,
  });
  tf.dispose([affinity, scores]);
  const argmax = tf.tidy(() => {
    const maps = tf.reshape(tf.transpose(propagated), [h, w, channels]) as tf.Tensor3D;
    return tf.argMax(tf.image.resizeBilinear(maps, [image.height, image.width], false, true), 2);
  });
  propagated.dispose();
  const indices = (await argmax.data()) as Int32Array;
  argmax.dispose();
  return {
    width: image.width,
    height: image.height,
    data: Uint8Array.from(indices, (k) => scored.classValues[k]),
  };
}
