import type { Pipeline } from '../pipeline';
import { RRM_DEFAULTS, RRM_PRESETS, type RrmConfig } from './config';
import { rrmCamPredictor, rrmPredictor } from './predictors';
import { rrmStages } from './stages';

/**
 * RRM + AA/LR (Zhang et al. AAAI 2020; the AA/LR paper, ACM MM 2021): one network trained end to end from
 * image-level labels, making its own pseudo labels every step from its online CAMs and two dense CRFs, trained on
 * them with cross-entropy, the adaptive affinity loss and the label-reassign loss.
 */
export const rrmPipeline: Pipeline<RrmConfig> = {
  name: 'rrm-aa-lr',
  description:
    'single stage: online CAMs -> CRF pseudo labels every step -> CE + adaptive affinity + label reassign',
  defaults: RRM_DEFAULTS,
  presets: RRM_PRESETS,
  stages: () => rrmStages(),
  predictor: rrmPredictor,
  camPredictor: rrmCamPredictor,
};
