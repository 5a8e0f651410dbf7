import { IMAGENET_NORMALIZATION, Rng, tf } from '@wsss/core';
import type { Backbone, BackboneForwardOptions, BackboneOutput } from './backbone';
import type { OutputStride } from './mobilenet_v2';
import { Parameters } from './parameters';
import {
  type BatchNormMode,
  createBatchNorm,
  createConv,
  freezeBatchNormAffine,
  torchBatchNorm,
  torchConv,
} from './torch_layers';
import { loadParameters } from './weights_io';

export interface ResNetOptions {
  /** 32 (ImageNet), 16 or 8: later stages replace their stride by dilation (torchvision's replace_stride_with_dilation). */
  outputStride?: OutputStride;
  /** BatchNorm with running statistics and fixed affine parameters, as the WSSS references train. Default true. */
  frozenBatchNorm?: boolean;
  seed?: number | string;
  /** Draw random initial weights (default); false starts at zero, for weights loaded next. */
  randomInit?: boolean;
}

const LAYERS: readonly [number, number][] = [
  [64, 3],
  [128, 4],
  [256, 6],
  [512, 3],
];

/**
 * ResNet-50 (He et al. 2016) in torchvision's layout and parameter names (`conv1.weight`, `layer1.0.bn1.weight`,
 * `layer2.0.downsample.0.weight`, ...), NHWC, with PyTorch's symmetric padding so converted torchvision weights
 * give torchvision's numbers. Input: ImageNet-normalised RGB. Features: 2048 channels at `outputStride`.
 *
 * ```ts
 * const net = await ResNet50.fromWeights('weights/resnet50', { outputStride: 16 });
 * const { features } = net.forward(images, { training: false });
 * ```
 */
export class ResNet50 implements Backbone {
  readonly name = 'resnet50';
  readonly normalization = IMAGENET_NORMALIZATION;
  readonly params = new Parameters();
  readonly featureChannels = 2048;
  readonly outputStride: OutputStride;
  readonly frozenBatchNorm: boolean;
  private readonly blocks: { name: string; stride: number; dilation: number; downsample: boolean }[] = [];

  constructor(options: ResNetOptions = {}) {
    this.outputStride = options.outputStride ?? 32;
    if (![8, 16, 32].includes(this.outputStride)) {
      throw new Error(`ResNet50: outputStride must be 8, 16 or 32, got ${this.outputStride}`);
    }
    this.frozenBatchNorm = options.frozenBatchNorm ?? true;
    this.params.randomInit = options.randomInit ?? true;
    const rng = new Rng(options.seed ?? 0);
    createConv(this.params, 'conv1', 7, 3, 64, rng);
    createBatchNorm(this.params, 'bn1', 64);
    let inChannels = 64;
    let dilation = 1;
    let stride = 4; // after conv1 and the max pool
    LAYERS.forEach(([width, count], i) => {
      let layerStride = i === 0 ? 1 : 2;
      const previousDilation = dilation;
      if (layerStride === 2 && stride >= this.outputStride) {
        dilation *= 2;
        layerStride = 1;
      } else {
        stride *= layerStride;
      }
      for (let b = 0; b < count; b++) {
        const name = `layer${i + 1}.${b}`;
        const out = width * 4;
        createConv(this.params, `${name}.conv1`, 1, inChannels, width, rng);
        createBatchNorm(this.params, `${name}.bn1`, width);
        createConv(this.params, `${name}.conv2`, 3, width, width, rng);
        createBatchNorm(this.params, `${name}.bn2`, width);
        createConv(this.params, `${name}.conv3`, 1, width, out, rng);
        createBatchNorm(this.params, `${name}.bn3`, out);
        const downsample = b === 0 && (layerStride !== 1 || inChannels !== out);
        if (downsample) {
          createConv(this.params, `${name}.downsample.0`, 1, inChannels, out, rng);
          createBatchNorm(this.params, `${name}.downsample.1`, out);
        }
        this.blocks.push({
          name,
          stride: b === 0 ? layerStride : 1,
          dilation: b === 0 ? previousDilation : dilation,
          downsample,
        });
        inChannels = out;
      }
    });
    if (this.frozenBatchNorm) freezeBatchNormAffine(this.params);
  }

  /** Builds the network and loads converted weights (a weights manifest with state_dict names). */
  static async fromWeights(urlOrPath: string, options: ResNetOptions = {}): Promise<ResNet50> {
    const net = new ResNet50({ ...options, randomInit: false });
    await loadParameters(net.params, urlOrPath);
    return net;
  }

  /** Features of ImageNet-normalised images; `taps` always holds every stage: `layer1` ... `layer4`. */
  forward(images: tf.Tensor4D, options: BackboneForwardOptions = {}): BackboneOutput {
    if (images.rank !== 4 || images.shape[3] !== 3) {
      throw new Error(`ResNet50.forward: images must be [B, H, W, 3], got [${images.shape.join(',')}]`);
    }
    const mode: BatchNormMode = { training: options.training ?? false, frozen: this.frozenBatchNorm };
    const p = this.params;
    const bn = (x: tf.Tensor4D, name: string) => torchBatchNorm(x, p, name, mode);
    let x = tf.relu(bn(torchConv(images, p, 'conv1', 2), 'bn1'));
    x = tf.maxPool(x, 3, 2, 1) as tf.Tensor4D;
    const taps: Record<string, tf.Tensor4D> = {};
    for (const block of this.blocks) {
      const input = x;
      x = tf.tidy(() => {
        let h = tf.relu(bn(torchConv(input, p, `${block.name}.conv1`), `${block.name}.bn1`));
        h = tf.relu(
          bn(torchConv(h, p, `${block.name}.conv2`, block.stride, block.dilation), `${block.name}.bn2`),
        );
        h = bn(torchConv(h, p, `${block.name}.conv3`), `${block.name}.bn3`);
        const shortcut = block.downsample
          ? bn(torchConv(input, p, `${block.name}.downsample.0`, block.stride), `${block.name}.downsample.1`)
          : input;
        return tf.relu(tf.add(h, shortcut)) as tf.Tensor4D;
      });
      taps[block.name.split('.')[0]] = x;
    }
    return { features: x, taps };
  }

  dispose(): void {
    this.params.dispose();
  }
}
