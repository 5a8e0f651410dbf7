import { tf } from '../tf';

const identityWithoutGradient = tf.customGrad(((x: tf.Tensor) => ({
  value: tf.clone(x),
  gradFunc: (dy: tf.Tensor) => tf.zerosLike(dy),
})) as unknown as Parameters<typeof tf.customGrad>[0]) as (x: tf.Tensor) => tf.Tensor;

/**
 * `x` as a constant of the gradient (TensorFlow's stop_gradient, PyTorch's detach): the identity forward, a zero
 * gradient backward. Stays on the tensor's device (no readback, unlike rebuilding the tensor from its values).
 *
 * ```ts
 * const weight = stopGradient(tf.max(probabilities, 3)); // a weight that is not trained
 * ```
 */
export function stopGradient<T extends tf.Tensor>(x: T): T {
  return identityWithoutGradient(x) as T;
}

/**
 * `fn(x)` computed off the gradient tape: one node with a zero gradient for `x`, so that the non-differentiable ops
 * inside (argMax, equal, oneHot: discrete choices made from `x`) need no gradient of their own.
 *
 * ```ts
 * const winner = withoutGradient(scores, (s) => tf.oneHot(tf.argMax(s, 1), classes).toFloat());
 * ```
 */
export function withoutGradient<T extends tf.Tensor>(x: tf.Tensor, fn: (x: tf.Tensor) => T): T {
  const node = tf.customGrad(((input: tf.Tensor) => ({
    value: fn(input),
    gradFunc: () => tf.zerosLike(input),
  })) as unknown as Parameters<typeof tf.customGrad>[0]) as (x: tf.Tensor) => T;
  return node(x);
}
