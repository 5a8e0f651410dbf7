import { tf } from '../tf';

/**
 * Output size and padding of a 2-D convolution, as the forward kernels compute them (`tf.backend_util`), so that the
 * backward kernels built here agree with every backend's forward pass exactly.
 */
export interface ConvGeometry {
  batch: number;
  inHeight: number;
  inWidth: number;
  inChannels: number;
  outHeight: number;
  outWidth: number;
  filterHeight: number;
  filterWidth: number;
  strideHeight: number;
  strideWidth: number;
  dilationHeight: number;
  dilationWidth: number;
  padTop: number;
  padLeft: number;
  /** Height and width of the zero-padded input that the output positions read from. */
  paddedHeight: number;
  paddedWidth: number;
}

type Pad =
  | 'same'
  | 'valid'
  | number
  | [[number, number], [number, number], [number, number], [number, number]];

export function convGeometry(
  inShape: readonly number[],
  filterShape: readonly number[],
  strides: number | [number, number],
  dilations: number | [number, number] | undefined,
  pad: Pad,
  dimRoundingMode: 'floor' | 'round' | 'ceil' | undefined,
  depthwise: boolean,
): ConvGeometry {
  const info = tf.backend_util.computeConv2DInfo(
    inShape as [number, number, number, number],
    filterShape as [number, number, number, number],
    strides,
    dilations ?? 1,
    pad,
    dimRoundingMode,
    depthwise,
  );
  const effH = info.effectiveFilterHeight;
  const effW = info.effectiveFilterWidth;
  return {
    batch: info.batchSize,
    inHeight: info.inHeight,
    inWidth: info.inWidth,
    inChannels: info.inChannels,
    outHeight: info.outHeight,
    outWidth: info.outWidth,
    filterHeight: info.filterHeight,
    filterWidth: info.filterWidth,
    strideHeight: info.strideHeight,
    strideWidth: info.strideWidth,
    dilationHeight: info.dilationHeight,
    dilationWidth: info.dilationWidth,
    padTop: info.padInfo.top,
    padLeft: info.padInfo.left,
    paddedHeight: Math.max(info.inHeight + info.padInfo.top, (info.outHeight - 1) * info.strideHeight + effH),
    paddedWidth: Math.max(info.inWidth + info.padInfo.left, (info.outWidth - 1) * info.strideWidth + effW),
  };
}

/**
 * Pads `x` [N,H,W,C] with `value` (default 0) so that it is `g.paddedHeight` x `g.paddedWidth` with the input at
 * (padTop, padLeft).
 */
export function padToGeometry(x: tf.Tensor4D, g: ConvGeometry, value = 0): tf.Tensor4D {
  const bottom = g.paddedHeight - g.inHeight - g.padTop;
  const right = g.paddedWidth - g.inWidth - g.padLeft;
  if (g.padTop === 0 && g.padLeft === 0 && bottom === 0 && right === 0) return x;
  return tf.pad(
    x,
    [
      [0, 0],
      [g.padTop, bottom],
      [g.padLeft, right],
      [0, 0],
    ],
    value,
  );
}

/**
 * The input window that filter tap (kh, kw) sees for every output position: `[N, outH, outW, C]`, i.e.
 * `xPadded[n, y*sh + kh*dh, x*sw + kw*dw, c]`.
 */
export function filterTapWindow(xPadded: tf.Tensor4D, g: ConvGeometry, kh: number, kw: number): tf.Tensor4D {
  const top = kh * g.dilationHeight;
  const left = kw * g.dilationWidth;
  const c = xPadded.shape[3];
  if (g.strideHeight === 1 && g.strideWidth === 1) {
    return tf.slice(xPadded, [0, top, left, 0], [g.batch, g.outHeight, g.outWidth, c]);
  }
  return tf.stridedSlice(
    xPadded,
    [0, top, left, 0],
    [g.batch, top + (g.outHeight - 1) * g.strideHeight + 1, left + (g.outWidth - 1) * g.strideWidth + 1, c],
    [1, g.strideHeight, g.strideWidth, 1],
  ) as tf.Tensor4D;
}

/** [N,H,W,C] -> [N,(H-1)*sh+1,(W-1)*sw+1,C] with the values at multiples of the stride and zeros between. */
export function spreadOntoStrideGrid(t: tf.Tensor4D, sh: number, sw: number): tf.Tensor4D {
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
    .reshape([n, h * sh, w * sw, c]) as tf.Tensor4D;
  return tf.slice(both, [0, 0, 0, 0], [n, (h - 1) * sh + 1, (w - 1) * sw + 1, c]);
}

/**
 * The output gradient laid out for a "full" correlation with the flipped filter: `dy` spread onto the stride grid
 * and padded so that a stride-1, 'valid' correlation (dilation kept) yields the gradient of the *padded* input,
 * `dxPad[p] = sum_k dyGrid[p - k*d] * W[k]`, of size `g.paddedHeight` x `g.paddedWidth`.
 */
export function fullCorrelationInput(dy: tf.Tensor4D, g: ConvGeometry): tf.Tensor4D {
  const grid = spreadOntoStrideGrid(dy, g.strideHeight, g.strideWidth);
  const effH = (g.filterHeight - 1) * g.dilationHeight;
  const effW = (g.filterWidth - 1) * g.dilationWidth;
  return tf.pad(grid, [
    [0, 0],
    [effH, g.paddedHeight - grid.shape[1]],
    [effW, g.paddedWidth - grid.shape[2]],
    [0, 0],
  ]);
}

/** Crops the gradient of the padded input back to the input: `[N, inH, inW, C]` at (padTop, padLeft). */
export function cropToInput(dxPad: tf.Tensor4D, g: ConvGeometry): tf.Tensor4D {
  return tf.slice(dxPad, [0, g.padTop, g.padLeft, 0], [g.batch, g.inHeight, g.inWidth, dxPad.shape[3]]);
}
