/** @wsss/cam: class activation maps, multi-scale inference and CAM pseudo labels. */
export { classActivationMaps, maskAbsentClasses, normalizeCams } from './activation_maps';
export { type BackgroundMode, backgroundScore, withBackground } from './background';
export { gradCam } from './grad_cam';
export {
  type CamNetwork,
  type IrnCams,
  irnMultiScaleCam,
  type MultiScaleOptions,
  multiScaleCam,
} from './multi_scale';
export { camOverlay, jet } from './overlay';
export {
  type ConfidentLabelOptions,
  camLabels,
  camLabelsAsync,
  confidentLabels,
  crfScores,
  labelsFromScores,
  powerLabels,
} from './pseudo_labels';
export { resizeBicubic } from './resize';
export {
  type RrmLabelInputs,
  type RrmLabelInputsWithoutBackground,
  type RrmLabelOptions,
  rrmPseudoLabels,
  rrmPseudoLabelsWithoutBackground,
} from './rrm_labels';
export {
  frequencyTunedSaliency,
  type HeuristicFusionOptions,
  heuristicFusion,
  rgbToLab,
} from './saliency';
