import { depthwiseConv2dBackpropFilter as depthwiseConv2dBackpropFilterKernel } from '../kernels/wasm/depthwise_conv2d_backprop_filter';
import { depthwiseConv2dBackpropInput as depthwiseConv2dBackpropInputKernel } from '../kernels/wasm/depthwise_conv2d_backprop_input';
import { tf } from '../tf';

/**
 * Gradients of `Conv2D` and `DepthwiseConv2dNative` that also support dilation rates > 1 (tfjs-core 4.x throws
 * "dilation rates greater than 1 are not yet supported in gradients"). Dilated layers are what turn a backbone's
 * strides into dilations for output stride 16 / 8 (DeepLab), so training them needs this.
 *
 * With dilation 1 they call the same backward kernels as tfjs-core. With dilation d (stride 1, as tfjs requires)
 * they use the atrous identity behind TensorFlow's `with_space_to_batch`:
 * `conv_d(x) = batchToSpace(conv_1(spaceToBatch(x, d, pads)), d, crops)`, whose backward pass is
 * `dx = batchToSpace(backpropInput(spaceToBatch(dy, d, crops)), d, pads)` and
 * `dW = backpropFilter(spaceToBatch(x, d, pads), spaceToBatch(dy, d, crops))`.
 */
interface ConvKind {
  kernelName: string;
  backpropInput: string;
  backpropFilter: string;
  depthwise: boolean;
}

/**
 * The gradient of one convolution kind: its two backward kernels, called directly at dilation 1 (or when the
 * backend's kernels take dilations), through space-to-batch otherwise.
 */
function dilationAwareGradient(kind: ConvKind): tf.GradConfig {
  return {
    kernelName: kind.kernelName,
    inputsToSave: ['x', 'filter'],
    gradFunc: (dy, saved, attrs) => {
      const [x, filter] = saved as [tf.Tensor4D, tf.Tensor4D];
      const { dilations, strides, pad, dimRoundingMode } = attrs as unknown as tf.DepthwiseConv2dNativeAttrs;
      const { dataFormat } = attrs as unknown as tf.Conv2DAttrs;
      const direct = isOne(dilations) || (kind.depthwise && backwardKernelsHandleDilation());
      const backward = (xs: tf.Tensor4D, dys: tf.Tensor4D, s: typeof strides, p: typeof pad): Grads => {
        // Conv2D's backward kernels have no dilations attribute; depthwise ones do.
        const common = { strides: s, pad: p, dimRoundingMode, dataFormat, dilations: direct ? dilations : 1 };
        return {
          x: () =>
            tf.engine().runKernel(kind.backpropInput, { dy: dys, filter }, {
              ...common,
              inputShape: xs.shape,
            } as unknown as tf.NamedAttrMap) as tf.Tensor4D,
          filter: () =>
            tf.engine().runKernel(kind.backpropFilter, { x: xs, dy: dys }, {
              ...common,
              filterShape: filter.shape,
            } as unknown as tf.NamedAttrMap) as tf.Tensor4D,
        };
      };
      if (direct) return backward(x, dy as tf.Tensor4D, strides, pad);
      if (dataFormat === 'NCHW') {
        throw new Error(
          `gradient of ${kind.kernelName}: dilation > 1 is supported for NHWC only (dataFormat NCHW given)`,
        );
      }
      return viaSpaceToBatch(
        x,
        dy as tf.Tensor4D,
        filter.shape,
        dilations,
        pad,
        dimRoundingMode,
        kind.depthwise,
        (xs, dys) => backward(xs, dys, 1, 'valid'),
      );
    },
  };
}

export const dilatedConv2DGradConfig = dilationAwareGradient({
  kernelName: tf.Conv2D,
  backpropInput: tf.Conv2DBackpropInput,
  backpropFilter: tf.Conv2DBackpropFilter,
  depthwise: false,
});

export const dilatedDepthwiseConv2dGradConfig = dilationAwareGradient({
  kernelName: tf.DepthwiseConv2dNative,
  backpropInput: tf.DepthwiseConv2dNativeBackpropInput,
  backpropFilter: tf.DepthwiseConv2dNativeBackpropFilter,
  depthwise: true,
});

type Grads = { x: () => tf.Tensor4D; filter: () => tf.Tensor4D };

function viaSpaceToBatch(
  x: tf.Tensor4D,
  dy: tf.Tensor4D,
  filterShape: [number, number, number, number],
  dilations: number | [number, number],
  pad: tf.Conv2DAttrs['pad'],
  dimRoundingMode: tf.Conv2DAttrs['dimRoundingMode'],
  depthwise: boolean,
  plain: (xs: tf.Tensor4D, dys: tf.Tensor4D) => Grads,
): Grads {
  const info = tf.backend_util.computeConv2DInfo(
    x.shape,
    filterShape,
    1,
    dilations,
    pad,
    dimRoundingMode,
    depthwise,
  );
  if (info.strideHeight !== 1 || info.strideWidth !== 1) {
    throw new Error('gradient of a dilated convolution: strides must be 1 when dilations are > 1');
  }
  const block = [info.dilationHeight, info.dilationWidth];
  const { top, bottom, left, right } = info.padInfo;
  const extraH = mod(-(info.inHeight + top + bottom), block[0]);
  const extraW = mod(-(info.inWidth + left + right), block[1]);
  const paddings = [
    [top, bottom + extraH],
    [left, right + extraW],
  ];
  const crops = [
    [0, extraH],
    [0, extraW],
  ];
  const xs = tf.spaceToBatchND(x, block, paddings) as tf.Tensor4D;
  const dys = tf.spaceToBatchND(dy, block, crops) as tf.Tensor4D;
  const grads = plain(xs, dys);
  return {
    x: () => tf.batchToSpaceND(grads.x(), block, paddings) as tf.Tensor4D,
    filter: grads.filter,
  };
}

/**
 * True when the current backend's depthwise backward kernels are @wsss/core's wasm ones, which take dilations
 * directly (tfjs' own kernels ignore them), so the space-to-batch detour and its transposes can be skipped.
 */
function backwardKernelsHandleDilation(): boolean {
  const backend = tf.getBackend();
  return (
    tf.getKernel(tf.DepthwiseConv2dNativeBackpropInput, backend)?.kernelFunc ===
      depthwiseConv2dBackpropInputKernel &&
    tf.getKernel(tf.DepthwiseConv2dNativeBackpropFilter, backend)?.kernelFunc ===
      depthwiseConv2dBackpropFilterKernel
  );
}

function isOne(d: number | [number, number] | undefined): boolean {
  return d == null || (typeof d === 'number' ? d === 1 : d[0] === 1 && d[1] === 1);
}

function mod(a: number, n: number): number {
  return ((a % n) + n) % n;
}

/** Replaces tfjs-core's conv gradients by the dilation-aware ones above (same results at dilation 1). */
export function registerDilatedConvGradients(): void {
  tf.registerGradient(dilatedConv2DGradConfig);
  tf.registerGradient(dilatedDepthwiseConv2dGradConfig);
}
