import { tf } from '../../tf';
import { convGeometry } from '../conv_geometry';
import { runOriginalKernel } from './original_kernels';
import { fusedEpilogue, geometryWords, type KernelArgs, wasmHeapKernels } from './wasm_heap_kernels';

/**
 * A float32 NHWC depthwise convolution with channel multiplier 1 (MobileNet's) as our kernel, output rows split
 * between the threads, bias and activation applied before each value is stored; undefined for anything else.
 * XNNPACK, behind the original kernels, runs on its own thread pool, whose threads keep polling for work after each
 * call and compete with ours for the cores in a training step.
 */
function depthwiseProduct(
  args: KernelArgs,
  bias: tf.TensorInfo | undefined,
  activation: number,
): tf.TensorInfo | undefined {
  const { strides, pad, dilations, dimRoundingMode, dataFormat } =
    args.attrs as unknown as tf.DepthwiseConv2dNativeAttrs & Pick<tf.Conv2DAttrs, 'dataFormat'>;
  const x = args.inputs.x as tf.TensorInfo;
  const filter = args.inputs.filter as tf.TensorInfo;
  if (dataFormat === 'NCHW' || x.dtype !== 'float32' || filter.dtype !== 'float32' || filter.shape[3] !== 1) {
    return undefined;
  }
  const kernels = wasmHeapKernels(args.backend);
  if (!kernels) return undefined;
  const g = convGeometry(x.shape, filter.shape, strides, dilations ?? 1, pad, dimRoundingMode, true);
  const out = kernels.makeOutput([g.batch, g.outHeight, g.outWidth, g.inChannels]);
  const geometry = kernels.put(geometryWords(g));
  const [xAt, wAt, outAt] = [kernels.offsetOf(x), kernels.offsetOf(filter), kernels.offsetOf(out)];
  const biasAt = bias ? kernels.offsetOf(bias) : 0;
  const rows = g.batch * g.outHeight;
  const work = rows * g.outWidth * g.filterHeight * g.filterWidth * g.inChannels;
  try {
    kernels.split('depthwiseForward', rows, 1, work, (r0, r1) => [
      ...[xAt, wAt, biasAt, outAt, geometry],
      ...[r0, r1, activation],
    ]);
  } finally {
    kernels.free(geometry);
  }
  return out;
}

/** `DepthwiseConv2dNative` for wasm: multiplier 1 as our kernel (see depthwiseProduct), anything else the original. */
export function depthwiseConv2d(args: KernelArgs): tf.TensorInfo {
  return depthwiseProduct(args, undefined, 0) ?? runOriginalKernel(tf.DepthwiseConv2dNative, args);
}

/**
 * `FusedDepthwiseConv2D` for wasm: multiplier 1 with a float32 bias of one value per channel (or none) and a linear,
 * ReLU or ReLU6 activation as our kernel; anything else (PReLU, leaky ReLU, sigmoid, elu) the original.
 */
export function fusedDepthwiseConv2d(args: KernelArgs): tf.TensorInfo {
  const epilogue = fusedEpilogue(args, (args.inputs.filter as tf.TensorInfo).shape[2]);
  const product = epilogue && depthwiseProduct(args, epilogue.bias, epilogue.activation);
  return product ?? runOriginalKernel(tf.FusedDepthwiseConv2D, args);
}
