import { tf } from '../../tf';
import { conv2dBackpropFilter } from './conv2d_backprop_filter';
import { depthwiseConv2dBackpropFilter } from './depthwise_conv2d_backprop_filter';
import { depthwiseConv2dBackpropInput } from './depthwise_conv2d_backprop_input';

/** The kernels tfjs-backend-wasm 4.22 lacks for training convolutional networks, built from kernels it has. */
export const WASM_TRAINING_KERNELS: readonly tf.KernelConfig[] = [
  { kernelName: tf.Conv2DBackpropFilter, backendName: 'wasm', kernelFunc: conv2dBackpropFilter as tf.KernelFunc },
  {
    kernelName: tf.DepthwiseConv2dNativeBackpropFilter,
    backendName: 'wasm',
    kernelFunc: depthwiseConv2dBackpropFilter as tf.KernelFunc,
  },
  {
    kernelName: tf.DepthwiseConv2dNativeBackpropInput,
    backendName: 'wasm',
    kernelFunc: depthwiseConv2dBackpropInput as tf.KernelFunc,
  },
];

/**
 * Registers `WASM_TRAINING_KERNELS` for the wasm backend; kernels the installed tfjs-backend-wasm already has are
 * left alone. Idempotent; `selectBackend('wasm')` calls it.
 */
export function registerWasmTrainingKernels(): void {
  for (const config of WASM_TRAINING_KERNELS) {
    if (tf.getKernel(config.kernelName, 'wasm') === undefined) tf.registerKernel(config);
  }
}
