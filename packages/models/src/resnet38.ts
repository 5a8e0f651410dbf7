import { IMAGENET_NORMALIZATION, Rng, tf } from '@wsss/core';
import type { Backbone, BackboneForwardOptions, BackboneOutput } from './backbone';
import { Parameters } from './parameters';
import {
  type BatchNormMode,
  createBatchNorm,
  createConv,
  dropout2d,
  freezeBatchNormAffine,
  torchBatchNorm,
  torchConv,
} from './torch_layers';
import { loadParameters } from './weights_io';

interface BlockSpec {
  name: string;
  kind: 'basic' | 'bottleneck';
  inChannels: number;
  midChannels: number;
  outChannels: number;
  stride: number;
  firstDilation: number;
  dilation: number;
  dropout: number;
}

const basic = (
  name: string,
  cin: number,
  mid: number,
  cout: number,
  stride = 1,
  dilation = 1,
  firstDilation = dilation,
): BlockSpec => ({
  name,
  kind: 'basic',
  inChannels: cin,
  midChannels: mid,
  outChannels: cout,
  stride,
  firstDilation,
  dilation,
  dropout: 0,
});

const bottleneck = (
  name: string,
  cin: number,
  cout: number,
  dilation: number,
  dropout: number,
): BlockSpec => ({
  name,
  kind: 'bottleneck',
  inChannels: cin,
  midChannels: cout / 4,
  outChannels: cout,
  stride: 1,
  firstDilation: dilation,
  dilation,
  dropout,
});

/** psa's `resnet38d.Net` (digest §1): blocks b2 .. b7, output stride 8. */
const BLOCKS: readonly BlockSpec[] = [
  basic('b2', 64, 128, 128, 2),
  basic('b2_1', 128, 128, 128),
  basic('b2_2', 128, 128, 128),
  basic('b3', 128, 256, 256, 2),
  basic('b3_1', 256, 256, 256),
  basic('b3_2', 256, 256, 256),
  basic('b4', 256, 512, 512, 2),
  ...[1, 2, 3, 4, 5].map((i) => basic(`b4_${i}`, 512, 512, 512)),
  basic('b5', 512, 512, 1024, 1, 2, 1),
  basic('b5_1', 1024, 512, 1024, 1, 2),
  basic('b5_2', 1024, 512, 1024, 1, 2),
  bottleneck('b6', 1024, 2048, 4, 0.3),
  bottleneck('b7', 2048, 4096, 4, 0.5),
];

export interface ResNet38Output extends BackboneOutput {
  /** 512 channels: b5's batch-normed, ReLU'd input (AffinityNet's conv4). */
  conv4: tf.Tensor4D;
  /** 1024 channels: b6's batch-normed, ReLU'd input (AffinityNet's conv5). */
  conv5: tf.Tensor4D;
}

/**
 * The wide ResNet-38 of psa, RRM and AuxSegNet (Wu et al. 2019, "model A" as in psa's `resnet38d.py`): pre-activation
 * residual blocks, output stride 8 (b5 dilation 2, b6/b7 dilation 4 with channel dropout 0.3 / 0.5), and
 * `conv6 = ReLU(bn7(b7))` with 4096 channels as the features. Parameter names are psa's state_dict keys
 * (`conv1a.weight`, `b2.bn_branch2a.weight`, `b2.conv_branch1.weight`, ...), so converted psa/RRM/AuxSegNet
 * checkpoints load as they are. Input: ImageNet-normalised RGB; a 321x321 input gives 41x41 features.
 */
export class ResNet38 implements Backbone {
  readonly name = 'resnet38';
  readonly normalization = IMAGENET_NORMALIZATION;
  readonly params = new Parameters();
  readonly featureChannels = 4096;
  readonly outputStride = 8;
  readonly frozenBatchNorm: boolean;

  constructor(options: { frozenBatchNorm?: boolean; seed?: number | string; randomInit?: boolean } = {}) {
    this.frozenBatchNorm = options.frozenBatchNorm ?? true;
    this.params.randomInit = options.randomInit ?? true;
    const rng = new Rng(options.seed ?? 0);
    createConv(this.params, 'conv1a', 3, 3, 64, rng);
    for (const b of BLOCKS) {
      createBatchNorm(this.params, `${b.name}.bn_branch2a`, b.inChannels);
      if (b.kind === 'basic') {
        createConv(this.params, `${b.name}.conv_branch2a`, 3, b.inChannels, b.midChannels, rng);
        createBatchNorm(this.params, `${b.name}.bn_branch2b1`, b.midChannels);
        createConv(this.params, `${b.name}.conv_branch2b1`, 3, b.midChannels, b.outChannels, rng);
      } else {
        createConv(this.params, `${b.name}.conv_branch2a`, 1, b.inChannels, b.outChannels / 4, rng);
        createBatchNorm(this.params, `${b.name}.bn_branch2b1`, b.outChannels / 4);
        createConv(this.params, `${b.name}.conv_branch2b1`, 3, b.outChannels / 4, b.outChannels / 2, rng);
        createBatchNorm(this.params, `${b.name}.bn_branch2b2`, b.outChannels / 2);
        createConv(this.params, `${b.name}.conv_branch2b2`, 1, b.outChannels / 2, b.outChannels, rng);
      }
      if (!(b.inChannels === b.outChannels && b.stride === 1)) {
        createConv(this.params, `${b.name}.conv_branch1`, 1, b.inChannels, b.outChannels, rng);
      }
    }
    createBatchNorm(this.params, 'bn7', 4096);
    if (this.frozenBatchNorm) freezeBatchNormAffine(this.params);
  }

  static async fromWeights(
    urlOrPath: string,
    options: { frozenBatchNorm?: boolean } = {},
  ): Promise<ResNet38> {
    const net = new ResNet38({ ...options, randomInit: false });
    await loadParameters(net.params, urlOrPath);
    return net;
  }

  /**
   * Features of ImageNet-normalised images; `taps` always holds every block's output (`b2` ... `b7`) and AffinityNet's
   * `conv4` and `conv5`. `seed` makes training-mode dropout repeatable.
   */
  forward(images: tf.Tensor4D, options: BackboneForwardOptions & { seed?: number } = {}): ResNet38Output {
    if (images.rank !== 4 || images.shape[3] !== 3) {
      throw new Error(`ResNet38.forward: images must be [B, H, W, 3], got [${images.shape.join(',')}]`);
    }
    const training = options.training ?? false;
    const mode: BatchNormMode = { training, frozen: this.frozenBatchNorm };
    const p = this.params;
    const bnRelu = (x: tf.Tensor4D, name: string) => tf.relu(torchBatchNorm(x, p, name, mode));
    let x = torchConv(images, p, 'conv1a');
    let conv4: tf.Tensor4D | undefined;
    let conv5: tf.Tensor4D | undefined;
    const taps: Record<string, tf.Tensor4D> = {};
    for (const b of BLOCKS) {
      const input = x;
      const [out, preActivation] = tf.tidy(() => {
        const branch2a = bnRelu(input, `${b.name}.bn_branch2a`);
        const branch1 = p.variables.has(`${b.name}.conv_branch1.weight`)
          ? torchConv(branch2a, p, `${b.name}.conv_branch1`, b.stride)
          : input;
        let h: tf.Tensor4D;
        if (b.kind === 'basic') {
          h = torchConv(branch2a, p, `${b.name}.conv_branch2a`, b.stride, b.firstDilation);
          h = torchConv(bnRelu(h, `${b.name}.bn_branch2b1`), p, `${b.name}.conv_branch2b1`, 1, b.dilation);
        } else {
          h = torchConv(branch2a, p, `${b.name}.conv_branch2a`, b.stride);
          h = dropout2d(bnRelu(h, `${b.name}.bn_branch2b1`), b.dropout, training, options.seed);
          h = torchConv(h, p, `${b.name}.conv_branch2b1`, 1, b.dilation);
          h = dropout2d(bnRelu(h, `${b.name}.bn_branch2b2`), b.dropout, training, options.seed);
          h = torchConv(h, p, `${b.name}.conv_branch2b2`);
        }
        return [tf.add(branch1, h) as tf.Tensor4D, branch2a];
      });
      if (b.name === 'b5') conv4 = preActivation;
      else if (b.name === 'b6') conv5 = preActivation;
      else preActivation.dispose();
      x = out;
      taps[b.name] = x;
    }
    const features = bnRelu(x, 'bn7');
    taps.conv4 = conv4!;
    taps.conv5 = conv5!;
    return { features, conv4: conv4!, conv5: conv5!, taps };
  }

  dispose(): void {
    this.params.dispose();
  }
}
