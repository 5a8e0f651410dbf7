import { Rng, tf } from '@wsss/core';
import { Parameters } from './parameters';

/**
 * Multi-label soft-margin loss, as torch's `multilabel_soft_margin_loss` used by every WSSS reference:
 * `L = mean_{b,c} -[y log σ(x) + (1 - y) log σ(-x)]`.
 *
 * Shape: logits [B, C], labels [B, C] (0/1).
 */
export function multilabelSoftMarginLoss(logits: tf.Tensor2D, labels: tf.Tensor2D): tf.Scalar {
  if (logits.rank !== 2 || !tf.util.arraysEqual(logits.shape, labels.shape)) {
    throw new Error(
      `multilabelSoftMarginLoss: logits [${logits.shape}] and labels [${labels.shape}] must both be [B, C]`,
    );
  }
  return tf.tidy(() => {
    // log σ(x) = -softplus(-x); log σ(-x) = -softplus(x)
    const y = tf.cast(labels, 'float32');
    const perEntry = tf.add(
      tf.mul(y, tf.softplus(tf.neg(logits))),
      tf.mul(tf.sub(1, y), tf.softplus(logits)),
    );
    return tf.mean(perEntry) as tf.Scalar;
  });
}

/**
 * Classification head of CAM methods: global average pooling, then a bias-free 1x1 convolution to C logits, so
 * that the class activation map is `features · W_c` (Zhou et al. 2016; psa's fc8).
 *
 * Shape: features [B, h, w, K] -> logits [B, C]; `weights` [1, 1, K, C].
 */
export class ClassifierHead {
  readonly params = new Parameters();
  private readonly kernelName: string;

  constructor(
    readonly inChannels: number,
    readonly numClasses: number,
    options: { seed?: number | string; name?: string } = {},
  ) {
    this.kernelName = `${options.name ?? 'classifier'}/kernel`;
    // psa initialises fc8 with xavier_uniform; a normal with the same variance.
    this.params.create(this.kernelName, [1, 1, inChannels, numClasses], {
      std: Math.sqrt(2 / (inChannels + numClasses)),
      rng: new Rng(options.seed ?? 0),
    });
  }

  /** The 1x1 kernel [1, 1, K, C]. */
  get weights(): tf.Variable {
    return this.params.get(this.kernelName);
  }

  forward(features: tf.Tensor4D): tf.Tensor2D {
    if (features.rank !== 4 || features.shape[3] !== this.inChannels) {
      throw new Error(
        `ClassifierHead: features must be [B, h, w, ${this.inChannels}], got [${features.shape}]`,
      );
    }
    return tf.tidy(() => {
      const pooled = tf.mean(features, [1, 2], true) as tf.Tensor4D;
      return tf
        .conv2d(pooled, this.weights as tf.Tensor4D, 1, 'valid')
        .reshape([features.shape[0], this.numClasses]);
    });
  }

  /** Raw class activation maps `features · W` [B, h, w, C] (no ReLU, no normalisation; see @wsss/cam). */
  activationMaps(features: tf.Tensor4D): tf.Tensor4D {
    return tf.conv2d(features, this.weights as tf.Tensor4D, 1, 'valid');
  }

  dispose(): void {
    this.params.dispose();
  }
}

export interface DilatedHeadOptions {
  /** Channels of the hidden layers. RRM: 512. */
  hiddenChannels?: number;
  /** Dilation of every 3x3 convolution. RRM: 12. */
  dilation?: number;
  /** Number of 3x3 convolutions (the last one outputs the classes). RRM: 2. */
  layers?: number;
  seed?: number | string;
  /** Parameter name prefix. */
  name?: string;
}

/**
 * Dense prediction head of dilated 3x3 convolutions with ReLU between them (RRM's segmentation branch: 3x3
 * dilation 12 to 512 channels, ReLU, 3x3 dilation 12 to the classes, with biases). With `outChannels` 1 it is a
 * saliency head (apply a sigmoid to its logits).
 *
 * Shape: features [B, h, w, K] -> logits [B, h, w, outChannels].
 */
export class DilatedConvHead {
  readonly params = new Parameters();
  private readonly names: string[] = [];
  private readonly dilation: number;

  constructor(
    readonly inChannels: number,
    readonly outChannels: number,
    options: DilatedHeadOptions = {},
  ) {
    const hidden = options.hiddenChannels ?? 512;
    const layers = options.layers ?? 2;
    this.dilation = options.dilation ?? 12;
    const rng = new Rng(options.seed ?? 0);
    const prefix = options.name ?? 'seg';
    let cin = inChannels;
    for (let i = 0; i < layers; i++) {
      const cout = i === layers - 1 ? outChannels : hidden;
      const name = `${prefix}/conv${i + 1}`;
      this.params.createConvolution(name, 3, cin, cout, rng);
      this.names.push(name);
      cin = cout;
    }
  }

  forward(features: tf.Tensor4D): tf.Tensor4D {
    const { embedding, logits } = this.forwardWithEmbedding(features);
    if (embedding !== features) embedding.dispose();
    return logits;
  }

  /**
   * The logits and the input of the last convolution: the embedding F^s of the AA/LR paper (RRM's 512-channel
   * feature after its ReLU; the features themselves for a one-layer head).
   *
   * Shape: features [B, h, w, K] -> embedding [B, h, w, hiddenChannels], logits [B, h, w, outChannels].
   */
  forwardWithEmbedding(features: tf.Tensor4D): { embedding: tf.Tensor4D; logits: tf.Tensor4D } {
    if (features.rank !== 4 || features.shape[3] !== this.inChannels) {
      throw new Error(
        `DilatedConvHead: features must be [B, h, w, ${this.inChannels}], got [${features.shape}]`,
      );
    }
    return tf.tidy(() => {
      let embedding = features;
      let x = features;
      this.names.forEach((name, i) => {
        const kernel = this.params.get(`${name}/kernel`) as tf.Tensor4D;
        embedding = x;
        x = tf.add(
          tf.conv2d(x, kernel, 1, 'same', 'NHWC', this.dilation),
          this.params.get(`${name}/bias`),
        ) as tf.Tensor4D;
        if (i < this.names.length - 1) x = tf.relu(x);
      });
      return { embedding, logits: x };
    });
  }

  dispose(): void {
    this.params.dispose();
  }
}
