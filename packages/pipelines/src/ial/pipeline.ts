import { classifierCamPredictor, segmentationNetworkPredictor } from '../baseline/predictors';
import type { Pipeline } from '../pipeline';
import { IAL_DEFAULTS, IAL_PRESETS, type IalConfig } from './config';
import { ialStages, segmentationStageName } from './stages';

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
  predictor: (runDir, config) =>
    segmentationNetworkPredictor(
      runDir,
      config,
      ialStages(config),
      segmentationStageName(config.iterations.rounds),
    ),
  camPredictor: (runDir, config) => classifierCamPredictor(runDir, config, ialStages(config)),
};
