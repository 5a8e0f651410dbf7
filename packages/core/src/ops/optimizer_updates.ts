import { readKernelInput } from '../kernels/portable_kernel';
import { tf } from '../tf';

/**
 * The kernel of one SGD step: inputs `weight`, `velocity`, `gradient` (one shape, float32), attributes
 * `learningRate`, `momentum`, `weightDecay`; outputs `[weight', velocity']` (see {@link sgdMomentumUpdate}).
 */
export const SGD_MOMENTUM_UPDATE = 'SgdMomentumUpdate';
/**
 * The kernel of one Adam step: inputs `weight`, `m`, `s`, `gradient`, attributes `learningRate`, `beta1`, `beta2`,
 * `epsilon`, `weightDecay`, `step`; outputs `[weight', m', s']` (see {@link adamUpdate}).
 */
export const ADAM_UPDATE = 'AdamUpdate';

export interface SgdMomentumUpdateOptions {
  learningRate: number;
  momentum: number;
  /** L2 weight decay added to the gradient. Default 0. */
  weightDecay?: number;
}

export interface AdamUpdateOptions {
  learningRate: number;
  beta1: number;
  beta2: number;
  epsilon: number;
  /** L2 weight decay added to the gradient. Default 0. */
  weightDecay?: number;
  /** The step being taken, from 1 (bias corrections `1 - beta^step`). */
  step: number;
}

function checkSameShape(op: string, named: Record<string, tf.Tensor>): void {
  const [first, ...rest] = Object.entries(named);
  for (const [name, t] of [first, ...rest]) {
    if (t.dtype !== 'float32') throw new Error(`${op}: ${name} must be float32, got ${t.dtype}`);
  }
  for (const [name, t] of rest) {
    if (!tf.util.arraysEqual(t.shape, first[1].shape)) {
      throw new Error(
        `${op}: ${name} must have the shape of ${first[0]} [${first[1].shape.join(',')}], got [${t.shape.join(',')}]`,
      );
    }
  }
}

/**
 * One SGD step with momentum and L2 weight decay, as torch.optim.SGD (dampening 0, not Nesterov), in one kernel
 * where the backend has it (wasm: one WebAssembly SIMD pass; cpu: one loop), tf ops elsewhere:
 *
 *   g' = g + λ w,   v' = μ v + g',   w' = w − lr v'
 *
 * Returns new tensors (the inputs are left as they are). Shape: weight, velocity, gradient [...] -> the same.
 */
export function sgdMomentumUpdate(
  weight: tf.Tensor,
  velocity: tf.Tensor,
  gradient: tf.Tensor,
  options: SgdMomentumUpdateOptions,
): { weight: tf.Tensor; velocity: tf.Tensor } {
  checkSameShape('sgdMomentumUpdate', { weight, velocity, gradient });
  const attrs = { weightDecay: 0, ...options };
  if (tf.getKernel(SGD_MOMENTUM_UPDATE, tf.getBackend())) {
    const [w, v] = tf
      .engine()
      .runKernel(SGD_MOMENTUM_UPDATE, { weight, velocity, gradient }, attrs as never) as tf.Tensor[];
    return { weight: w, velocity: v };
  }
  return sgdMomentumUpdateOps(weight, velocity, gradient, attrs);
}

/** {@link sgdMomentumUpdate} as tf ops, for backends without the kernel. */
export function sgdMomentumUpdateOps(
  weight: tf.Tensor,
  velocity: tf.Tensor,
  gradient: tf.Tensor,
  options: SgdMomentumUpdateOptions,
): { weight: tf.Tensor; velocity: tf.Tensor } {
  const { learningRate, momentum, weightDecay = 0 } = options;
  return tf.tidy(() => {
    const g = weightDecay ? tf.add(gradient, tf.mul(weight, weightDecay)) : gradient;
    const v = tf.add(tf.mul(velocity, momentum), g);
    return { weight: tf.sub(weight, tf.mul(v, learningRate)), velocity: v };
  });
}

/**
 * One Adam step with L2 weight decay, as torch.optim.Adam (not AdamW), in one kernel where the backend has it,
 * tf ops elsewhere:
 *
 *   g' = g + λ w,  m' = β1 m + (1 − β1) g',  s' = β2 s + (1 − β2) g'²,
 *   w' = w − lr (m' / (1 − β1^t)) / (sqrt(s' / (1 − β2^t)) + ε)
 *
 * Returns new tensors. Shape: weight, m, s, gradient [...] -> the same.
 */
export function adamUpdate(
  weight: tf.Tensor,
  m: tf.Tensor,
  s: tf.Tensor,
  gradient: tf.Tensor,
  options: AdamUpdateOptions,
): { weight: tf.Tensor; m: tf.Tensor; s: tf.Tensor } {
  checkSameShape('adamUpdate', { weight, m, s, gradient });
  if (!(Number.isInteger(options.step) && options.step >= 1)) {
    throw new Error(`adamUpdate: step must be an integer >= 1, got ${options.step}`);
  }
  const attrs = { weightDecay: 0, ...options };
  if (tf.getKernel(ADAM_UPDATE, tf.getBackend())) {
    const [w, m1, s1] = tf
      .engine()
      .runKernel(ADAM_UPDATE, { weight, m, s, gradient }, attrs as never) as tf.Tensor[];
    return { weight: w, m: m1, s: s1 };
  }
  return adamUpdateOps(weight, m, s, gradient, attrs);
}

/** {@link adamUpdate} as tf ops, for backends without the kernel. */
export function adamUpdateOps(
  weight: tf.Tensor,
  m: tf.Tensor,
  s: tf.Tensor,
  gradient: tf.Tensor,
  options: AdamUpdateOptions,
): { weight: tf.Tensor; m: tf.Tensor; s: tf.Tensor } {
  const { learningRate, beta1, beta2, epsilon, weightDecay = 0, step } = options;
  return tf.tidy(() => {
    const g = weightDecay ? tf.add(gradient, tf.mul(weight, weightDecay)) : gradient;
    const m1 = tf.add(tf.mul(m, beta1), tf.mul(g, 1 - beta1));
    const s1 = tf.add(tf.mul(s, beta2), tf.mul(tf.square(g), 1 - beta2));
    const mHat = tf.div(m1, 1 - beta1 ** step);
    const sHat = tf.div(s1, 1 - beta2 ** step);
    const w = tf.sub(weight, tf.mul(tf.div(mHat, tf.add(tf.sqrt(sHat), epsilon)), learningRate));
    return { weight: w, m: m1, s: s1 };
  });
}

type CpuBackend = { makeTensorInfo(shape: number[], dtype: 'float32', values: Float32Array): tf.TensorInfo };
const f = Math.fround;

/** The cpu kernel of {@link SGD_MOMENTUM_UPDATE}: float32 arithmetic, operation by operation as the tf ops. */
function sgdMomentumUpdateCpu({ inputs, attrs, backend }: Parameters<tf.KernelFunc>[0]): tf.TensorInfo[] {
  const [w, v, g] = ['weight', 'velocity', 'gradient'].map((n) =>
    readKernelInput(backend, inputs[n] as tf.TensorInfo),
  );
  const a = attrs as unknown as Required<SgdMomentumUpdateOptions>;
  const [lr, momentum, decay] = [f(a.learningRate), f(a.momentum), f(a.weightDecay)];
  const wOut = new Float32Array(w.length);
  const vOut = new Float32Array(w.length);
  for (let i = 0; i < w.length; i++) {
    const grad = decay ? f(g[i] + f(w[i] * decay)) : g[i];
    const vel = f(f(v[i] * momentum) + grad);
    vOut[i] = vel;
    wOut[i] = w[i] - f(vel * lr);
  }
  const shape = [...(inputs.weight as tf.TensorInfo).shape];
  const cpu = backend as CpuBackend;
  return [cpu.makeTensorInfo(shape, 'float32', wOut), cpu.makeTensorInfo(shape, 'float32', vOut)];
}

/** The cpu kernel of {@link ADAM_UPDATE}: float32 arithmetic, operation by operation as the tf ops. */
function adamUpdateCpu({ inputs, attrs, backend }: Parameters<tf.KernelFunc>[0]): tf.TensorInfo[] {
  const [w, m, s, g] = ['weight', 'm', 's', 'gradient'].map((n) =>
    readKernelInput(backend, inputs[n] as tf.TensorInfo),
  );
  const a = attrs as unknown as Required<AdamUpdateOptions>;
  const [lr, b1, b2, eps, decay] = [a.learningRate, a.beta1, a.beta2, a.epsilon, a.weightDecay].map(f);
  const [rb1, rb2, c1, c2] = [1 - a.beta1, 1 - a.beta2, 1 - a.beta1 ** a.step, 1 - a.beta2 ** a.step].map(f);
  const outs = [0, 1, 2].map(() => new Float32Array(w.length));
  for (let i = 0; i < w.length; i++) {
    const grad = decay ? f(g[i] + f(w[i] * decay)) : g[i];
    const m1 = f(f(m[i] * b1) + f(grad * rb1));
    const s1 = f(f(s[i] * b2) + f(f(grad * grad) * rb2));
    outs[1][i] = m1;
    outs[2][i] = s1;
    outs[0][i] = w[i] - f(f(f(m1 / c1) / f(f(Math.sqrt(f(s1 / c2))) + eps)) * lr);
  }
  const shape = [...(inputs.weight as tf.TensorInfo).shape];
  return outs.map((values) => (backend as CpuBackend).makeTensorInfo(shape, 'float32', values));
}

/** Registers the cpu kernels of the optimiser updates (the wasm ones are in WASM_TRAINING_KERNELS). */
export function registerOptimizerUpdateKernels(): void {
  const kernels: [string, unknown][] = [
    [SGD_MOMENTUM_UPDATE, sgdMomentumUpdateCpu],
    [ADAM_UPDATE, adamUpdateCpu],
  ];
  for (const [kernelName, kernelFunc] of kernels) {
    if (!tf.getKernel(kernelName, 'cpu')) {
      tf.registerKernel({ kernelName, backendName: 'cpu', kernelFunc: kernelFunc as tf.KernelFunc });
    }
  }
}
