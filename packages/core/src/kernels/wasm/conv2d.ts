import { tf } from '../../tf';
import { convGeometry } from '../conv_geometry';
import { runOriginalKernel } from './original_kernels';
import { heapMatMul, isPointwise, wasmHeapKernels } from './wasm_heap_kernels';

type KernelArgs = { inputs: tf.NamedTensorInfoMap; attrs?: tf.NamedAttrMap; backend: unknown };

/**
 * `Conv2D` for wasm: a pointwise (1x1, stride 1, unpadded) float32 convolution in NHWC is the product
 * `y [N*H*W, Co] = x [N*H*W, Ci] · W [Ci, Co]`, which our kernel computes on every thread straight from the
 * tensors. XNNPACK, behind the original kernel, packs the filter into a new operator whenever the filter tensor is
 * new, i.e. at every training step (up to 2x the product's time on MobileNet's wide 1x1 layers). Other
 * convolutions go to the original kernel.
 */
export function conv2d(args: KernelArgs): tf.TensorInfo {
  const { strides, pad, dataFormat, dilations, dimRoundingMode } = args.attrs as unknown as tf.Conv2DAttrs;
  const x = args.inputs.x as tf.TensorInfo;
  const filter = args.inputs.filter as tf.TensorInfo;
  const kernels =
    dataFormat !== 'NCHW' && x.dtype === 'float32' && filter.dtype === 'float32' && filter.shape[0] === 1
      ? wasmHeapKernels(args.backend)
      : undefined;
  const g = kernels
    ? convGeometry(x.shape, filter.shape, strides, dilations, pad, dimRoundingMode, false)
    : undefined;
  if (!kernels || !g || !isPointwise(g)) {
    return runOriginalKernel(tf.Conv2D, args);
  }
  const [ci, co] = [filter.shape[2], filter.shape[3]];
  const out = kernels.makeOutput([g.batch, g.outHeight, g.outWidth, co]);
  const pixels = g.batch * g.outHeight * g.outWidth;
  heapMatMul(kernels, kernels.offsetOf(x), kernels.offsetOf(filter), kernels.offsetOf(out), pixels, ci, co);
  return out;
}
