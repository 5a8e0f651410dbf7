import { imageToInput, type RgbImage, Rng, tf } from '@wsss/core';
import type { Backbone } from './backbone';
import type { DilatedConvHead } from './heads';
import { Parameters } from './parameters';

export interface AsppHeadOptions {
  /** Channels of every branch and of the projection. DeepLabv3: 256. */
  channels?: number;
  /** Dilations of the 3x3 branches. DeepLabv3: (6, 12, 18) at output stride 16, doubled at 8. */
  rates?: readonly number[];
  /** Add the image-pooling branch (global average, 1x1, broadcast). Default true. */
  imagePooling?: boolean;
  seed?: number | string;
  name?: string;
}

/**
 * DeepLabv3's atrous spatial pyramid pooling head (Chen et al. 2017), without batch norm (biases instead; batches
 * on CPU are small): a 1x1 branch, 3x3 branches at `rates`, an image-pooling branch, each to `channels` with ReLU,
 * concatenated, projected by a 1x1 convolution with ReLU, then a 1x1 classifier.
 *
 * Shape: features [B, h, w, K] -> logits [B, h, w, numClasses].
 */
export class AsppHead {
  readonly params = new Parameters();
  readonly rates: readonly number[];
  private readonly prefix: string;
  private readonly imagePooling: boolean;

  constructor(
    readonly inChannels: number,
    readonly numClasses: number,
    options: AsppHeadOptions = {},
  ) {
    const channels = options.channels ?? 256;
    this.rates = options.rates ?? [6, 12, 18];
    this.imagePooling = options.imagePooling ?? true;
    this.prefix = options.name ?? 'aspp';
    const rng = new Rng(options.seed ?? 0);
    const conv = (name: string, size: number, cin: number, cout: number) => {
      this.params.createConvolution(`${this.prefix}/${name}`, size, cin, cout, rng);
    };
    conv('branch0', 1, inChannels, channels);
    this.rates.forEach((_, i) => {
      conv(`branch${i + 1}`, 3, inChannels, channels);
    });
    if (this.imagePooling) conv('pool', 1, inChannels, channels);
    const branches = 1 + this.rates.length + (this.imagePooling ? 1 : 0);
    conv('project', 1, branches * channels, channels);
    conv('classifier', 1, channels, numClasses);
  }

  forward(features: tf.Tensor4D): tf.Tensor4D {
    if (features.rank !== 4 || features.shape[3] !== this.inChannels) {
      throw new Error(`AsppHead: features must be [B, h, w, ${this.inChannels}], got [${features.shape}]`);
    }
    return tf.tidy(() => {
      const conv = (x: tf.Tensor4D, name: string, dilation = 1) =>
        tf.add(
          tf.conv2d(
            x,
            this.params.get(`${this.prefix}/${name}/kernel`) as tf.Tensor4D,
            1,
            'same',
            'NHWC',
            dilation,
          ),
          this.params.get(`${this.prefix}/${name}/bias`),
        ) as tf.Tensor4D;
      const [b, h, w] = features.shape;
      const branches = [tf.relu(conv(features, 'branch0'))];
      this.rates.forEach((rate, i) => {
        branches.push(tf.relu(conv(features, `branch${i + 1}`, rate)));
      });
      if (this.imagePooling) {
        const pooled = tf.relu(conv(tf.mean(features, [1, 2], true) as tf.Tensor4D, 'pool'));
        branches.push(tf.tile(pooled, [1, h, w, 1]) as tf.Tensor4D);
      }
      const projected = tf.relu(conv(tf.concat(branches, 3) as tf.Tensor4D, 'project'));
      return conv(projected.reshape([b, h, w, projected.shape[3]]) as tf.Tensor4D, 'classifier');
    });
  }

  dispose(): void {
    this.params.dispose();
  }
}

/**
 * Per-pixel softmax cross-entropy against a label map with an ignore value, logits upsampled bilinearly
 * (half-pixel centres) to the labels' size as DeepLab trains; the mean over the pixels that are not ignored
 * (0 when every pixel is).
 *
 * Shape: logits [B, h, w, C], labels [B, H, W] int32 -> scalar.
 */
export function segmentationCrossEntropy(
  logits: tf.Tensor4D,
  labels: tf.Tensor3D,
  options: {
    ignoreIndex?: number;
    /**
     * Average the pixels of this class (the background) and the other pixels separately and add the two means, as
     * RRM does (`CE_bg + CE_fg`); an empty part adds 0. Default: one mean over all pixels.
     */
    balanceClass?: number;
  } = {},
): tf.Scalar {
  const ignoreIndex = options.ignoreIndex ?? 255;
  if (logits.rank !== 4 || labels.rank !== 3 || logits.shape[0] !== labels.shape[0]) {
    throw new Error(
      `segmentationCrossEntropy: logits must be [B, h, w, C] and labels [B, H, W], got [${logits.shape}] and [${labels.shape}]`,
    );
  }
  const classes = logits.shape[3];
  return tf.tidy(() => {
    const [, height, width] = labels.shape;
    const up =
      logits.shape[1] === height && logits.shape[2] === width
        ? logits
        : tf.image.resizeBilinear(logits, [height, width], false, true);
    const target = tf.cast(labels, 'int32');
    const valid = tf.logicalAnd(tf.notEqual(target, ignoreIndex), tf.less(target, classes));
    const safe = tf.where(valid, target, tf.zerosLike(target));
    const logProbabilities = tf.logSoftmax(up);
    const picked = tf.sum(tf.mul(logProbabilities, tf.oneHot(safe, classes)), 3);
    const mean = (mask: tf.Tensor) =>
      tf.div(tf.sum(tf.mul(tf.neg(picked), mask)), tf.maximum(tf.sum(mask), 1)) as tf.Scalar;
    if (options.balanceClass === undefined) return mean(tf.cast(valid, 'float32'));
    const isClass = tf.equal(target, options.balanceClass);
    return tf.add(
      mean(tf.cast(tf.logicalAnd(valid, isClass), 'float32')),
      mean(tf.cast(tf.logicalAnd(valid, tf.logicalNot(isClass)), 'float32')),
    ) as tf.Scalar;
  });
}

export interface SegmentationPredictOptions {
  /** Input scales, averaged (DeepLab / the references at test time: e.g. 0.5, 0.75, 1, 1.25). Default [1]. */
  scales?: readonly number[];
  /** Add the horizontally flipped input. Default false. */
  flip?: boolean;
}

/**
 * A segmentation network: a {@link Backbone} (MobileNetV2 or a ResNet at output stride 8 or 16) and a dense head
 * ({@link AsppHead}, or the references' {@link DilatedConvHead}). Trains with {@link segmentationCrossEntropy};
 * predicts class probabilities at full resolution with multi-scale + flip averaging.
 *
 * ```ts
 * const net = new SegmentationNetwork(new MobileNetV2({ outputStride: 16 }), 7);
 * const loss = segmentationCrossEntropy(net.forward(batch.images, { training: true }), batch.masks);
 * const probabilities = net.predict(image, { scales: [0.75, 1, 1.25], flip: true }); // [H, W, 7]
 * ```
 */
export class SegmentationNetwork {
  readonly head: AsppHead | DilatedConvHead;

  constructor(
    readonly backbone: Backbone,
    readonly numClasses: number,
    head?: AsppHead | DilatedConvHead,
  ) {
    const rates = backbone.outputStride <= 8 ? [12, 24, 36] : [6, 12, 18];
    this.head = head ?? new AsppHead(backbone.featureChannels, numClasses, { rates });
    if (this.head.inChannels !== backbone.featureChannels) {
      throw new Error(
        `SegmentationNetwork: the head takes ${this.head.inChannels} channels, the backbone gives ${backbone.featureChannels}`,
      );
    }
  }

  /** The parameter sets to train (the head at a higher learning rate, as DeepLab and the references do). */
  parameterSets(headLrMultiplier = 10) {
    return [
      { name: 'backbone', params: this.backbone.params },
      { name: 'head', params: this.head.params, lrMultiplier: headLrMultiplier },
    ];
  }

  /** Logits at the features' resolution. Shape: normalised images [B, H, W, 3] -> [B, H / os, W / os, C]. */
  forward(images: tf.Tensor4D, options: { training?: boolean } = {}): tf.Tensor4D {
    return tf.tidy(() => this.head.forward(this.backbone.forward(images, options).features));
  }

  /**
   * Class probabilities of one image at its full resolution, averaged over scales (and flips). Shape: H x W RGB ->
   * [H, W, C].
   */
  predict(image: RgbImage, options: SegmentationPredictOptions = {}): tf.Tensor3D {
    const scales = options.scales ?? [1];
    const { width, height } = image;
    return tf.tidy(() => {
      const input = imageToInput(image, this.backbone.normalization);
      let sum: tf.Tensor4D | undefined;
      for (const scale of scales) {
        const h = Math.max(1, Math.round(height * scale));
        const w = Math.max(1, Math.round(width * scale));
        const x = scale === 1 ? input : tf.image.resizeBilinear(input, [h, w], false, true);
        const batch = options.flip ? tf.concat([x, tf.reverse(x, 2)]) : x;
        const probabilities = tf.softmax(
          tf.image.resizeBilinear(this.forward(batch as tf.Tensor4D), [height, width], false, true),
        ) as tf.Tensor4D;
        const folded = options.flip
          ? (tf.add(
              tf.slice(probabilities, [0], [1]),
              tf.reverse(tf.slice(probabilities, [1], [1]), 2),
            ) as tf.Tensor4D)
          : probabilities;
        sum = sum ? (tf.add(sum, folded) as tf.Tensor4D) : folded;
      }
      return tf.div(sum!, scales.length * (options.flip ? 2 : 1)).squeeze([0]) as tf.Tensor3D;
    });
  }

  dispose(): void {
    this.backbone.dispose();
    this.head.dispose();
  }
}
