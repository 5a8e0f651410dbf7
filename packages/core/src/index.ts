/**
 * @wsss/core: the TensorFlow.js foundation of the wsss libraries. Importing it registers gradients (incl. dilated
 * convolutions) and chained ops on tfjs-core, so training works without further setup.
 */
import { registerDilatedConvGradients } from './gradients/dilated_conv_gradients';
import { registerFusedConvGradients } from './gradients/fused_conv_gradients';
import { registerRelu6Gradient } from './gradients/relu6_gradient';
import { registerResizeBilinearGradient } from './gradients/resize_bilinear_gradient';
import { registerSoftmaxGradient } from './gradients/softmax_gradient';
import { registerWasmTrainingKernels } from './kernels/wasm/register';
import { registerOptimizerUpdateKernels } from './ops/optimizer_updates';

registerDilatedConvGradients();
registerFusedConvGradients();
registerOptimizerUpdateKernels();
registerResizeBilinearGradient();
registerRelu6Gradient();
registerSoftmaxGradient();
registerWasmTrainingKernels();

export {
  automaticBackendOrder,
  BACKEND_PRIORITY,
  type BackendName,
  type SelectBackendOptions,
  type SelectedBackend,
  selectBackend,
} from './backend/select_backend';
export {
  dilatedConv2DGradConfig,
  dilatedDepthwiseConv2dGradConfig,
  registerDilatedConvGradients,
} from './gradients/dilated_conv_gradients';
export {
  BIAS_ACTIVATION_BACKPROP,
  biasActivationBackprop,
  fusedConv2DGradConfig,
  fusedDepthwiseConv2DGradConfig,
  registerFusedConvGradients,
} from './gradients/fused_conv_gradients';
export {
  RELU6_BACKPROP,
  registerRelu6Gradient,
  relu6Backprop,
  relu6GradConfig,
} from './gradients/relu6_gradient';
export {
  interpolationMatrix,
  registerResizeBilinearGradient,
  resizeBilinearGradConfig,
} from './gradients/resize_bilinear_gradient';
export {
  registerSoftmaxGradient,
  SOFTMAX_BACKPROP,
  softmaxBackprop,
  softmaxGradConfig,
} from './gradients/softmax_gradient';
export { decodeLabelPng, encodeLabelPng, readLabelPng, writeLabelPng } from './image/label_io';
export {
  IMAGENET_NORMALIZATION,
  imageToInput,
  MOBILENET_NORMALIZATION,
  type Normalization,
  normalizeImages,
  normalizePixels,
} from './image/normalization';
export { vocPalette } from './image/palette';
export { decodeImage, encodePng, readImage, writePng } from './image/rgb_io';
export { imageToTensor, labelMapToTensor, tensorToImage } from './image/tensor_convert';
export type { LabelMap, Pixels8, RgbImage } from './image/types';
export {
  makeKernelOutput,
  type PortableCompute,
  type PortableValues,
  portableKernelFunc,
  readKernelInput,
  registerPortableKernel,
  runPortableAsync,
  runPortableKernel,
  SYNC_BACKENDS,
} from './kernels/portable_kernel';
export {
  registerWasmTrainingKernels,
  WASM_KERNEL_REPLACEMENTS,
  WASM_TRAINING_KERNELS,
} from './kernels/wasm/register';
export { type WasmHeapModule, wasmHeapModule } from './kernels/wasm/wasm_heap_module';
export { ConfusionMatrix, type ConfusionMatrixOptions, confusionMatrix } from './metrics/confusion_matrix';
export { type ConvBiasActivationOptions, convBiasActivation } from './ops/conv_bias_activation';
export { type Implementation, usesFusedPass } from './ops/implementation';
export {
  ADAM_UPDATE,
  type AdamUpdateOptions,
  adamUpdate,
  SGD_MOMENTUM_UPDATE,
  type SgdMomentumUpdateOptions,
  sgdMomentumUpdate,
} from './ops/optimizer_updates';
export { stopGradient, withoutGradient } from './ops/stop_gradient';
export { sumTensors } from './ops/sum_tensors';
export { Rng } from './random/rng';
export { tf } from './tf';
export { writeFileAtomic } from './util/atomic_write';
export { fetchBytes } from './util/fetch_bytes';
export { formatDuration, Progress, type ProgressOptions } from './util/progress';
export { WasmArena } from './wasm/wasm_arena';
export {
  decodeBase64,
  setRelaxedSimd,
  usesRelaxedSimd,
  type WasmBinaries,
  wasmBuild,
} from './wasm/wasm_builds';
