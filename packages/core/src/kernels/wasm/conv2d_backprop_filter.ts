import { tf } from '../../tf';
import { convGeometry, padToGeometry } from '../conv_geometry';
import { heapConvFilterGradient, wasmHeapKernels } from './wasm_heap_kernels';

type Attrs = tf.Conv2DBackpropFilterAttrs;

/**
 * `Conv2DBackpropFilter` for backends that lack it (tfjs-backend-wasm 4.x): the filter gradient
 * `dW[kh,kw,ci,co] = sum_{n,y,x} xPad[n, y*sh + kh, x*sw + kw, ci] * dy[n,y,x,co]`. On the wasm backend it is our
 * WebAssembly SIMD kernel, straight from `x` and `dy` (no im2col, no transposes). Otherwise, as one matrix product
 * `dyᵀ [Co, M] · cols [M, Ci*KH*KW]` (M = N*outH*outW). The im2col matrix `cols` comes from the backend's fast
 * depthwise convolution with one-hot filters (channel multiplier KH*KW), which is ~10x faster on wasm than
 * slicing and concatenating; matMul gets no transposed operand (wasm's transposed paths are ~10x slower).
 */
export function conv2dBackpropFilter({
  inputs,
  attrs,
  backend,
}: {
  inputs: tf.NamedTensorInfoMap;
  attrs?: tf.NamedAttrMap;
  backend?: unknown;
}) {
  const { strides, pad, dataFormat, dimRoundingMode, filterShape } = attrs as unknown as Attrs;
  if (dataFormat === 'NCHW')
    throw new Error('Conv2DBackpropFilter (wasm training kernel): NCHW is not supported');
  const x = inputs.x as tf.Tensor4D;
  const dy = inputs.dy as tf.Tensor4D;
  const g = convGeometry(x.shape, filterShape, strides, 1, pad, dimRoundingMode, false);
  const kernels = x.dtype === 'float32' && dy.dtype === 'float32' ? wasmHeapKernels(backend) : undefined;
  if (kernels) {
    const out = kernels.makeOutput([...filterShape]);
    heapConvFilterGradient(
      kernels,
      kernels.offsetOf(x),
      kernels.offsetOf(dy),
      kernels.offsetOf(out),
      g,
      filterShape[3],
    );
    return out;
  }
  return tf.tidy(() => {
    const [kh, kw, ci, co] = filterShape;
    const taps = kh * kw;
    const m = g.batch * g.outHeight * g.outWidth;
    const dyT = tf.transpose(dy.reshape([m, co]));
    if (taps === 1 && g.strideHeight === 1 && g.strideWidth === 1 && g.padTop === 0 && g.padLeft === 0) {
      return tf.transpose(tf.matMul(dyT, x.reshape([m, ci]))).reshape(filterShape);
    }
    const oneHot = tf.tile(tf.eye(taps).reshape([kh, kw, 1, taps]), [1, 1, ci, 1]) as tf.Tensor4D;
    const cols = tf.depthwiseConv2d(padToGeometry(x, g), oneHot, [g.strideHeight, g.strideWidth], 'valid');
    const product = tf.matMul(dyT, cols.reshape([m, ci * taps])); // [Co, Ci*KH*KW]
    return tf.transpose(product.reshape([co, ci, kh, kw]), [2, 3, 1, 0]);
  });
}
