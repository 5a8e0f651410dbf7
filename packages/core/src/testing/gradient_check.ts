import { tf } from '../tf';

export interface GradientCheckOptions {
  /** Central-difference step. Default 1e-2. */
  eps?: number;
  /** Allowed |numeric - analytic| relative to max(1, |analytic|). Default 2e-3. */
  tolerance?: number;
  /** Flat indices of x to check (default: every element, at most 32 spread evenly). */
  indices?: number[];
}

/**
 * Throws unless tf's gradient of the scalar `f` at `x` matches central finite differences (float32 evaluation),
 * element by element: the check every differentiable op and loss in @wsss gets.
 *
 * ```ts
 * expectGradientsMatch((t) => myLoss(t as tf.Tensor4D, labels), logits);
 * ```
 */
export function expectGradientsMatch(
  f: (x: tf.Tensor) => tf.Scalar,
  x: tf.Tensor,
  options: GradientCheckOptions = {},
): void {
  const { eps = 1e-2, tolerance = 2e-3 } = options;
  const size = x.size;
  const indices =
    options.indices ??
    Array.from({ length: Math.min(size, 32) }, (_, i) => Math.floor((i * size) / Math.min(size, 32)));
  const analytic = tf.tidy(() => tf.grad(f)(x).dataSync());
  const base = Float32Array.from(x.dataSync());
  const at = (values: Float32Array) => tf.tidy(() => f(tf.tensor(values, x.shape)).dataSync()[0]);
  for (const i of indices) {
    const plus = base.slice();
    plus[i] += eps;
    const minus = base.slice();
    minus[i] -= eps;
    const numeric = (at(plus) - at(minus)) / (2 * eps);
    if (!(Math.abs(numeric - analytic[i]) <= tolerance * Math.max(1, Math.abs(analytic[i])))) {
      throw new Error(
        `gradient mismatch at index ${i}: finite differences ${numeric}, tf.grad ${analytic[i]}`,
      );
    }
  }
}
