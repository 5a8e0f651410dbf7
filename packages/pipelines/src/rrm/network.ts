import { tf } from '@wsss/core';
import {
  ClassifierHead,
  DilatedConvHead,
  loadCheckpointParameters,
  MobileNetV2,
  SegmentationNetwork,
  type TrainedParameters,
} from '@wsss/models';
import type { RrmConfig } from './config';

/** What one forward pass of the RRM network gives (scale 1, under the gradient tape when training). */
export interface RrmOutputs {
  /** [B, L] classification logits (GAP + 1x1 classifier). */
  classLogits: tf.Tensor2D;
  /** [B, h, w, L] raw class activation maps (the classifier's weights on the features, before ReLU). */
  activationMaps: tf.Tensor4D;
  /** [B, h, w, C1] the segmentation branch's embedding F^s. */
  embedding: tf.Tensor4D;
  /** [B, h, w, C] the segmentation branch's logits F^c. */
  segmentationLogits: tf.Tensor4D;
}

/**
 * RRM's single network (anchors digest section 8.1) on a MobileNetV2: one backbone, a classification branch whose
 * weights give the CAMs, and a segmentation branch of two dilated 3x3 convolutions (embedding F^s with C1 channels,
 * then the class logits F^c).
 */
export class RrmNetwork {
  readonly segmentation: SegmentationNetwork;

  constructor(
    readonly backbone: MobileNetV2,
    readonly classifier: ClassifierHead,
    readonly head: DilatedConvHead,
  ) {
    this.segmentation = new SegmentationNetwork(backbone, head.outChannels, head);
  }

  get numClasses(): number {
    return this.head.outChannels;
  }

  forward(images: tf.Tensor4D, options: { training?: boolean } = {}): RrmOutputs {
    const features = tf.tidy(() => this.backbone.forward(images, options).features);
    const outputs = this.branches(features);
    features.dispose();
    return outputs;
  }

  /** The two branches on backbone features (e.g. features computed once for a frozen backbone). */
  branches(features: tf.Tensor4D): RrmOutputs {
    return tf.tidy(() => {
      const { embedding, logits } = this.head.forwardWithEmbedding(features);
      const activationMaps = this.classifier.activationMaps(features);
      return {
        classLogits: tf.mean(activationMaps, [1, 2]) as tf.Tensor2D,
        activationMaps,
        embedding,
        segmentationLogits: logits,
      };
    });
  }

  /** The sets to train: the backbone at the base learning rate, the two branches at `headLrMultiplier` times it. */
  parameterSets(headLrMultiplier: number): TrainedParameters[] {
    return [
      { name: 'backbone', params: this.backbone.params },
      { name: 'classifier', params: this.classifier.params, lrMultiplier: headLrMultiplier },
      { name: 'segmentation', params: this.head.params, lrMultiplier: headLrMultiplier },
    ];
  }

  dispose(): void {
    this.backbone.dispose();
    this.classifier.dispose();
    this.head.dispose();
  }
}

/**
 * The network of the config for `numLabels` image-level classes and `numClasses` mask classes: its backbone from the
 * ImageNet weights when `pretrained` and the config names them, otherwise initialised (a checkpoint loads next).
 */
export async function rrmNetwork(
  config: RrmConfig,
  numLabels: number,
  numClasses: number,
  pretrained: boolean,
): Promise<RrmNetwork> {
  const { weights, widthMultiplier, outputStride } = config.backbone;
  const backbone =
    weights && pretrained
      ? await MobileNetV2.fromWeights(weights, { outputStride })
      : new MobileNetV2({
          outputStride,
          widthMultiplier: weights ? 1 : widthMultiplier,
          seed: 1,
          randomInit: !weights,
        });
  const classifier = new ClassifierHead(backbone.featureChannels, numLabels, { seed: 1 });
  const head = new DilatedConvHead(backbone.featureChannels, numClasses, {
    hiddenChannels: config.network.embeddingChannels,
    dilation: config.network.dilation,
    seed: 2,
  });
  return new RrmNetwork(backbone, classifier, head);
}

/** The network trained in `checkpoint` (the train stage's). */
export async function trainedRrmNetwork(
  config: RrmConfig,
  numLabels: number,
  numClasses: number,
  checkpoint: string,
): Promise<RrmNetwork> {
  const net = await rrmNetwork(config, numLabels, numClasses, false);
  await loadCheckpointParameters(checkpoint, net.parameterSets(1));
  return net;
}
