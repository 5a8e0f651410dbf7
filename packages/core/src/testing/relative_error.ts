/**
 * The largest |actual - expected| relative to max(1, the largest |expected|): how tests compare a backend or a kernel
 * with its reference. Throws when the lengths differ.
 *
 * ```ts
 * expect(relativeError(await onWasm.data(), await onCpu.data())).toBeLessThan(1e-4);
 * ```
 */
export function relativeError(actual: ArrayLike<number>, expected: ArrayLike<number>): number {
  if (actual.length !== expected.length) {
    throw new Error(`relativeError: ${actual.length} values against ${expected.length} expected`);
  }
  let scale = 1;
  let error = 0;
  for (let i = 0; i < expected.length; i++) {
    scale = Math.max(scale, Math.abs(expected[i]));
    error = Math.max(error, Math.abs(actual[i] - expected[i]));
  }
  return error / scale;
}
