import { tf } from '../tf';

/**
 * The gradient of `ResizeBilinear` for every coordinate mode. tfjs-core 4.22's gradient kernel ignores
 * `halfPixelCenters` (its result for half-pixel resizing, the mode of PyTorch's `align_corners=False` and of
 * cv2.resize, differs from finite differences by O(1)), so upsampling logits to the label size trained the wrong way.
 *
 * Bilinear resizing is separable, `Y_bc = R_h X_bc R_w^T` with interpolation matrices R_h [H_out, H_in] and
 * R_w [W_out, W_in] built with the forward kernel's exact coordinates; the gradient is `dX_bc = R_h^T dY_bc R_w`,
 * two matrix products.
 */
export const resizeBilinearGradConfig: tf.GradConfig = {
  kernelName: tf.ResizeBilinear,
  inputsToSave: ['images'],
  gradFunc: (dy, saved, attrs) => {
    const [images] = saved as [tf.Tensor4D];
    const { alignCorners, halfPixelCenters } = attrs as unknown as tf.ResizeBilinearAttrs;
    return {
      images: () =>
        tf.tidy(() => {
          const [batch, inHeight, inWidth, channels] = images.shape;
          const [, outHeight, outWidth] = (dy as tf.Tensor4D).shape;
          const rows = tf.tensor2d(interpolationMatrix(inHeight, outHeight, alignCorners, halfPixelCenters), [
            outHeight,
            inHeight,
          ]);
          const columns = tf.tensor2d(
            interpolationMatrix(inWidth, outWidth, alignCorners, halfPixelCenters),
            [outWidth, inWidth],
          );
          // dY [B, Ho, Wo, C] -> over the width: [B*Ho*C, Wo] x [Wo, Wi]
          let g = tf
            .transpose(dy as tf.Tensor4D, [0, 1, 3, 2])
            .reshape([batch * outHeight * channels, outWidth]);
          g = tf.matMul(g, columns).reshape([batch, outHeight, channels, inWidth]);
          // over the height: [B*C*Wi, Ho] x [Ho, Hi]
          g = tf.transpose(g, [0, 2, 3, 1]).reshape([batch * channels * inWidth, outHeight]);
          g = tf.matMul(g, rows).reshape([batch, channels, inWidth, inHeight]);
          return tf.transpose(g, [0, 3, 2, 1]);
        }),
    };
  },
};

/**
 * R [outSize x inSize]: row o holds the weights with which output o mixes the inputs, as tfjs' ResizeBilinear
 * kernels compute them (source = ratio (o + 0.5) - 0.5 with half-pixel centres, ratio o otherwise; floor clamped at
 * 0, ceil at inSize - 1).
 */
export function interpolationMatrix(
  inSize: number,
  outSize: number,
  alignCorners: boolean,
  halfPixelCenters: boolean,
): Float32Array {
  const ratio = alignCorners && outSize > 1 ? (inSize - 1) / (outSize - 1) : inSize / outSize;
  const out = new Float32Array(outSize * inSize);
  for (let o = 0; o < outSize; o++) {
    const source = halfPixelCenters ? ratio * (o + 0.5) - 0.5 : ratio * o;
    const floor = Math.max(0, Math.floor(source));
    const ceil = Math.min(inSize - 1, Math.ceil(source));
    const fraction = source - floor;
    out[o * inSize + floor] += 1 - fraction;
    out[o * inSize + ceil] += fraction;
  }
  return out;
}

/** Registers {@link resizeBilinearGradConfig} (importing `@wsss/core` does). */
export function registerResizeBilinearGradient(): void {
  tf.registerGradient(resizeBilinearGradConfig);
}
