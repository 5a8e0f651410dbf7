import { tf } from '../../tf';
import { convGeometry, filterTapWindow, padToGeometry } from '../conv_geometry';

type Attrs = tf.Conv2DBackpropFilterAttrs;

/**
 * `Conv2DBackpropFilter` for backends that lack it (tfjs-backend-wasm 4.x): the filter gradient
 * `dW[kh,kw,ci,co] = sum_{n,y,x} xPad[n, y*sh + kh, x*sw + kw, ci] * dy[n,y,x,co]` as one matrix product
 * `dyᵀ [Co, M] · cols [M, KH*KW*Ci]` over an im2col matrix built from strided slices (M = N*outH*outW). B is never
 * transposed inside matMul: wasm's transposed-B path is ~10x slower than an explicit transpose.
 */
export function conv2dBackpropFilter({ inputs, attrs }: { inputs: tf.NamedTensorInfoMap; attrs?: tf.NamedAttrMap }) {
  const { strides, pad, dataFormat, dimRoundingMode, filterShape } = attrs as unknown as Attrs;
  if (dataFormat === 'NCHW') throw new Error('Conv2DBackpropFilter (wasm training kernel): NCHW is not supported');
  const x = inputs.x as tf.Tensor4D;
  const dy = inputs.dy as tf.Tensor4D;
  return tf.tidy(() => {
    const g = convGeometry(x.shape, filterShape, strides, 1, pad, dimRoundingMode, false);
    const [kh, kw, ci, co] = filterShape;
    const m = g.batch * g.outHeight * g.outWidth;
    const xPad = padToGeometry(x, g);
    const taps: tf.Tensor4D[] = [];
    for (let i = 0; i < kh; i++) for (let j = 0; j < kw; j++) taps.push(filterTapWindow(xPad, g, i, j));
    const cols = (taps.length === 1 ? taps[0] : tf.concat(taps, 3)).reshape([m, kh * kw * ci]);
    const dyT = tf.transpose(dy.reshape([m, co]));
    const product = tf.matMul(dyT, cols); // [Co, KH*KW*Ci]
    return tf.transpose(product.reshape([co, kh, kw, ci]), [1, 2, 3, 0]);
  });
}
