import { labelsFromScores, multiScaleCam } from '@wsss/cam';
import { imageToInput, tf } from '@wsss/core';
import { trainedCheckpoint } from '../artefacts';
import { openDataset } from '../data';
import type { CamPredictor, Predictor } from '../pipeline';
import type { Stage } from '../stage';
import type { BaselineConfig } from './config';
import { segmentWithConfig, trainedClassifier, trainedSegmentationNetwork } from './networks';
import { baselineStages, type CamStagesConfig, type SegmentationStagesConfig } from './stages';

/** The segmentation network a finished baseline run trained (for `wsss infer`). */
export function baselinePredictor(runDir: string, config: BaselineConfig): Promise<Predictor> {
  return segmentationNetworkPredictor(runDir, config, baselineStages(), 'train-segmentation');
}

/**
 * The baseline's segmentation network trained by stage `stageName` of a run whose `stages` are given, predicting at
 * the config's evaluation scales, flips and CRF (the baseline's and the IAL rounds' networks).
 */
export async function segmentationNetworkPredictor(
  runDir: string,
  config: SegmentationStagesConfig,
  stages: readonly Pick<Stage, 'name'>[],
  stageName: string,
): Promise<Predictor> {
  const checkpoint = trainedCheckpoint(runDir, stages, stageName, 'segmentation network');
  const data = await openDataset(config.dataset, 'eval');
  const net = await trainedSegmentationNetwork(config, data.classNames.length, checkpoint);
  return {
    classNames: data.classNames,
    palette: data.palette,
    predict: (image) => segmentWithConfig(net, image, config),
    dispose: () => net.dispose(),
  };
}

/** The classifier a baseline run trained, as CAMs of new images (for `wsss cam`). */
export function baselineCamPredictor(runDir: string, config: BaselineConfig): Promise<CamPredictor> {
  return classifierCamPredictor(runDir, config, baselineStages());
}

/** The classifier of a run whose `stages` include the baseline's train-classifier stage, as a CAM predictor. */
export async function classifierCamPredictor(
  runDir: string,
  config: CamStagesConfig,
  stages: readonly Pick<Stage, 'name'>[],
): Promise<CamPredictor> {
  const checkpoint = trainedCheckpoint(runDir, stages, 'train-classifier', 'classifier');
  const data = await openDataset(config.dataset, 'eval');
  const { backbone, head } = await trainedClassifier(config, data.labelClasses.length, checkpoint);
  const network = (x: tf.Tensor4D) => head.activationMaps(backbone.forward(x).features);
  return {
    labelNames: data.labelClasses.map((v) => data.classNames[v]),
    async cams(image, threshold) {
      const logits = tf.tidy(() =>
        head.forward(backbone.forward(imageToInput(image, backbone.normalization)).features),
      );
      const raw = Array.from(await logits.data());
      logits.dispose();
      const scores = raw.map((x) => 1 / (1 + Math.exp(-x)));
      const present = labelsFromScores(raw, threshold);
      const maps = multiScaleCam(image, present, network, {
        scales: config.cams.scales,
        flip: config.cams.flip,
        normalization: backbone.normalization,
      });
      const cams = (await maps.data()) as Float32Array;
      maps.dispose();
      return { scores, present, cams };
    },
    dispose() {
      backbone.dispose();
      head.dispose();
    },
  };
}
