import { portableKernelFunc, registerPortableKernel } from '../kernels/portable_kernel';
import { tf } from '../tf';

/** The kernel of the ReLU6 gradient: inputs `dy`, `x`; `dx = dy` where `0 < x <= 6`, else 0. */
export const RELU6_BACKPROP = 'Relu6Backprop';

/**
 * The gradient of ReLU6 as one kernel where a backend has it (wasm: one WebAssembly SIMD pass; cpu: one loop), and
 * as tf ops elsewhere. tfjs-core's gradient builds it from five kernels (LessEqual, Step, Cast, two Multiply), which
 * on wasm cost ~8% of a MobileNetV2 training step.
 */
export function relu6Backprop(dy: tf.Tensor, x: tf.Tensor): tf.Tensor {
  if (dy.dtype === 'float32' && x.dtype === 'float32' && tf.getKernel(RELU6_BACKPROP, tf.getBackend())) {
    return tf.engine().runKernel(RELU6_BACKPROP, { dy, x }) as tf.Tensor;
  }
  return relu6BackpropOps(dy, x);
}

/** The ReLU6 gradient as tf ops, for backends without the kernel. */
export function relu6BackpropOps(dy: tf.Tensor, x: tf.Tensor): tf.Tensor {
  return tf.tidy(() => tf.mul(dy, tf.cast(tf.logicalAnd(tf.greater(x, 0), tf.lessEqual(x, 6)), 'float32')));
}

export const relu6GradConfig: tf.GradConfig = {
  kernelName: tf.Relu6,
  inputsToSave: ['x'],
  gradFunc: (dy, saved) => {
    const [x] = saved;
    return { x: () => relu6Backprop(dy as tf.Tensor, x) };
  },
};

/** The cpu kernel (the wasm one is in WASM_TRAINING_KERNELS). */
const relu6BackpropCpu = portableKernelFunc<Record<string, never>>(RELU6_BACKPROP, ({ dy, x }) => {
  const values = new Float32Array(dy.values.length);
  for (let i = 0; i < values.length; i++) {
    const v = x.values[i];
    values[i] = v > 0 && v <= 6 ? dy.values[i] : 0;
  }
  return { shape: dy.shape, values };
});

/** Replaces tfjs-core's ReLU6 gradient and registers the cpu kernel. */
export function registerRelu6Gradient(): void {
  tf.registerGradient(relu6GradConfig);
  registerPortableKernel(RELU6_BACKPROP, relu6BackpropCpu, ['cpu']);
}
