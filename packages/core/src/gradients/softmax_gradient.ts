import { portableKernelFunc, registerPortableKernel } from '../kernels/portable_kernel';
import { tf } from '../tf';

/** The kernel of the softmax gradient from its output: inputs `dy`, `y`; `dx = y * (dy - sum(dy * y, last axis))`. */
export const SOFTMAX_BACKPROP = 'SoftmaxBackprop';

/**
 * The gradient of a softmax over the last axis as one kernel where a backend has it (wasm: one WebAssembly SIMD pass
 * per row, rows split between the threads; cpu: one loop), tf ops elsewhere. tfjs-core's gradient runs four
 * kernels (Multiply, Sum, Multiply, Sub), each a pass over the whole tensor (cross-task affinity's [8, 1681, 1681]:
 * 90 MB each). Shape: dy, y [..., C] -> [..., C].
 */
export function softmaxBackprop(dy: tf.Tensor, y: tf.Tensor): tf.Tensor {
  if (dy.dtype === 'float32' && y.dtype === 'float32' && tf.getKernel(SOFTMAX_BACKPROP, tf.getBackend())) {
    return tf.engine().runKernel(SOFTMAX_BACKPROP, { dy, y }) as tf.Tensor;
  }
  return softmaxBackpropOps(dy, y);
}

/** The softmax gradient as tf ops (tfjs-core's), for backends without the kernel. */
export function softmaxBackpropOps(dy: tf.Tensor, y: tf.Tensor): tf.Tensor {
  return tf.tidy(() => {
    const dyTimesY = tf.mul(dy, y);
    return tf.sub(dyTimesY, tf.mul(tf.sum(dyTimesY, -1, true), y));
  });
}

export const softmaxGradConfig: tf.GradConfig = {
  kernelName: tf.Softmax,
  outputsToSave: [true],
  gradFunc: (dy, saved) => {
    const [y] = saved;
    return { logits: () => softmaxBackprop(dy as tf.Tensor, y) };
  },
};

/** The cpu kernel (the wasm one is in WASM_TRAINING_KERNELS). */
const softmaxBackpropCpu = portableKernelFunc<Record<string, never>>(SOFTMAX_BACKPROP, ({ dy, y }) => {
  const cols = dy.shape[dy.shape.length - 1];
  const values = new Float32Array(dy.values.length);
  for (let start = 0; start < values.length; start += cols) {
    let dot = 0;
    for (let c = start; c < start + cols; c++) dot += dy.values[c] * y.values[c];
    for (let c = start; c < start + cols; c++) values[c] = y.values[c] * (dy.values[c] - dot);
  }
  return { shape: dy.shape, values };
});

/** Replaces tfjs-core's softmax gradient and registers the cpu kernel. */
export function registerSoftmaxGradient(): void {
  tf.registerGradient(softmaxGradConfig);
  registerPortableKernel(SOFTMAX_BACKPROP, softmaxBackpropCpu, ['cpu']);
}
