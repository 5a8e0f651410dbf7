import { tf } from '../../tf';
import { convGeometry, cropToInput, fullCorrelationInput } from '../conv_geometry';

type Attrs = tf.Conv2DBackpropInputAttrs;

/**
 * `Conv2DBackpropInput` for wasm through the backend's fast forward convolution (XNNPACK), ~10x faster than
 * tfjs-backend-wasm 4.22's own kernel: `dy` spread onto the stride grid and padded, correlated with the spatially
 * flipped filter whose in/out channels are swapped, `dxPad[p, ci] = sum_{k,co} dyGrid[p - k, co] * W[k, ci, co]`,
 * then cropped to the input.
 */
export function conv2dBackpropInput({
  inputs,
  attrs,
}: {
  inputs: tf.NamedTensorInfoMap;
  attrs?: tf.NamedAttrMap;
}) {
  const { strides, pad, dataFormat, dimRoundingMode, inputShape } = attrs as unknown as Attrs;
  if (dataFormat === 'NCHW')
    throw new Error('Conv2DBackpropInput (wasm training kernel): NCHW is not supported');
  const dy = inputs.dy as tf.Tensor4D;
  const filter = inputs.filter as tf.Tensor4D;
  return tf.tidy(() => {
    const g = convGeometry(inputShape, filter.shape, strides, 1, pad, dimRoundingMode, false);
    // a 1x1 filter needs no flip (and wasm's Reverse costs as much as the product on MobileNet's 1x1 filters)
    const spatial = filter.shape[0] * filter.shape[1] > 1 ? tf.reverse(filter, [0, 1]) : filter;
    const flipped = tf.transpose(spatial, [0, 1, 3, 2]) as tf.Tensor4D;
    return cropToInput(tf.conv2d(fullCorrelationInput(dy, g), flipped, 1, 'valid'), g);
  });
}
