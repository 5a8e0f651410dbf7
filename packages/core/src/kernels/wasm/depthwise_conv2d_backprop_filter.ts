import { tf } from '../../tf';
import { convGeometry, padToGeometry } from '../conv_geometry';
import { wasmDepthwiseFilterGradient } from './depthwise_gradients';
import { wasmHeapKernels } from './wasm_heap_kernels';

type Attrs = tf.DepthwiseConv2dNativeBackpropFilterAttrs;

/**
 * `DepthwiseConv2dNativeBackpropFilter` for backends that lack it (tfjs-backend-wasm 4.x):
 * `dW[kh,kw,c,q] = sum_{n,y,x} xPad[n, y*sh + kh*dh, x*sw + kw*dw, c] * dy[n,y,x,c*Q + q]`.
 *
 * With channel multiplier 1 (MobileNet's) on the wasm backend it is one pass of our WebAssembly SIMD kernel over
 * `x` and `dy` (no padded copies). Otherwise, that sum is itself a depthwise correlation of `xPad` with `dy` as the filter, with stride and dilation swapped, so it
 * runs on the backend's fast forward depthwise convolution. The batch is folded into the width: the N padded
 * inputs are laid side by side (each Wp wide, Wp rounded up to a multiple of the stride) and the N output
 * gradients likewise with slots of Wp / stride columns, zero-filled, so that no window straddles two images.
 */
export function depthwiseConv2dBackpropFilter({
  inputs,
  attrs,
  backend,
}: {
  inputs: tf.NamedTensorInfoMap;
  attrs?: tf.NamedAttrMap;
  backend?: unknown;
}) {
  const { strides, dilations, pad, dimRoundingMode, filterShape } = attrs as unknown as Attrs;
  const x = inputs.x as tf.Tensor4D;
  const dy = inputs.dy as tf.Tensor4D;
  const g = convGeometry(x.shape, filterShape, strides, dilations, pad, dimRoundingMode, true);
  const kernels =
    filterShape[3] === 1 && x.dtype === 'float32' && dy.dtype === 'float32'
      ? wasmHeapKernels(backend)
      : undefined;
  if (kernels) return wasmDepthwiseFilterGradient(kernels, x, dy, g);
  return tf.tidy(() => {
    const [kh, kw, c, q] = filterShape;
    const { batch: n, outHeight: oh, outWidth: ow, strideHeight: sh, strideWidth: sw } = g;
    const slotWidth = Math.ceil(g.paddedWidth / sw) * sw;
    const dySlot = slotWidth / sw;
    // Inputs side by side: [1, Hp, N * slotWidth, C].
    const xPad = padToGeometry(x, g);
    const xWide = tf.pad(xPad, [
      [0, 0],
      [0, 0],
      [0, slotWidth - g.paddedWidth],
      [0, 0],
    ]);
    const xRow = tf
      .transpose(xWide, [1, 0, 2, 3])
      .reshape([1, g.paddedHeight, n * slotWidth, c]) as tf.Tensor4D;
    // Output gradients side by side as the filter: [oh, (N-1) * dySlot + ow, C, Q].
    const dyWide = tf.pad(dy, [
      [0, 0],
      [0, 0],
      [0, dySlot - ow],
      [0, 0],
    ]);
    const filterWidth = (n - 1) * dySlot + ow;
    const dyRow = tf
      .transpose(dyWide, [1, 0, 2, 3])
      .reshape([oh, n * dySlot, c * q])
      .slice([0, 0, 0], [oh, filterWidth, c * q])
      .reshape([oh, filterWidth, c, q]) as tf.Tensor4D;
    const dW = tf.depthwiseConv2d(xRow, dyRow, [g.dilationHeight, g.dilationWidth], 'valid', 'NHWC', [
      sh,
      sw,
    ]);
    return tf.slice(dW, [0, 0, 0, 0], [1, kh, kw, c * q]).reshape(filterShape);
  });
}
