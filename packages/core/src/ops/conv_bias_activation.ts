import { OUTPUT_DIFFERENTIABLE_ACTIVATIONS } from '../gradients/fused_conv_gradients';
import { tf } from '../tf';

export interface ConvBiasActivationOptions {
  /** Default 1. */
  strides?: number | [number, number];
  /** `'same'`, `'valid'` or explicit zero padding on every side. Default `'same'`. */
  pad?: 'same' | 'valid' | number;
  /** Default 1 (strides and dilations cannot both be > 1). */
  dilations?: number | [number, number];
  /** Applied after the bias. Default `'linear'`. */
  activation?: 'linear' | 'relu' | 'relu6';
  /** A depthwise convolution: `filter` [kh, kw, C, multiplier], output channels C * multiplier. Default false. */
  depthwise?: boolean;
}

const isOne = (v: number | [number, number]) => (typeof v === 'number' ? v === 1 : v[0] === 1 && v[1] === 1);

/**
 * `act(conv(x, filter) + bias)` as one kernel (`FusedConv2D` / `FusedDepthwiseConv2D`), differentiable for the
 * linear, ReLU and ReLU6 activations (tfjs' `tf.fused.conv2d` differentiates ReLU at most): the gradient takes the
 * activation's mask and the bias gradient from the output in one pass, then the convolution's own gradient. On wasm a
 * pointwise convolution runs as @wsss/core's product with bias and activation in its epilogue; every backend runs
 * its own fused kernel otherwise (XNNPACK on wasm, WebGPU and cpu kernels). The gradient of ReLU6 is zero where the
 * output is 0 or 6 (PyTorch's hardtanh); ReLU's where it is 0. NHWC.
 *
 * Shape: x [B, H, W, Ci], filter [kh, kw, Ci, Co] (depthwise: [kh, kw, Ci, m], Co = Ci * m), bias [Co] ->
 * [B, H', W', Co].
 *
 * ```ts
 * const y = convBiasActivation(x, kernel, bias, { strides: 2, activation: 'relu6' });
 * ```
 */
export function convBiasActivation(
  x: tf.Tensor4D,
  filter: tf.Tensor4D,
  bias: tf.Tensor1D | undefined,
  options: ConvBiasActivationOptions = {},
): tf.Tensor4D {
  const { strides = 1, pad = 'same', dilations = 1, activation = 'linear', depthwise = false } = options;
  if (x.rank !== 4) throw new Error(`convBiasActivation: x must be [B, H, W, C], got [${x.shape.join(',')}]`);
  if (filter.rank !== 4 || filter.shape[2] !== x.shape[3]) {
    throw new Error(
      `convBiasActivation: filter must be [kh, kw, ${x.shape[3]}, ${depthwise ? 'multiplier' : 'Co'}] for x [${x.shape.join(',')}], got [${filter.shape.join(',')}]`,
    );
  }
  const outChannels = depthwise ? filter.shape[2] * filter.shape[3] : filter.shape[3];
  if (bias !== undefined && (bias.rank !== 1 || bias.shape[0] !== outChannels)) {
    throw new Error(`convBiasActivation: bias must be [${outChannels}], got [${bias.shape.join(',')}]`);
  }
  if (!OUTPUT_DIFFERENTIABLE_ACTIVATIONS.includes(activation)) {
    throw new Error(
      `convBiasActivation: activation must be one of ${OUTPUT_DIFFERENTIABLE_ACTIVATIONS.join(', ')}, got ${activation}`,
    );
  }
  if (!isOne(strides) && !isOne(dilations)) {
    throw new Error(
      `convBiasActivation: strides and dilations cannot both be > 1, got strides ${strides} and dilations ${dilations}`,
    );
  }
  const inputs: tf.NamedTensorMap = bias ? { x, filter, bias } : { x, filter };
  const attrs = { strides, pad, dilations, activation, dataFormat: 'NHWC' };
  const kernel = depthwise ? tf.FusedDepthwiseConv2D : tf.FusedConv2D;
  return tf.engine().runKernel(kernel, inputs, attrs as unknown as tf.NamedAttrMap) as tf.Tensor4D;
}
