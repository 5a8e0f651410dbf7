import type { LabelMap, RgbImage } from '@wsss/core';
import type { SegmentationDataset } from '@wsss/datasets';
import {
  AsppHead,
  ClassifierHead,
  loadCheckpointParameters,
  MobileNetV2,
  SegmentationNetwork,
} from '@wsss/models';
import { segment } from '../segment';
import type { BaselineConfig } from './config';

/**
 * The MobileNetV2 of the config: from the ImageNet weights when `pretrained` and the config names them; otherwise
 * initialised randomly (with the weights' architecture, width 1, when they are named: a checkpoint loads next).
 */
export async function backboneOf(
  config: Pick<BaselineConfig, 'backbone'>,
  outputStride: 8 | 16,
  pretrained: boolean,
  seed: number,
) {
  const { weights, widthMultiplier } = config.backbone;
  if (weights && pretrained) return MobileNetV2.fromWeights(weights, { outputStride });
  return new MobileNetV2({
    outputStride,
    widthMultiplier: weights ? 1 : widthMultiplier,
    seed,
    randomInit: !weights,
  });
}

/** The CAM classifier of the config (MobileNetV2 + GAP classifier); `pretrained` as {@link backboneOf}. */
export async function classifierNetwork(
  config: Pick<BaselineConfig, 'backbone' | 'classifier'>,
  numClasses: number,
  pretrained: boolean,
) {
  const backbone = await backboneOf(config, config.classifier.outputStride, pretrained, 1);
  const head = new ClassifierHead(backbone.featureChannels, numClasses, { seed: 1 });
  return { backbone, head };
}

/** The segmentation network of the config; `pretrained` starts its backbone from the ImageNet weights when given. */
export async function segmentationNetwork(
  config: Pick<BaselineConfig, 'backbone' | 'segmentation'>,
  numClasses: number,
  pretrained: boolean,
) {
  const { outputStride, head } = config.segmentation;
  const backbone = await backboneOf(config, outputStride, pretrained, 2);
  const aspp = new AsppHead(backbone.featureChannels, numClasses, {
    channels: head.channels,
    rates: head.rates,
    seed: 2,
  });
  return new SegmentationNetwork(backbone, numClasses, aspp);
}

/** The classifier trained in `checkpoint` (a train-classifier stage's), for CAMs. */
export async function trainedClassifier(
  config: Pick<BaselineConfig, 'backbone' | 'classifier'>,
  numClasses: number,
  checkpoint: string,
) {
  const network = await classifierNetwork(config, numClasses, false);
  await loadCheckpointParameters(checkpoint, [
    { name: 'backbone', params: network.backbone.params },
    { name: 'head', params: network.head.params },
  ]);
  return network;
}

/** The segmentation network trained in `checkpoint` (a train-segmentation stage's), for predictions. */
export async function trainedSegmentationNetwork(
  config: Pick<BaselineConfig, 'backbone' | 'segmentation'>,
  numClasses: number,
  checkpoint: string,
) {
  const net = await segmentationNetwork(config, numClasses, false);
  await loadCheckpointParameters(checkpoint, [
    { name: 'backbone', params: net.backbone.params },
    { name: 'head', params: net.head.params },
  ]);
  return net;
}

/** Mask values in label-vector order, and the number of mask classes (background included). */
export function classLayout(dataset: SegmentationDataset) {
  return { classValues: [...dataset.labelClasses], numClasses: dataset.classNames.length };
}

/** One image through the segmentation network at the config's evaluation scales, flips and optional CRF. */
export function segmentWithConfig(
  net: SegmentationNetwork,
  image: RgbImage,
  config: Pick<BaselineConfig, 'segmentation' | 'evaluation'>,
): Promise<LabelMap> {
  return segment(net, image, {
    scales: config.evaluation.scales.map((scale) => scale * config.segmentation.inputScale),
    flip: config.evaluation.flip,
    crf: config.evaluation.crf ? 'psa' : false,
  });
}
