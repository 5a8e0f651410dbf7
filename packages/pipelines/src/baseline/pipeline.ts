import type { Pipeline } from '../pipeline';
import { BASELINE_DEFAULTS, BASELINE_PRESETS, type BaselineConfig } from './config';
import { baselineCamPredictor, baselinePredictor } from './predictors';
import { baselineStages } from './stages';

/**
 * The baseline every method is compared against: a multi-label classifier from image-level labels, its multi-scale
 * CAMs as seeds, dense-CRF pseudo labels, a segmentation network trained on them, scored on held-out images.
 */
export const baselinePipeline: Pipeline<BaselineConfig> = {
  name: 'baseline',
  description: 'classifier -> CAM seeds -> CRF pseudo labels -> segmentation network (MobileNetV2 + ASPP)',
  defaults: BASELINE_DEFAULTS,
  presets: BASELINE_PRESETS,
  stages: () => baselineStages(),
  predictor: baselinePredictor,
  camPredictor: baselineCamPredictor,
};
