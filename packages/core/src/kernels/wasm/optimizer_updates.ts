import {
  type AdamUpdateOptions,
  adamUpdateOps,
  type SgdMomentumUpdateOptions,
  sgdMomentumUpdateOps,
} from '../../ops/optimizer_updates';
import type { tf } from '../../tf';
import { type KernelArgs, wasmHeapKernels } from './wasm_heap_kernels';

const sizeOf = (t: tf.TensorInfo) => t.shape.reduce((n, d) => n * d, 1);

/** `SgdMomentumUpdate` on wasm: one WebAssembly SIMD pass over the backend's heap into two new tensors. */
export function sgdMomentumUpdate({ inputs, attrs, backend }: KernelArgs): tf.TensorInfo[] {
  const { weight, velocity, gradient } = inputs as Record<string, tf.TensorInfo>;
  const a = attrs as unknown as Required<SgdMomentumUpdateOptions>;
  const kernels = wasmHeapKernels(backend);
  if (!kernels) {
    const out = sgdMomentumUpdateOps(weight as tf.Tensor, velocity as tf.Tensor, gradient as tf.Tensor, a);
    return [out.weight, out.velocity];
  }
  const outs = [0, 1].map(() => kernels.makeOutput([...weight.shape]));
  kernels.exports.sgdMomentumUpdate(
    ...([weight, velocity, gradient, ...outs].map((t) => kernels.offsetOf(t)) as [
      number,
      number,
      number,
      number,
      number,
    ]),
    sizeOf(weight),
    a.learningRate,
    a.momentum,
    a.weightDecay,
  );
  return outs;
}

/** `AdamUpdate` on wasm: one WebAssembly SIMD pass over the backend's heap into three new tensors. */
export function adamUpdate({ inputs, attrs, backend }: KernelArgs): tf.TensorInfo[] {
  const { weight, m, s, gradient } = inputs as Record<string, tf.TensorInfo>;
  const a = attrs as unknown as Required<AdamUpdateOptions>;
  const kernels = wasmHeapKernels(backend);
  if (!kernels) {
    const out = adamUpdateOps(weight as tf.Tensor, m as tf.Tensor, s as tf.Tensor, gradient as tf.Tensor, a);
    return [out.weight, out.m, out.s];
  }
  const outs = [0, 1, 2].map(() => kernels.makeOutput([...weight.shape]));
  const at = [weight, m, s, gradient, ...outs].map((t) => kernels.offsetOf(t));
  kernels.exports.adamUpdate(
    ...(at as [number, number, number, number, number, number, number]),
    sizeOf(weight),
    a.learningRate,
    a.beta1,
    a.beta2,
    1 - a.beta1,
    1 - a.beta2,
    a.epsilon,
    a.weightDecay,
    1 - a.beta1 ** a.step,
    1 - a.beta2 ** a.step,
  );
  return outs;
}
