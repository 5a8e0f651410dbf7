import { tf } from '../../tf';
import { convGeometry } from '../conv_geometry';
import { runOriginalKernel } from './original_kernels';
import {
  fusedEpilogue,
  heapConvPatches,
  heapMatMul,
  isPointwise,
  type KernelArgs,
  runsAsPatches,
  wasmHeapKernels,
} from './wasm_heap_kernels';

/**
 * A float32 NHWC convolution as our kernels: a pointwise one (1x1, stride 1, unpadded) is the product
 * `y [N*H*W, Co] = act(x [N*H*W, Ci] · W [Ci, Co] + bias)` straight from the tensors; any other with patches of at
 * most 4608 values (`runsAsPatches`: a 3x3 filter on up to 512 channels, any stride and dilation) is patches times
 * the filter, the patches gathered 64 positions at a time (`heapConvPatches`); both on every thread, bias and
 * activation applied before a tile is stored. Returns undefined for any other convolution.
 */
function ourConvolution(
  args: KernelArgs,
  bias: tf.TensorInfo | undefined,
  activation: number,
): tf.TensorInfo | undefined {
  const { strides, pad, dataFormat, dilations, dimRoundingMode } = args.attrs as unknown as tf.Conv2DAttrs;
  const x = args.inputs.x as tf.TensorInfo;
  const filter = args.inputs.filter as tf.TensorInfo;
  if (dataFormat === 'NCHW' || x.dtype !== 'float32' || filter.dtype !== 'float32') return undefined;
  const kernels = wasmHeapKernels(args.backend);
  const g = kernels && convGeometry(x.shape, filter.shape, strides, dilations, pad, dimRoundingMode, false);
  if (!kernels || !g || !(isPointwise(g) || runsAsPatches(g))) return undefined;
  const [ci, co] = [filter.shape[2], filter.shape[3]];
  const out = kernels.makeOutput([g.batch, g.outHeight, g.outWidth, co]);
  const epilogue = { bias: bias ? kernels.offsetOf(bias) : 0, activation };
  const [xAt, filterAt, outAt] = [kernels.offsetOf(x), kernels.offsetOf(filter), kernels.offsetOf(out)];
  if (isPointwise(g)) {
    heapMatMul(kernels, xAt, filterAt, outAt, g.batch * g.outHeight * g.outWidth, ci, co, epilogue);
  } else {
    heapConvPatches(kernels, xAt, filterAt, outAt, g, co, epilogue);
  }
  return out;
}

/**
 * `Conv2D` for wasm: pointwise convolutions and those with patches of up to 4608 values run as our kernels (see
 * ourConvolution). XNNPACK, behind the original kernel, packs the filter into a new operator whenever the filter tensor is new, i.e.
 * at every training step (up to 2x the product's time on MobileNet's wide 1x1 layers), and its pool threads keep
 * polling for work after each call, competing with ours for the cores. Other convolutions go to the original kernel.
 */
export function conv2d(args: KernelArgs): tf.TensorInfo {
  return ourConvolution(args, undefined, 0) ?? runOriginalKernel(tf.Conv2D, args);
}

/**
 * `FusedConv2D` for wasm: a convolution our kernels take (see ourConvolution), with a float32 bias of one value
 * per output channel (or none) and a linear, ReLU or ReLU6 activation, runs as our kernels with bias and activation
 * in their epilogue; anything else (other filters, PReLU, leaky ReLU, sigmoid, elu) goes to the original kernel.
 */
export function fusedConv2d(args: KernelArgs): tf.TensorInfo {
  const epilogue = fusedEpilogue(args, (args.inputs.filter as tf.TensorInfo).shape[3]);
  const product = epilogue && ourConvolution(args, epilogue.bias, epilogue.activation);
  return product ?? runOriginalKernel(tf.FusedConv2D, args);
}
