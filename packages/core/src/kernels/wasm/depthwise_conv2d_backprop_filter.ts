import { tf } from '../../tf';
import { convGeometry, filterTapWindow, padToGeometry } from '../conv_geometry';

type Attrs = tf.DepthwiseConv2dNativeBackpropFilterAttrs;

/**
 * `DepthwiseConv2dNativeBackpropFilter` for backends that lack it (tfjs-backend-wasm 4.x):
 * `dW[kh,kw,c,q] = sum_{n,y,x} xPad[n, y*sh + kh*dh, x*sw + kw*dw, c] * dy[n,y,x,c*Q + q]`, one elementwise
 * product and reduction per filter tap. Supports strides, dilations and a channel multiplier Q.
 */
export function depthwiseConv2dBackpropFilter({
  inputs,
  attrs,
}: {
  inputs: tf.NamedTensorInfoMap;
  attrs?: tf.NamedAttrMap;
}) {
  const { strides, dilations, pad, dimRoundingMode, filterShape } = attrs as unknown as Attrs;
  const x = inputs.x as tf.Tensor4D;
  const dy = inputs.dy as tf.Tensor4D;
  return tf.tidy(() => {
    const g = convGeometry(x.shape, filterShape, strides, dilations, pad, dimRoundingMode, true);
    const [kh, kw, c, q] = filterShape;
    const m = g.batch * g.outHeight * g.outWidth;
    const xPad = padToGeometry(x, g);
    const dyByChannel = dy.reshape([m, c, q]);
    const taps: tf.Tensor2D[] = [];
    for (let i = 0; i < kh; i++) {
      for (let j = 0; j < kw; j++) {
        const window = filterTapWindow(xPad, g, i, j).reshape([m, c, 1]);
        taps.push(tf.sum(tf.mul(window, dyByChannel), 0) as tf.Tensor2D);
      }
    }
    return tf.stack(taps).reshape(filterShape);
  });
}
