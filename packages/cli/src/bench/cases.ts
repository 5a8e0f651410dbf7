/**
 * The kernels `wsss bench` measures: each case builds its inputs on the current backend, runs one operation to
 * completion (values read back asynchronously) and disposes everything it made. Two sizes: `standard` (the shapes
 * of the reference implementations, as in ../shared/reference/peer-anchors.md) and `small` (seconds, for tests).
 */
import {
  adaptiveAffinityLoss,
  affinityFieldLoss,
  CrossTaskAffinity,
  pairAffinity,
  pairIndices,
  randomWalkOpAsync,
  standardAffinityLoss,
} from '@wsss/affinity';
import { type RgbImage, Rng, tf } from '@wsss/core';
import { CRF_PRESETS, DenseCrf } from '@wsss/crf';
import { labelReassignLoss, tripletCenterLoss } from '@wsss/label-reassign';
import { ClassifierHead, MobileNetV2, multilabelSoftMarginLoss, Optimizer } from '@wsss/models';
import { settle } from './timing';

export type BenchSize = 'small' | 'standard';

export interface BenchRun {
  /** One measured call; resolves when the results are on the host. */
  run(): Promise<void>;
  dispose(): void;
}

export interface BenchCase {
  /** The name `--ops` selects it by. */
  op: string;
  description: string;
  /** The measured shape, as printed in the table. */
  shape(size: BenchSize): string;
  /** The case runs on the CPU whatever the tf backend (our wasm kernels outside TensorFlow.js). */
  backendIndependent?: boolean;
  setup(size: BenchSize, context: { threads: number }): BenchRun;
}

/** A coarse random label map [B, H, W] (blobs on a 6x6 grid). */
function blobLabels(rng: Rng, b: number, h: number, w: number, classes: number): tf.Tensor3D {
  const grid = Array.from({ length: b * 36 }, () => rng.int(0, classes));
  const data = new Int32Array(b * h * w);
  for (let n = 0; n < b; n++)
    for (let y = 0; y < h; y++)
      for (let x = 0; x < w; x++)
        data[(n * h + y) * w + x] = grid[n * 36 + Math.floor((y * 6) / h) * 6 + Math.floor((x * 6) / w)];
  return tf.tensor3d(data, [b, h, w], 'int32');
}

/** Forward + backward of `loss` with respect to `x`, gradient read back. */
function gradientRun(
  loss: (x: tf.Tensor) => tf.Scalar,
  x: tf.Tensor,
  owned: tf.Tensor[],
  extra?: () => void,
): BenchRun {
  return {
    run: () => settle([tf.tidy(() => tf.grad(loss)(x))]),
    dispose: () => {
      tf.dispose(owned);
      extra?.();
    },
  };
}

/** [B, H, W, classes] shape of the affinity-loss cases. */
const lossShape = (size: BenchSize) => (size === 'standard' ? [8, 41, 41, 21] : [2, 12, 12, 4]);

function affinityLossCase(
  op: string,
  description: string,
  loss: (probabilities: tf.Tensor4D, labels: tf.Tensor3D) => tf.Scalar,
): BenchCase {
  return {
    op,
    description,
    shape: (size) => `[${lossShape(size)}]`,
    setup(size) {
      const [b, h, w, c] = lossShape(size);
      const logits = tf.randomNormal([b, h, w, c], 0, 1, 'float32', 1);
      const labels = blobLabels(new Rng(1), b, h, w, c);
      return gradientRun((x) => loss(tf.softmax(x) as tf.Tensor4D, labels), logits, [logits, labels]);
    },
  };
}

/** A smooth synthetic photo-like image (gradients and stripes) for the CRF's bilateral kernel. */
function syntheticImage(width: number, height: number): RgbImage {
  const data = new Uint8Array(width * height * 3);
  for (let y = 0; y < height; y++)
    for (let x = 0; x < width; x++)
      data.set([(255 * x) / width, (255 * y) / height, (x >> 4) % 2 ? 200 : 60], 3 * (y * width + x));
  return { width, height, channels: 3, data };
}

const crfSize = (size: BenchSize) => (size === 'standard' ? [321, 321] : [40, 40]);
const walkSize = (size: BenchSize) => (size === 'standard' ? [56, 56, 21] : [16, 16, 4]);
const crossTaskShape = (size: BenchSize) => (size === 'standard' ? [8, 41, 41, 256] : [2, 12, 12, 16]);
const embeddingShape = (size: BenchSize) => (size === 'standard' ? [8, 41, 41, 512] : [2, 12, 12, 16]);
/** MobileNetV2 width multiplier, batch and side of the network cases. */
const networkShape = (size: BenchSize, training: boolean) =>
  size === 'standard'
    ? { width: 1, batch: training ? 4 : 1, side: training ? 224 : 320 }
    : { width: 0.35, batch: 1, side: 64 };

/** The multilabel soft-margin loss of the classifier on `images` (training mode). */
function classifierLoss(
  backbone: MobileNetV2,
  head: ClassifierHead,
  images: tf.Tensor4D,
  labels: tf.Tensor2D,
): () => tf.Scalar {
  return () =>
    multilabelSoftMarginLoss(head.forward(backbone.forward(images, { training: true }).features), labels);
}

/**
 * One training step of a classifier (backbone + 1x1 head, multilabel soft margin): forward, backward, every gradient
 * read back; no update. What the training-step case (and the training profile) time.
 */
export function classifierTrainingStep(
  backbone: MobileNetV2,
  head: ClassifierHead,
  images: tf.Tensor4D,
  labels: tf.Tensor2D,
): () => Promise<void> {
  const variables = [...backbone.params.variables.values(), ...head.params.variables.values()];
  return () =>
    settle(
      tf.tidy(() => {
        const { value, grads } = tf.variableGrads(classifierLoss(backbone, head, images, labels), variables);
        return [value, ...Object.values(grads)];
      }),
    );
}

/** Seeded MobileNetV2 + 1x1 classifier head of 20 classes, images in [-1, 1] and multi-hot labels (20% positive). */
function classifierParts(
  shape: { width: number; batch: number; side: number },
  outputStride: 16 | 32,
): { backbone: MobileNetV2; head: ClassifierHead; images: tf.Tensor4D; labels: tf.Tensor2D } {
  const classes = 20;
  const backbone = new MobileNetV2({ outputStride, widthMultiplier: shape.width, seed: 1 });
  const head = new ClassifierHead(backbone.featureChannels, classes, { seed: 2 });
  const images = tf.randomUniform(
    [shape.batch, shape.side, shape.side, 3],
    -1,
    1,
    'float32',
    3,
  ) as tf.Tensor4D;
  const labels = tf.tidy(() =>
    tf.cast(tf.greater(tf.randomUniform([shape.batch, classes], 0, 1, 'float32', 4), 0.8), 'float32'),
  ) as tf.Tensor2D;
  return { backbone, head, images, labels };
}

function networkCase(training: boolean): BenchCase {
  return {
    op: training ? 'training-step' : 'cam-inference',
    description: training
      ? 'classifier training step: MobileNetV2 (OS 16) + 1x1 head, multilabel loss, forward + backward'
      : 'CAM inference: MobileNetV2 (OS 16) forward + class activation maps of 20 classes',
    shape(size) {
      const { width, batch, side } = networkShape(size, training);
      return `${batch}x${side}x${side}x3, width ${width}`;
    },
    setup(size) {
      const { backbone, head, images, labels } = classifierParts(networkShape(size, training), 16);
      const run = training
        ? classifierTrainingStep(backbone, head, images, labels as tf.Tensor2D)
        : () =>
            settle([
              tf.tidy(() =>
                tf.relu(
                  tf.conv2d(backbone.forward(images).features, head.weights as tf.Tensor4D, 1, 'valid'),
                ),
              ),
            ]);
      return {
        run,
        dispose: () => {
          tf.dispose([images, labels]);
          backbone.dispose();
          head.params.dispose();
        },
      };
    },
  };
}

/** MobileNetV2 width multiplier, batch and side of the SGD training-step cases (the training-speed issue's shapes). */
const sgdStepShape = (size: BenchSize) =>
  size === 'standard' ? { width: 1, batch: 8, side: 128 } : { width: 0.35, batch: 1, side: 64 };

/**
 * One SGD training step of a classifier (MobileNetV2 + 1x1 head, multilabel loss): forward, backward, momentum 0.9
 * and weight decay 5e-4 update of every weight, loss read back.
 */
function sgdStepCase(outputStride: 16 | 32): BenchCase {
  return {
    op: `train-step-os${outputStride}`,
    description: `SGD training step: MobileNetV2 (OS ${outputStride}) + 1x1 head, multilabel loss, forward + backward + update`,
    shape(size) {
      const { width, batch, side } = sgdStepShape(size);
      return `${batch}x${side}x${side}x3, width ${width}`;
    },
    setup(size) {
      const { backbone, head, images, labels } = classifierParts(sgdStepShape(size), outputStride);
      const variables = [...backbone.params.variables.values(), ...head.params.variables.values()];
      const optimizer = new Optimizer([{ variables }], {
        kind: 'sgd',
        learningRate: 1e-3,
        momentum: 0.9,
        weightDecay: 5e-4,
      });
      return {
        run: () =>
          settle([
            tf.tidy(() => {
              const { value, grads } = tf.variableGrads(
                classifierLoss(backbone, head, images, labels),
                variables,
              );
              optimizer.apply(grads);
              return value;
            }),
          ]),
        dispose: () => {
          tf.dispose([images, labels]);
          optimizer.dispose();
          backbone.dispose();
          head.params.dispose();
        },
      };
    },
  };
}

export const BENCH_CASES: readonly BenchCase[] = [
  {
    op: 'crf',
    description:
      'dense CRF end to end (softmax unary, psa kernels, 10 mean-field iterations, argmax), 21 labels',
    shape: (size) => crfSize(size).join('x'),
    backendIndependent: true,
    setup(size, { threads }) {
      const [width, height] = crfSize(size);
      const image = syntheticImage(width, height);
      const rng = new Rng(2);
      const pixels = width * height;
      const softmax = new Float32Array(21 * pixels);
      for (let i = 0; i < pixels; i++) {
        let sum = 0;
        for (let l = 0; l < 21; l++) sum += softmax[l * pixels + i] = Math.exp(3 * rng.normal());
        for (let l = 0; l < 21; l++) softmax[l * pixels + i] /= sum;
      }
      const { gaussian, bilateral, iterations } = CRF_PRESETS.psa;
      return {
        run: async () => {
          const crf = new DenseCrf(width, height, 21).setUnaryFromSoftmax(softmax);
          crf.addPairwiseGaussian(gaussian).addPairwiseBilateral({ ...bilateral, image });
          await crf.inferenceWithLabels(iterations, { threads });
        },
        dispose: () => {},
      };
    },
  },
  {
    op: 'random-walk',
    description: "AffinityNet random walk (randomWalkOpAsync, radius 5, beta 8, 256 steps) on a CAM's scores",
    shape: (size) => {
      const [h, w, c] = walkSize(size);
      return `${h}x${w}, ${c} channels`;
    },
    setup(size) {
      const [h, w, c] = walkSize(size);
      const pairs = pairIndices(h, w, 5);
      const affinity = tf.tidy(() => {
        const features = tf.randomNormal([1, h, w, 16], 0, 1, 'float32', 5) as tf.Tensor4D;
        return tf.squeeze(pairAffinity(features, pairs), [0]) as tf.Tensor2D;
      });
      const scores = tf.randomUniform([c, h * w], 0, 1, 'float32', 6) as tf.Tensor2D;
      return {
        run: async () => settle([await randomWalkOpAsync(affinity, scores, pairs, { tolerance: 0 })]),
        dispose: () => tf.dispose([affinity, scores]),
      };
    },
  },
  affinityLossCase(
    'affinity-sa',
    'standard affinity loss (binary KL, margin 3, dilations 4-8-12-24), forward + backward',
    (p, labels) => standardAffinityLoss(p, labels, { divergence: 'binary' }),
  ),
  affinityLossCase(
    'affinity-aa',
    'adaptive affinity loss (categorical KL, confidence = max probability), forward + backward',
    (p, labels) => adaptiveAffinityLoss(p, labels, 'maxProbability'),
  ),
  affinityLossCase(
    'affinity-field',
    'adaptive affinity fields loss (AAF, sizes 1-2-3), forward + backward',
    (p, labels) => affinityFieldLoss(p, labels),
  ),
  {
    op: 'cross-task',
    description:
      'cross-task affinity: task affinity of F, refining a 21-class CAM and a saliency map, forward + backward',
    shape: (size) => `F[${crossTaskShape(size)}]`,
    setup(size) {
      const [b, h, w, c] = crossTaskShape(size);
      const layer = new CrossTaskAffinity(c, { scale: 1 / 16, seed: 1 });
      const features = tf.randomNormal([b, h, w, c], 0, 1, 'float32', 2);
      const cam = tf.randomNormal([b, h, w, 21], 0, 1, 'float32', 3) as tf.Tensor4D;
      const saliency = tf.randomNormal([b, h, w, 1], 0, 1, 'float32', 4) as tf.Tensor4D;
      return gradientRun(
        (f) => {
          const affinity = layer.taskAffinity(f as tf.Tensor4D, 'seg');
          return tf.add(
            tf.mean(tf.square(layer.refine(affinity, cam))),
            tf.mean(tf.square(layer.refine(affinity, saliency))),
          ) as tf.Scalar;
        },
        features,
        [features, cam, saliency],
        () => layer.params.dispose(),
      );
    },
  },
  {
    op: 'label-reassign',
    description: 'label-reassign (LR) loss on embeddings with 21-class probabilities, forward + backward',
    shape: (size) => `[${embeddingShape(size)}]`,
    setup(size) {
      const [b, h, w, d] = embeddingShape(size);
      const embeddings = tf.randomNormal([b, h, w, d], 0, 1, 'float32', 5);
      const labels = blobLabels(new Rng(3), b, h, w, 21);
      const probabilities = tf.tidy(() => tf.softmax(tf.randomNormal([b, h, w, 21], 0, 1, 'float32', 6)));
      return gradientRun(
        (x) => labelReassignLoss(x as tf.Tensor4D, labels, probabilities as tf.Tensor4D),
        embeddings,
        [embeddings, labels, probabilities],
      );
    },
  },
  {
    op: 'triplet-centre',
    description:
      'triplet-centre loss (batch class means, cosine distance, hardest negative), forward + backward',
    shape: (size) => `[${embeddingShape(size)}]`,
    setup(size) {
      const [b, h, w, d] = embeddingShape(size);
      const embeddings = tf.randomNormal([b, h, w, d], 0, 1, 'float32', 5);
      const labels = blobLabels(new Rng(3), b, h, w, 21);
      return gradientRun((x) => tripletCenterLoss(x as tf.Tensor4D, labels), embeddings, [
        embeddings,
        labels,
      ]);
    },
  },
  networkCase(false),
  networkCase(true),
  sgdStepCase(32),
  sgdStepCase(16),
];
