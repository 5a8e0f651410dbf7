/**
 * @wsss/core: the TensorFlow.js foundation of the wsss libraries. Importing it registers gradients (incl. dilated
 * convolutions) and chained ops on tfjs-core, so training works without further setup.
 */
import { registerDilatedConvGradients } from './gradients/dilated_conv_gradients';
import { registerWasmTrainingKernels } from './kernels/wasm/register';

registerDilatedConvGradients();
registerWasmTrainingKernels();

export { tf } from './tf';
export {
  BACKEND_PRIORITY,
  selectBackend,
  type BackendName,
  type SelectBackendOptions,
  type SelectedBackend,
} from './backend/select_backend';
export { registerWasmTrainingKernels, WASM_KERNEL_REPLACEMENTS, WASM_TRAINING_KERNELS } from './kernels/wasm/register';
export {
  dilatedConv2DGradConfig,
  dilatedDepthwiseConv2dGradConfig,
  registerDilatedConvGradients,
} from './gradients/dilated_conv_gradients';
export { readImage, decodeImage, encodePng, writePng } from './image/rgb_io';
export { readLabelPng, decodeLabelPng, encodeLabelPng, writeLabelPng } from './image/label_io';
export { imageToTensor, labelMapToTensor, tensorToImage } from './image/tensor_convert';
export { vocPalette } from './image/palette';
export type { RgbImage, LabelMap } from './image/types';
export { ConfusionMatrix, confusionMatrix, type ConfusionMatrixOptions } from './metrics/confusion_matrix';
export { Rng } from './random/rng';
export { Progress, formatDuration, type ProgressOptions } from './util/progress';
export { writeFileAtomic } from './util/atomic_write';
