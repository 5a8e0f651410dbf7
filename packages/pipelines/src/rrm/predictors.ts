import { labelsFromScores, multiScaleCam } from '@wsss/cam';
import { imageToInput, tf } from '@wsss/core';
import { trainedCheckpoint } from '../artefacts';
import { openDataset } from '../data';
import type { CamPredictor, Predictor } from '../pipeline';
import { segment } from '../segment';
import type { RrmConfig } from './config';
import { rrmLayout } from './layout';
import { trainedRrmNetwork } from './network';
import { rrmStages } from './stages';

async function trainedNetwork(runDir: string, config: RrmConfig) {
  const checkpoint = trainedCheckpoint(runDir, rrmStages(), 'train', 'network');
  const data = await openDataset(config.dataset, 'eval');
  const layout = rrmLayout(data);
  return { data, net: await trainedRrmNetwork(config, layout.numLabels, layout.numClasses, checkpoint) };
}

/** The segmentation branch of a finished RRM run (for `wsss infer`). */
export async function rrmPredictor(runDir: string, config: RrmConfig): Promise<Predictor> {
  const { data, net } = await trainedNetwork(runDir, config);
  return {
    classNames: data.classNames,
    palette: data.palette,
    predict: (image) =>
      segment(net.segmentation, image, {
        scales: config.evaluation.scales.map((s) => s * config.training.inputScale),
        flip: config.evaluation.flip,
        crf: config.evaluation.crf ? 'rrmInference' : false,
      }),
    dispose: () => net.dispose(),
  };
}

/** The classification branch of an RRM run as CAMs of new images (for `wsss cam`). */
export async function rrmCamPredictor(runDir: string, config: RrmConfig): Promise<CamPredictor> {
  const { data, net } = await trainedNetwork(runDir, config);
  const network = (x: tf.Tensor4D) => net.classifier.activationMaps(net.backbone.forward(x).features);
  return {
    labelNames: data.labelClasses.map((v) => data.classNames[v]),
    async cams(image, threshold) {
      const logits = tf.tidy(() => net.forward(imageToInput(image, net.backbone.normalization)).classLogits);
      const raw = Array.from(await logits.data());
      logits.dispose();
      const present = labelsFromScores(raw, threshold);
      const maps = multiScaleCam(image, present, network, {
        scales: config.cams.scales.map((s) => s * config.training.inputScale),
        flip: false,
        normalization: net.backbone.normalization,
      });
      const cams = (await maps.data()) as Float32Array;
      maps.dispose();
      return { scores: raw.map((x) => 1 / (1 + Math.exp(-x))), present, cams };
    },
    dispose: () => net.dispose(),
  };
}
