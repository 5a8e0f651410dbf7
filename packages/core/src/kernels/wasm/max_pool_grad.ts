import { tf } from '../../tf';
import { convGeometry, filterTapWindow, padToGeometry, spreadOntoStrideGrid } from '../conv_geometry';

type Attrs = tf.MaxPoolGradAttrs;

/**
 * `MaxPoolGrad` for wasm, replacing tfjs-backend-wasm 4.22's kernel, which drops the gradient of every window whose
 * maximum is negative (it starts its running maximum at 0). Each output's gradient goes to the first input position
 * (in row-major window order) that equals the pooled maximum, as on the cpu backend:
 * `dx[p] = sum_k dy[o] * [x[p] is the first maximum of window o]` over the windows o whose tap k reads p.
 */
export function maxPoolGrad({ inputs, attrs }: { inputs: tf.NamedTensorInfoMap; attrs?: tf.NamedAttrMap }) {
  const { filterSize, strides, pad, dimRoundingMode } = attrs as unknown as Attrs;
  const dy = inputs.dy as tf.Tensor4D;
  const x = inputs.input as tf.Tensor4D;
  const y = inputs.output as tf.Tensor4D;
  return tf.tidy(() => {
    const [fh, fw] = typeof filterSize === 'number' ? [filterSize, filterSize] : filterSize;
    const g = convGeometry(x.shape, [fh, fw, x.shape[3], 1], strides, 1, pad, dimRoundingMode, true);
    const xPad = padToGeometry(x, g, Number.NEGATIVE_INFINITY);
    let taken = tf.zerosLike(y);
    const parts: tf.Tensor4D[] = [];
    for (let i = 0; i < fh; i++) {
      for (let j = 0; j < fw; j++) {
        const hit = tf.mul(tf.cast(tf.equal(filterTapWindow(xPad, g, i, j), y), 'float32'), tf.sub(1, taken));
        taken = tf.add(taken, hit);
        const spread = spreadOntoStrideGrid(tf.mul(dy, hit), g.strideHeight, g.strideWidth);
        parts.push(
          tf.pad(spread, [
            [0, 0],
            [i, g.paddedHeight - i - spread.shape[1]],
            [j, g.paddedWidth - j - spread.shape[2]],
            [0, 0],
          ]),
        );
      }
    }
    const dxPad = parts.length === 1 ? parts[0] : tf.addN(parts);
    return tf.slice(dxPad, [0, g.padTop, g.padLeft, 0], [g.batch, g.inHeight, g.inWidth, g.inChannels]);
  });
}
