/** @wsss/models: backbones and heads for WSSS on TensorFlow.js. */
export { Parameters } from './parameters';
export { loadWeights, saveWeights, type LoadedWeights, type WeightSpec, type WeightsManifestJson } from './weights_io';
export { MobileNetV2, type MobileNetV2Options, type MobileNetV2Output, type OutputStride } from './mobilenet_v2';
