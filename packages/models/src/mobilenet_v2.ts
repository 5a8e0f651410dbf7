import { convBiasActivation, MOBILENET_NORMALIZATION, Rng, tf } from '@wsss/core';
import type { Backbone, BackboneForwardOptions, BackboneOutput } from './backbone';
import { Parameters } from './parameters';
import { loadParameters } from './weights_io';

/** Inverted-residual settings of MobileNetV2 1.0: expansion t, output channels c, repeats n, first stride s. */
const BLOCKS: readonly [number, number, number, number][] = [
  [1, 16, 1, 1],
  [6, 24, 2, 2],
  [6, 32, 3, 2],
  [6, 64, 4, 2],
  [6, 96, 3, 1],
  [6, 160, 3, 2],
  [6, 320, 1, 1],
];

export type OutputStride = 8 | 16 | 32;

export interface MobileNetV2Options {
  /**
   * Ratio of input to feature resolution. 32 is the ImageNet network; 16 and 8 turn the strides of the later
   * blocks into dilations (DeepLab), keeping the pretrained weights, for denser CAMs and segmentation.
   */
  outputStride?: OutputStride;
  /** Keep the 1001-class ImageNet classifier (`MobilenetV2/Logits`). Default false. */
  includeTop?: boolean;
  /**
   * Width multiplier alpha (0.35, 0.5, 0.75, 1.0, 1.3, 1.4 are the published ones): every layer's channels are
   * scaled by alpha and rounded to a multiple of 8; the last layer keeps 1280 channels for alpha <= 1.
   * The shared ImageNet weights are alpha 1.0. Default 1.
   */
  widthMultiplier?: number;
  /** Seed of the random initialisation (used when no weights are loaded). Default 0. */
  seed?: number | string;
  /** Draw random initial weights (default); false starts at zero, for weights loaded next. */
  randomInit?: boolean;
}

export interface MobileNetV2Output extends BackboneOutput {
  /** [B, 1001] ImageNet logits (index 0 = background) when built with `includeTop`. */
  logits?: tf.Tensor2D;
}

interface BlockPlan {
  name: string;
  expand: number;
  inChannels: number;
  outChannels: number;
  stride: number;
  dilation: number;
}

/**
 * MobileNetV2 1.0 (Sandler et al. 2018) with batch norm folded into conv kernels and biases, the form of the
 * TF.js / TFLite ImageNet weights. Input: RGB scaled to [-1, 1] (`x / 127.5 - 1`), NHWC. TF 'SAME' padding.
 *
 * ```ts
 * const net = await MobileNetV2.fromWeights('weights/mobilenet_v2_1.0_224', { includeTop: true });
 * const { logits, features } = net.forward(images); // features [B, H/32, W/32, 1280]
 * ```
 */
export class MobileNetV2 implements Backbone {
  readonly name = 'mobilenet_v2';
  /** Inputs in [-1, 1]: `x / 127.5 - 1`. */
  readonly normalization = MOBILENET_NORMALIZATION;
  readonly params = new Parameters();
  readonly outputStride: OutputStride;
  readonly includeTop: boolean;
  readonly featureChannels: number;
  private readonly plan: BlockPlan[];

  constructor(options: MobileNetV2Options = {}) {
    this.outputStride = options.outputStride ?? 32;
    if (![8, 16, 32].includes(this.outputStride)) {
      throw new Error(`MobileNetV2: outputStride must be 8, 16 or 32, got ${this.outputStride}`);
    }
    this.includeTop = options.includeTop ?? false;
    const alpha = options.widthMultiplier ?? 1;
    if (!(alpha > 0)) throw new Error(`MobileNetV2: widthMultiplier must be > 0, got ${alpha}`);
    const stem = makeDivisible(32 * alpha);
    this.plan = planBlocks(this.outputStride, alpha, stem);
    this.featureChannels = alpha > 1 ? makeDivisible(1280 * alpha) : 1280;
    this.params.randomInit = options.randomInit ?? true;
    const rng = new Rng(options.seed ?? 0);
    const conv = (name: string, shape: number[]) => {
      const fanIn = shape[0] * shape[1] * shape[2];
      this.params.create(`${name}/kernel`, shape, { std: Math.sqrt(2 / fanIn), rng });
      this.params.create(`${name}/bias`, [shape[3]], { value: 0 });
    };
    const depthwise = (name: string, channels: number) => {
      this.params.create(`${name}/depthwise_kernel`, [3, 3, channels, 1], { std: Math.sqrt(2 / 9), rng });
      this.params.create(`${name}/bias`, [channels], { value: 0 });
    };
    conv('MobilenetV2/Conv', [3, 3, 3, stem]);
    for (const b of this.plan) {
      const hidden = b.inChannels * b.expand;
      if (b.expand !== 1) conv(`${b.name}/expand`, [1, 1, b.inChannels, hidden]);
      depthwise(`${b.name}/depthwise`, hidden);
      conv(`${b.name}/project`, [1, 1, hidden, b.outChannels]);
    }
    conv('MobilenetV2/Conv_1', [1, 1, this.plan[this.plan.length - 1].outChannels, this.featureChannels]);
    if (this.includeTop) conv('MobilenetV2/Logits/Conv2d_1c_1x1', [1, 1, this.featureChannels, 1001]);
  }

  /** Builds the network and loads ImageNet (or fine-tuned) weights from a weights manifest. */
  static async fromWeights(urlOrPath: string, options: MobileNetV2Options = {}): Promise<MobileNetV2> {
    const net = new MobileNetV2({ ...options, randomInit: false });
    await loadParameters(net.params, urlOrPath);
    return net;
  }

  /**
   * Runs the network on `images` [B, H, W, 3] (already scaled to [-1, 1]). `taps` names intermediate outputs to
   * return (they are not disposed by the network): `stem`, `block_0` ... `block_16`. `training` changes nothing
   * (batch norm is folded into the convolutions, there is no dropout).
   */
  forward(images: tf.Tensor4D, options: BackboneForwardOptions = {}): MobileNetV2Output {
    if (images.rank !== 4 || images.shape[3] !== 3) {
      throw new Error(`MobileNetV2.forward: images must be [B, H, W, 3], got [${images.shape.join(',')}]`);
    }
    const wanted = new Set(options.taps ?? []);
    const taps: Record<string, tf.Tensor4D> = {};
    const keep = (name: string, t: tf.Tensor4D) => {
      if (wanted.has(name)) taps[name] = t;
    };
    const p = (name: string) => this.params.get(name);
    const conv = (x: tf.Tensor4D, name: string, stride = 1, activation: 'linear' | 'relu6' = 'relu6') =>
      convBiasActivation(x, p(`${name}/kernel`) as tf.Tensor4D, p(`${name}/bias`) as tf.Tensor1D, {
        strides: stride,
        activation,
      });

    let x = conv(images, 'MobilenetV2/Conv', 2);
    keep('stem', x);
    this.plan.forEach((b, i) => {
      let h = b.expand === 1 ? x : conv(x, `${b.name}/expand`);
      h = convBiasActivation(
        h,
        p(`${b.name}/depthwise/depthwise_kernel`) as tf.Tensor4D,
        p(`${b.name}/depthwise/bias`) as tf.Tensor1D,
        { strides: b.stride, dilations: b.dilation, activation: 'relu6', depthwise: true },
      );
      h = conv(h, `${b.name}/project`, 1, 'linear');
      x = b.stride === 1 && b.inChannels === b.outChannels ? tf.add(x, h) : h;
      keep(`block_${i}`, x);
    });
    const features = conv(x, 'MobilenetV2/Conv_1');
    if (!this.includeTop) return { features, taps };
    const pooled = tf.mean(features, [1, 2], true) as tf.Tensor4D;
    const logits = conv(pooled, 'MobilenetV2/Logits/Conv2d_1c_1x1', 1, 'linear').reshape([
      images.shape[0],
      1001,
    ]) as tf.Tensor2D;
    return { features, logits, taps };
  }

  dispose(): void {
    this.params.dispose();
  }
}

/** Block names, channels, strides and dilations for an output stride (DeepLab's rule: once the running stride
 * reaches the output stride, further stride-2 layers get stride 1 and every later layer dilation x2). */
function planBlocks(outputStride: number, alpha: number, stemChannels: number): BlockPlan[] {
  const plan: BlockPlan[] = [];
  let currentStride = 2; // after the stem
  let rate = 1;
  let inChannels = stemChannels;
  let index = 0;
  for (const [t, channels, n, s] of BLOCKS) {
    const c = makeDivisible(channels * alpha);
    for (let r = 0; r < n; r++) {
      let stride = r === 0 ? s : 1;
      let dilation = rate;
      if (stride > 1 && currentStride >= outputStride) {
        dilation = rate;
        rate *= stride;
        stride = 1;
      } else {
        currentStride *= stride;
      }
      plan.push({
        name: index === 0 ? 'MobilenetV2/expanded_conv' : `MobilenetV2/expanded_conv_${index}`,
        expand: t,
        inChannels,
        outChannels: c,
        stride,
        dilation,
      });
      inChannels = c;
      index++;
    }
  }
  return plan;
}

/** Keras' `_make_divisible(v, 8)`: nearest multiple of 8, at least 8, never more than 10% below v. */
function makeDivisible(v: number, divisor = 8): number {
  const rounded = Math.max(divisor, Math.floor((v + divisor / 2) / divisor) * divisor);
  return rounded < 0.9 * v ? rounded + divisor : rounded;
}
