import { tf } from '../../tf';
import { convGeometry } from '../conv_geometry';

type Attrs = tf.DepthwiseConv2dNativeBackpropInputAttrs;

/**
 * `DepthwiseConv2dNativeBackpropInput` for backends that lack it (tfjs-backend-wasm 4.x), using the backend's own
 * fast forward depthwise convolution: `dy` is spread onto the stride grid (zeros in between), padded by the
 * effective filter size and correlated with the spatially flipped filter (dilation kept), which gives
 * `dxPad[p] = sum_k dyGrid[p - k*d] * W[k]`; the channel multiplier is summed out and the padding cropped.
 */
export function depthwiseConv2dBackpropInput({
  inputs,
  attrs,
}: { inputs: tf.NamedTensorInfoMap; attrs?: tf.NamedAttrMap }) {
  const { strides, dilations, pad, dimRoundingMode, inputShape } = attrs as unknown as Attrs;
  const dy = inputs.dy as tf.Tensor4D;
  const filter = inputs.filter as tf.Tensor4D;
  return tf.tidy(() => {
    const g = convGeometry(inputShape, filter.shape, strides, dilations, pad, dimRoundingMode, true);
    const [kh, kw, c, q] = filter.shape;
    const grid = spreadOntoStrideGrid(dy, g.strideHeight, g.strideWidth);
    const effH = (kh - 1) * g.dilationHeight;
    const effW = (kw - 1) * g.dilationWidth;
    const padded = tf.pad(grid, [
      [0, 0],
      [effH, g.paddedHeight - grid.shape[1]],
      [effW, g.paddedWidth - grid.shape[2]],
      [0, 0],
    ]);
    const flipped = tf.reverse(filter, [0, 1]).reshape([kh, kw, c * q, 1]) as tf.Tensor4D;
    let dxPad = tf.depthwiseConv2d(padded, flipped, 1, 'valid', 'NHWC', [g.dilationHeight, g.dilationWidth]);
    if (q > 1) dxPad = tf.sum(dxPad.reshape([g.batch, g.paddedHeight, g.paddedWidth, c, q]), 4);
    return tf.slice(dxPad, [0, g.padTop, g.padLeft, 0], [g.batch, g.inHeight, g.inWidth, c]);
  });
}

/** [N,H,W,C] -> [N,(H-1)*sh+1,(W-1)*sw+1,C] with the values at multiples of the stride and zeros between. */
function spreadOntoStrideGrid(t: tf.Tensor4D, sh: number, sw: number): tf.Tensor4D {
  if (sh === 1 && sw === 1) return t;
  const [n, h, w, c] = t.shape;
  const rows = tf
    .pad(t.reshape([n, h, 1, w, c]), [
      [0, 0],
      [0, 0],
      [0, sh - 1],
      [0, 0],
      [0, 0],
    ])
    .reshape([n, h * sh, w, c]);
  const both = tf
    .pad(rows.reshape([n, h * sh, w, 1, c]), [
      [0, 0],
      [0, 0],
      [0, 0],
      [0, sw - 1],
      [0, 0],
    ])
    .reshape([n, h * sh, w * sw, c]);
  return tf.slice(both, [0, 0, 0, 0], [n, (h - 1) * sh + 1, (w - 1) * sw + 1, c]);
}
