import { tf } from '../../tf';
import { convGeometry, cropToInput, fullCorrelationInput } from '../conv_geometry';
import { wasmDepthwiseInputGradient } from './depthwise_gradients';
import { wasmHeapKernels } from './wasm_heap_kernels';

type Attrs = tf.DepthwiseConv2dNativeBackpropInputAttrs;

/**
 * `DepthwiseConv2dNativeBackpropInput` for backends that lack it (tfjs-backend-wasm 4.x), using the backend's own
 * fast forward depthwise convolution: `dy` is spread onto the stride grid (zeros in between), padded by the
 * effective filter size and correlated with the spatially flipped filter (dilation kept), which gives
 * `dxPad[p] = sum_k dyGrid[p - k*d] * W[k]`; the channel multiplier is summed out and the padding cropped.
 * With channel multiplier 1 on the wasm backend it is instead one scatter pass of our WebAssembly SIMD kernel.
 */
export function depthwiseConv2dBackpropInput({
  inputs,
  attrs,
  backend,
}: {
  inputs: tf.NamedTensorInfoMap;
  attrs?: tf.NamedAttrMap;
  backend?: unknown;
}) {
  const { strides, dilations, pad, dimRoundingMode, inputShape } = attrs as unknown as Attrs;
  const dy = inputs.dy as tf.Tensor4D;
  const filter = inputs.filter as tf.Tensor4D;
  const g = convGeometry(inputShape, filter.shape, strides, dilations, pad, dimRoundingMode, true);
  const kernels =
    filter.shape[3] === 1 && dy.dtype === 'float32' && filter.dtype === 'float32'
      ? wasmHeapKernels(backend)
      : undefined;
  if (kernels) return wasmDepthwiseInputGradient(kernels, dy, filter, g);
  return tf.tidy(() => {
    const [kh, kw, c, q] = filter.shape;
    const flipped = tf.reverse(filter, [0, 1]).reshape([kh, kw, c * q, 1]) as tf.Tensor4D;
    const input = fullCorrelationInput(dy, g);
    let dxPad = tf.depthwiseConv2d(input, flipped, 1, 'valid', 'NHWC', [g.dilationHeight, g.dilationWidth]);
    if (q > 1) dxPad = tf.sum(dxPad.reshape([g.batch, g.paddedHeight, g.paddedWidth, c, q]), 4);
    return cropToInput(dxPad, g);
  });
}
