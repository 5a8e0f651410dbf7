import { BIAS_ACTIVATION_BACKPROP } from '../../gradients/fused_conv_gradients';
import { RELU6_BACKPROP } from '../../gradients/relu6_gradient';
import { SOFTMAX_BACKPROP } from '../../gradients/softmax_gradient';
import { ADAM_UPDATE, SGD_MOMENTUM_UPDATE } from '../../ops/optimizer_updates';
import { tf } from '../../tf';
import { add } from './add';
import { batchMatMul } from './batch_mat_mul';
import { biasActivationBackprop } from './bias_activation_backprop';
import { conv2d, fusedConv2d } from './conv2d';
import { conv2dBackpropFilter } from './conv2d_backprop_filter';
import { conv2dBackpropInput } from './conv2d_backprop_input';
import { depthwiseConv2d, fusedDepthwiseConv2d } from './depthwise_conv2d';
import { depthwiseConv2dBackpropFilter } from './depthwise_conv2d_backprop_filter';
import { depthwiseConv2dBackpropInput } from './depthwise_conv2d_backprop_input';
import { identity } from './identity';
import { maxPoolGrad } from './max_pool_grad';
import { adamUpdate, sgdMomentumUpdate } from './optimizer_updates';
import { markReplacement, rememberOriginalKernel } from './original_kernels';
import { relu6Backprop } from './relu6_backprop';
import { slice } from './slice';
import { softmaxBackprop } from './softmax_backprop';
import { batchToSpaceND, spaceToBatchND } from './space_to_batch';
import { sum } from './sum';

/**
 * The kernels tfjs-backend-wasm 4.22 lacks for training convolutional networks, built from kernels it has or run as
 * our own WebAssembly SIMD (depthwise gradients with channel multiplier 1), `Relu6Backprop` (relu6_gradient.ts),
 * `SoftmaxBackprop` (softmax_gradient.ts), `BiasActivationBackprop` (fused_conv_gradients.ts) and the optimiser
 * updates (ops/optimizer_updates.ts).
 */
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
  { kernelName: RELU6_BACKPROP, backendName: 'wasm', kernelFunc: relu6Backprop as tf.KernelFunc },
  { kernelName: SOFTMAX_BACKPROP, backendName: 'wasm', kernelFunc: softmaxBackprop as tf.KernelFunc },
  {
    kernelName: BIAS_ACTIVATION_BACKPROP,
    backendName: 'wasm',
    kernelFunc: biasActivationBackprop as unknown as tf.KernelFunc,
  },
  {
    kernelName: SGD_MOMENTUM_UPDATE,
    backendName: 'wasm',
    kernelFunc: sgdMomentumUpdate as unknown as tf.KernelFunc,
  },
  { kernelName: ADAM_UPDATE, backendName: 'wasm', kernelFunc: adamUpdate as unknown as tf.KernelFunc },
];

/**
 * Kernels tfjs-backend-wasm 4.22 has that ours replace: `MaxPoolGrad` is wrong (it loses the gradient of windows
 * whose maximum is negative), `Conv2DBackpropInput` is ~10x slower than going through the forward convolution, and
 * `BatchMatMul` ~25x slower than XNNPACK's 1x1 convolution on large products, `Slice` copies its whole input, and
 * `Sum` over every axis but the last (bias gradients) transposes its input first, `Identity` copies its input, and
 * `Conv2D` and `FusedConv2D` (through XNNPACK) repack a pointwise filter at every training step (conv2d.ts), the
 * depthwise convolutions run on XNNPACK's own thread pool, which competes with ours for the cores
 * (depthwise_conv2d.ts), same-shape `Add` runs on one thread, and `SpaceToBatchND` / `BatchToSpaceND` (dilated
 * convolutions' gradients) pad, reshape to 6-D and transpose, ~100x slower than copying pixels (space_to_batch.ts).
 */
export const WASM_KERNEL_REPLACEMENTS: readonly tf.KernelConfig[] = [
  { kernelName: tf.Slice, backendName: 'wasm', kernelFunc: slice as tf.KernelFunc },
  { kernelName: tf.SpaceToBatchND, backendName: 'wasm', kernelFunc: spaceToBatchND as tf.KernelFunc },
  { kernelName: tf.BatchToSpaceND, backendName: 'wasm', kernelFunc: batchToSpaceND as tf.KernelFunc },
  { kernelName: tf.Sum, backendName: 'wasm', kernelFunc: sum as tf.KernelFunc },
  { kernelName: tf.Identity, backendName: 'wasm', kernelFunc: identity as tf.KernelFunc },
  { kernelName: tf.Conv2D, backendName: 'wasm', kernelFunc: conv2d as tf.KernelFunc },
  { kernelName: tf.FusedConv2D, backendName: 'wasm', kernelFunc: fusedConv2d as tf.KernelFunc },
  {
    kernelName: tf.DepthwiseConv2dNative,
    backendName: 'wasm',
    kernelFunc: depthwiseConv2d as tf.KernelFunc,
  },
  {
    kernelName: tf.FusedDepthwiseConv2D,
    backendName: 'wasm',
    kernelFunc: fusedDepthwiseConv2d as tf.KernelFunc,
  },
  { kernelName: tf.Add, backendName: 'wasm', kernelFunc: add as tf.KernelFunc },
  { kernelName: tf.BatchMatMul, backendName: 'wasm', kernelFunc: batchMatMul as tf.KernelFunc },
  { kernelName: tf.MaxPoolGrad, backendName: 'wasm', kernelFunc: maxPoolGrad as tf.KernelFunc },
  {
    kernelName: tf.Conv2DBackpropInput,
    backendName: 'wasm',
    kernelFunc: conv2dBackpropInput as tf.KernelFunc,
  },
];

/**
 * Registers `WASM_TRAINING_KERNELS` for the wasm backend (kernels the installed tfjs-backend-wasm already has are
 * left alone) and replaces the kernels in `WASM_KERNEL_REPLACEMENTS`. Idempotent, also across several copies of
 * @wsss/core in one process (the backend's own kernels are kept process-wide); importing `@wsss/core` calls it.
 */
export function registerWasmTrainingKernels(): void {
  for (const config of WASM_TRAINING_KERNELS) {
    if (tf.getKernel(config.kernelName, 'wasm') === undefined) tf.registerKernel(config);
  }
  for (const config of WASM_KERNEL_REPLACEMENTS) {
    const current = tf.getKernel(config.kernelName, 'wasm');
    if (current?.kernelFunc === config.kernelFunc) continue;
    const original = rememberOriginalKernel(config.kernelName, current);
    markReplacement(config.kernelFunc);
    if (current !== undefined) tf.unregisterKernel(config.kernelName, 'wasm');
    // keep the original's setup (it binds the wasm functions the original kernel calls for the cases we pass on)
    tf.registerKernel(original?.setupFunc ? { ...config, setupFunc: original.setupFunc } : config);
  }
}
