import { readKernelInput } from '../kernels/portable_kernel';
import { tf } from '../tf';

/**
 * The kernel of the gradient of `y = act(z + bias)` taken from its output: inputs `dy`, `y` (same shape, channels
 * last), attribute `activation` (`linear`, `relu`, `relu6`); outputs `[dz, dbias]` with
 * `dz = dy` where act'(z) = 1 (ReLU: y > 0; ReLU6: 0 < y < 6, as PyTorch's hardtanh; linear: everywhere), else 0,
 * and `dbias[c] = sum over every other axis of dz[..., c]`.
 */
export const BIAS_ACTIVATION_BACKPROP = 'BiasActivationBackprop';

/** The activations whose gradient can be taken from the output (the fused convolutions' gradients support these). */
export const OUTPUT_DIFFERENTIABLE_ACTIVATIONS: readonly string[] = ['linear', 'relu', 'relu6'];

/**
 * `[dz, dbias]` of `y = act(z + bias)` from `dy` and the output `y` (see {@link BIAS_ACTIVATION_BACKPROP}): one
 * kernel where a backend has it (wasm: one WebAssembly SIMD pass; cpu: one loop), tf ops elsewhere. Shape: dy, y
 * [..., C] -> dz [..., C], dbias [C].
 */
export function biasActivationBackprop(
  dy: tf.Tensor,
  y: tf.Tensor,
  activation = 'linear',
): { dz: tf.Tensor; dbias: tf.Tensor1D } {
  if (!OUTPUT_DIFFERENTIABLE_ACTIVATIONS.includes(activation)) {
    throw new Error(
      `biasActivationBackprop: activation must be one of ${OUTPUT_DIFFERENTIABLE_ACTIVATIONS.join(', ')}, got ${activation}`,
    );
  }
  if (!tf.util.arraysEqual(dy.shape, y.shape) || dy.rank < 1) {
    throw new Error(
      `biasActivationBackprop: dy and y must have one shape [..., C], got [${dy.shape.join(',')}] and [${y.shape.join(',')}]`,
    );
  }
  if (
    dy.dtype === 'float32' &&
    y.dtype === 'float32' &&
    tf.getKernel(BIAS_ACTIVATION_BACKPROP, tf.getBackend())
  ) {
    const [dz, dbias] = tf.engine().runKernel(
      BIAS_ACTIVATION_BACKPROP,
      { dy, y },
      {
        activation,
      },
    ) as tf.Tensor[];
    return { dz, dbias: dbias as tf.Tensor1D };
  }
  return biasActivationBackpropOps(dy, y, activation);
}

/** {@link biasActivationBackprop} as tf ops, for backends without the kernel. */
export function biasActivationBackpropOps(
  dy: tf.Tensor,
  y: tf.Tensor,
  activation: string,
): { dz: tf.Tensor; dbias: tf.Tensor1D } {
  return tf.tidy(() => {
    const zero = tf.scalar(0, y.dtype);
    const mask =
      activation === 'relu'
        ? tf.greater(y, zero)
        : activation === 'relu6'
          ? tf.logicalAnd(tf.greater(y, zero), tf.less(y, tf.scalar(6, y.dtype)))
          : undefined;
    const dz = mask ? tf.mul(dy, tf.cast(mask, dy.dtype)) : tf.clone(dy);
    const leading = Array.from({ length: dy.rank - 1 }, (_, i) => i);
    return { dz, dbias: tf.sum(dz, leading) as tf.Tensor1D };
  });
}

/** The cpu kernel (the wasm one is in WASM_TRAINING_KERNELS). */
function biasActivationBackpropCpu({
  inputs,
  attrs,
  backend,
}: Parameters<tf.KernelFunc>[0]): tf.TensorInfo[] {
  const dyInfo = inputs.dy as tf.TensorInfo;
  const dy = readKernelInput(backend, dyInfo);
  const y = readKernelInput(backend, inputs.y as tf.TensorInfo);
  const activation = (attrs as { activation?: string } | undefined)?.activation ?? 'linear';
  const cols = dyInfo.shape[dyInfo.shape.length - 1];
  const dz = new Float32Array(dy.length);
  const dbias = new Float32Array(cols);
  for (let i = 0; i < dy.length; i++) {
    const v = y[i];
    const inside = activation === 'linear' || (v > 0 && (activation === 'relu' || v < 6));
    const g = inside ? dy[i] : 0;
    dz[i] = g;
    dbias[i % cols] += g;
  }
  const cpu = backend as {
    makeTensorInfo(shape: number[], dtype: 'float32', values: Float32Array): tf.TensorInfo;
  };
  return [cpu.makeTensorInfo([...dyInfo.shape], 'float32', dz), cpu.makeTensorInfo([cols], 'float32', dbias)];
}

/**
 * The gradient of a fused convolution kernel (`FusedConv2D`, `FusedDepthwiseConv2D`) with a linear, ReLU or ReLU6
 * activation: `[dz, dbias]` from the output in one pass ({@link biasActivationBackprop}), then the registered
 * gradient of the plain convolution (dilation-aware, see dilated_conv_gradients.ts) at `dz`. tfjs-core registers
 * none (its `tf.fused.*` ops differentiate ReLU at most, through their own custom gradient); @wsss/core's
 * `convBiasActivation` runs these kernels directly so that their gradients are these.
 */
function fusedConvGradient(kernelName: string, plainKernelName: string): tf.GradConfig {
  return {
    kernelName,
    inputsToSave: ['x', 'filter'],
    outputsToSave: [true],
    gradFunc: (dy, saved, attrs) => {
      const [x, filter, y] = saved;
      const activation = (attrs as unknown as tf.FusedConv2DAttrs).activation ?? 'linear';
      if (!OUTPUT_DIFFERENTIABLE_ACTIVATIONS.includes(activation)) {
        throw new Error(
          `gradient of ${kernelName}: activation ${activation} is not supported (${OUTPUT_DIFFERENTIABLE_ACTIVATIONS.join(', ')})`,
        );
      }
      const { dz, dbias } = biasActivationBackprop(dy as tf.Tensor, y, activation);
      const plain = tf.getGradient(plainKernelName).gradFunc(dz, [x, filter], attrs as tf.NamedAttrMap) as {
        x: () => tf.Tensor;
        filter: () => tf.Tensor;
      };
      return { x: plain.x, filter: plain.filter, bias: () => dbias };
    },
  };
}

export const fusedConv2DGradConfig = fusedConvGradient(tf.FusedConv2D, tf.Conv2D);
export const fusedDepthwiseConv2DGradConfig = fusedConvGradient(
  tf.FusedDepthwiseConv2D,
  tf.DepthwiseConv2dNative,
);

/** Registers the fused convolutions' gradients and the cpu kernel of {@link BIAS_ACTIVATION_BACKPROP}. */
export function registerFusedConvGradients(): void {
  tf.registerGradient(fusedConv2DGradConfig);
  tf.registerGradient(fusedDepthwiseConv2DGradConfig);
  if (!tf.getKernel(BIAS_ACTIVATION_BACKPROP, 'cpu')) {
    tf.registerKernel({
      kernelName: BIAS_ACTIVATION_BACKPROP,
      backendName: 'cpu',
      kernelFunc: biasActivationBackpropCpu as unknown as tf.KernelFunc,
    });
  }
}
