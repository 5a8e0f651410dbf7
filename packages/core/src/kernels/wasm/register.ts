import { tf } from '../../tf';
import { conv2dBackpropFilter } from './conv2d_backprop_filter';
import { conv2dBackpropInput } from './conv2d_backprop_input';
import { depthwiseConv2dBackpropFilter } from './depthwise_conv2d_backprop_filter';
import { depthwiseConv2dBackpropInput } from './depthwise_conv2d_backprop_input';
import { maxPoolGrad } from './max_pool_grad';

/** The kernels tfjs-backend-wasm 4.22 lacks for training convolutional networks, built from kernels it has. */
export const WASM_TRAINING_KERNELS: readonly tf.KernelConfig[] = [
  {
    kernelName: tf.Conv2DBackpropFilter,
    backendName: 'wasm',
    kernelFunc: conv2dBackpropFilter as tf.KernelFunc,
  },
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
 * Kernels tfjs-backend-wasm 4.22 has that ours replace: `MaxPoolGrad` is wrong (it loses the gradient of windows
 * whose maximum is negative), `Conv2DBackpropInput` is ~10x slower than going through the forward convolution.
 */
export const WASM_KERNEL_REPLACEMENTS: readonly tf.KernelConfig[] = [
  { kernelName: tf.MaxPoolGrad, backendName: 'wasm', kernelFunc: maxPoolGrad as tf.KernelFunc },
  {
    kernelName: tf.Conv2DBackpropInput,
    backendName: 'wasm',
    kernelFunc: conv2dBackpropInput as tf.KernelFunc,
  },
];

/**
 * Registers `WASM_TRAINING_KERNELS` for the wasm backend (kernels the installed tfjs-backend-wasm already has are
 * left alone) and replaces the kernels in `WASM_KERNEL_REPLACEMENTS`. Idempotent; importing `@wsss/core` calls it.
 */
export function registerWasmTrainingKernels(): void {
  for (const config of WASM_TRAINING_KERNELS) {
    if (tf.getKernel(config.kernelName, 'wasm') === undefined) tf.registerKernel(config);
  }
  for (const config of WASM_KERNEL_REPLACEMENTS) {
    const current = tf.getKernel(config.kernelName, 'wasm');
    if (current?.kernelFunc === config.kernelFunc) continue;
    if (current !== undefined) tf.unregisterKernel(config.kernelName, 'wasm');
    tf.registerKernel(config);
  }
}
