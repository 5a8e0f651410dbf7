/**
 * @wsss/pipelines: weakly supervised segmentation pipelines (Node): stages with one contract, resumable run folders,
 * configs with presets and overrides, evaluation at every stage that produces labels, and reports.
 */
export { AUXSEGNET_DEFAULTS, AUXSEGNET_PRESETS, type AuxSegNetConfig } from './auxsegnet/config';
export {
  type AuxSegNetLossTerms,
  AuxSegNetNetwork,
  type AuxSegNetOptions,
  type AuxSegNetOutputs,
  type AuxSegNetTargets,
  auxSegNetLoss,
  auxSegNetNetwork,
} from './auxsegnet/network';
export { auxSegNetPipeline } from './auxsegnet/pipeline';
export { BASELINE_DEFAULTS, BASELINE_PRESETS, type BaselineConfig } from './baseline/config';
export { baselinePipeline } from './baseline/pipeline';
export { type CamFile, readCamFile, writeCamFile } from './cam_files';
export {
  type ConfigObject,
  type ConfigOverrides,
  type ConfigSources,
  type ConfigValue,
  mergeConfig,
  parseOverride,
  resolveConfig,
} from './config';
export { type DatasetConfig, openDataset } from './data';
export {
  type ClassScores,
  type ConfusionJson,
  confusionFromJson,
  confusionToJson,
  mergeScores,
  type SegmentationScores,
  segmentationScores,
} from './evaluation';
export { IAL_DEFAULTS, IAL_PRESETS, type IalConfig } from './ial/config';
export { ialPipeline } from './ial/pipeline';
export { type Energy, labellingEnergy } from './ial/regions';
export {
  type CamPredictor,
  mergeShards,
  type Pipeline,
  type Predictor,
  type PresetName,
  type RunOptions,
  type RunRecord,
  type RunSummary,
  readRunRecord,
  runPipeline,
  stageFolder,
} from './pipeline';
export { getPipeline, listPipelines, registerPipeline } from './registry';
export { buildReport, type ReportRow, type RunReport, reportMarkdown, writeReport } from './report';
export { RRM_DEFAULTS, RRM_PRESETS, type RrmConfig } from './rrm/config';
export { type RrmLayout, rrmLayout } from './rrm/layout';
export { type RrmLossTerms, type RrmTargets, rrmLoss } from './rrm/losses';
export { RrmNetwork, type RrmOutputs, rrmNetwork } from './rrm/network';
export { type OnlineCams, onlineCams } from './rrm/online_cams';
export { rrmPipeline } from './rrm/pipeline';
export { type CrfRunner, type RrmImageLabels, rrmImageLabels } from './rrm/pseudo_labels';
export { labelsFromProbabilities, type SegmentOptions, segment } from './segment';
export {
  type Shard,
  type Stage,
  type StageContext,
  type StageProgress,
  type StageResult,
  shardIds,
} from './stage';
