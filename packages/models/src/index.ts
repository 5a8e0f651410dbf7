/** @wsss/models: backbones and heads for WSSS on TensorFlow.js. */

export type { Backbone, BackboneForwardOptions, BackboneOutput } from './backbone';

export { ClassifierHead, DilatedConvHead, type DilatedHeadOptions, multilabelSoftMarginLoss } from './heads';
export {
  bestImageNetClassPerVocClass,
  IMAGENET_1001_TO_VOC,
  vocProbabilitiesFromImageNet,
} from './imagenet_to_voc';
export {
  MobileNetV2,
  type MobileNetV2Options,
  type MobileNetV2Output,
  type OutputStride,
} from './mobilenet_v2';
export { Parameters } from './parameters';
export { ResNet38, type ResNet38Output } from './resnet38';
export { ResNet50, type ResNetOptions } from './resnet50';
export {
  AsppHead,
  type AsppHeadOptions,
  SegmentationNetwork,
  type SegmentationPredictOptions,
  segmentationCrossEntropy,
} from './segmentation';
export { Optimizer, type OptimizerOptions, type ParamGroup } from './training/optimizer';
export {
  type CamClassifier,
  type ClassifierBatch,
  type TrainClassifierOptions,
  type TrainClassifierResult,
  trainClassifier,
} from './training/train_classifier';
export {
  loadCheckpointParameters,
  readCheckpointMetadata,
  TRAIN_CHECKPOINT_KIND,
  type TrainedParameters,
  type TrainLoopOptions,
  type TrainLoopResult,
  type TrainStepInfo,
  trainLoop,
} from './training/train_loop';
export {
  type LoadedWeights,
  type LoadWeightsOptions,
  loadWeights,
  saveWeights,
  type WeightSpec,
  type WeightsManifestJson,
} from './weights_io';
