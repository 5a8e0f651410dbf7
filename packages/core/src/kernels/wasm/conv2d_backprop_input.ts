import { tf } from '../../tf';
import { convGeometry, cropToInput, fullCorrelationInput } from '../conv_geometry';
import { heapMatMul, isPointwise, wasmHeapKernels } from './wasm_heap_kernels';

type Attrs = tf.Conv2DBackpropInputAttrs;

/**
 * `Conv2DBackpropInput` for wasm through the backend's fast forward convolution (XNNPACK), ~10x faster than
 * tfjs-backend-wasm 4.22's own kernel: `dy` spread onto the stride grid and padded, correlated with the spatially
 * flipped filter whose in/out channels are swapped, `dxPad[p, ci] = sum_{k,co} dyGrid[p - k, co] * W[k, ci, co]`,
 * then cropped to the input. A pointwise (1x1, stride 1, unpadded) convolution on the wasm backend is instead the
 * product `dx [N*H*W, Ci] = dy [N*H*W, Co] · Wᵀ [Co, Ci]` of our kernel (W packed transposed, no copy of Wᵀ), on every
 * thread.
 */
export function conv2dBackpropInput({
  inputs,
  attrs,
  backend,
}: {
  inputs: tf.NamedTensorInfoMap;
  attrs?: tf.NamedAttrMap;
  backend?: unknown;
}) {
  const { strides, pad, dataFormat, dimRoundingMode, inputShape } = attrs as unknown as Attrs;
  if (dataFormat === 'NCHW')
    throw new Error('Conv2DBackpropInput (wasm training kernel): NCHW is not supported');
  const dy = inputs.dy as tf.Tensor4D;
  const filter = inputs.filter as tf.Tensor4D;
  const g = convGeometry(inputShape, filter.shape, strides, 1, pad, dimRoundingMode, false);
  const kernels =
    isPointwise(g) && dy.dtype === 'float32' && filter.dtype === 'float32'
      ? wasmHeapKernels(backend)
      : undefined;
  if (kernels) {
    const [ci, co] = [filter.shape[2], filter.shape[3]];
    const out = kernels.makeOutput([...inputShape]);
    const pixels = g.batch * g.inHeight * g.inWidth;
    // the filter W [Ci, Co] is Bᵀ of dx = dy · Wᵀ
    heapMatMul(
      kernels,
      kernels.offsetOf(dy),
      kernels.offsetOf(filter),
      kernels.offsetOf(out),
      pixels,
      co,
      ci,
      {
        transposedB: true,
      },
    );
    return out;
  }
  return tf.tidy(() => {
    // a 1x1 filter needs no flip (and wasm's Reverse costs as much as the product on MobileNet's 1x1 filters)
    const spatial = filter.shape[0] * filter.shape[1] > 1 ? tf.reverse(filter, [0, 1]) : filter;
    const flipped = tf.transpose(spatial, [0, 1, 3, 2]) as tf.Tensor4D;
    return cropToInput(tf.conv2d(fullCorrelationInput(dy, g), flipped, 1, 'valid'), g);
  });
}
