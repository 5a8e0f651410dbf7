import { trainedCheckpoint } from '../artefacts';
import { segmentWithConfig, trainedSegmentationNetwork } from '../baseline/networks';
import { classifierCamPredictor } from '../baseline/predictors';
import { openDataset } from '../data';
import type { Pipeline, Predictor } from '../pipeline';
import { IAL_DEFAULTS, IAL_PRESETS, type IalConfig } from './config';
import { ialStages, segmentationStageName } from './stages';

/** The last round's segmentation network of a finished IAL run (for `wsss infer`). */
async function ialPredictor(runDir: string, config: IalConfig): Promise<Predictor> {
  const stages = ialStages(config);
  const last = segmentationStageName(config.iterations.rounds);
  const checkpoint = trainedCheckpoint(runDir, stages, last, 'last round segmentation network');
  const data = await openDataset(config.dataset, 'eval');
  const net = await trainedSegmentationNetwork(config, data.classNames.length, checkpoint);
  return {
    classNames: data.classNames,
    palette: data.palette,
    predict: (image) => segmentWithConfig(net, image, config),
    dispose: () => net.dispose(),
  };
}

/**
 * IAL-style iterative affinity learning (after Wang, Liu, Ma, Yang, IJCV 2020, which has no public code): CAM seeds
 * give round 1's unary; each round mines confident regions, trains an AffinityNet on them, refines the unary by a
 * random walk over the learned affinities and trains a segmentation network on the refined labels, whose
 * predictions are the next round's unary.
 */
export const ialPipeline: Pipeline<IalConfig> = {
  name: 'ial',
  description:
    'IAL-style: CAM unary -> K x (confident regions -> affinity net -> random walk -> segmentation network)',
  defaults: IAL_DEFAULTS,
  presets: IAL_PRESETS,
  stages: (config) => ialStages(config),
  predictor: ialPredictor,
  camPredictor: (runDir, config) => classifierCamPredictor(runDir, config, ialStages(config)),
};
