import { tf } from '../../tf';
import { convGeometry } from '../conv_geometry';
import { runOriginalKernel } from './original_kernels';
import {
  fusedEpilogue,
  heapMatMul,
  isPointwise,
  type KernelArgs,
  wasmHeapKernels,
} from './wasm_heap_kernels';

/**
 * A pointwise (1x1, stride 1, unpadded) float32 convolution in NHWC is the product
 * `y [N*H*W, Co] = act(x [N*H*W, Ci] · W [Ci, Co] + bias)`, which our kernel computes on every thread straight from
 * the tensors, bias and activation applied before a tile is stored. Returns undefined for any other convolution.
 */
function pointwiseProduct(
  args: KernelArgs,
  bias: tf.TensorInfo | undefined,
  activation: number,
): tf.TensorInfo | undefined {
  const { strides, pad, dataFormat, dilations, dimRoundingMode } = args.attrs as unknown as tf.Conv2DAttrs;
  const x = args.inputs.x as tf.TensorInfo;
  const filter = args.inputs.filter as tf.TensorInfo;
  if (dataFormat === 'NCHW' || x.dtype !== 'float32' || filter.dtype !== 'float32' || filter.shape[0] !== 1) {
    return undefined;
  }
  const kernels = wasmHeapKernels(args.backend);
  const g = kernels && convGeometry(x.shape, filter.shape, strides, dilations, pad, dimRoundingMode, false);
  if (!kernels || !g || !isPointwise(g)) return undefined;
  const [ci, co] = [filter.shape[2], filter.shape[3]];
  const out = kernels.makeOutput([g.batch, g.outHeight, g.outWidth, co]);
  const pixels = g.batch * g.outHeight * g.outWidth;
  heapMatMul(kernels, kernels.offsetOf(x), kernels.offsetOf(filter), kernels.offsetOf(out), pixels, ci, co, {
    bias: bias ? kernels.offsetOf(bias) : 0,
    activation,
  });
  return out;
}

/**
 * `Conv2D` for wasm: a pointwise convolution runs as our product (see pointwiseProduct). XNNPACK, behind the
 * original kernel, packs the filter into a new operator whenever the filter tensor is new, i.e. at every training
 * step (up to 2x the product's time on MobileNet's wide 1x1 layers). Other convolutions go to the original kernel.
 */
export function conv2d(args: KernelArgs): tf.TensorInfo {
  return pointwiseProduct(args, undefined, 0) ?? runOriginalKernel(tf.Conv2D, args);
}

/**
 * `FusedConv2D` for wasm: a pointwise convolution with a float32 bias of one value per output channel (or none) and
 * a linear, ReLU or ReLU6 activation runs as our product with bias and activation in its epilogue; anything else
 * (other filters, PReLU, leaky ReLU, sigmoid, elu) goes to the original kernel.
 */
export function fusedConv2d(args: KernelArgs): tf.TensorInfo {
  const epilogue = fusedEpilogue(args, (args.inputs.filter as tf.TensorInfo).shape[3]);
  const product = epilogue && pointwiseProduct(args, epilogue.bias, epilogue.activation);
  return product ?? runOriginalKernel(tf.FusedConv2D, args);
}
