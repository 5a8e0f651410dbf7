import { tf } from '../tf';

export interface NoLeakOptions {
  /** Calls before the count is taken (caches, lazily created constants). Default 1. */
  warmup?: number;
  /** Calls that must leave `tf.memory().numTensors` unchanged. Default 3. */
  iterations?: number;
}

/**
 * Calls `fn` repeatedly and throws if `tf.memory().numTensors` grows: the check that long training and inference
 * loops stay flat. Tensors that `fn` returns are disposed after each call (returning a result is not a leak).
 *
 * ```ts
 * await expectNoLeaks(() => tf.tidy(() => model.predict(x)));
 * ```
 */
export async function expectNoLeaks(fn: () => unknown, options: NoLeakOptions = {}): Promise<void> {
  const warmup = options.warmup ?? 1;
  const iterations = options.iterations ?? 3;
  for (let i = 0; i < warmup; i++) disposeResult(await fn());
  const before = tf.memory().numTensors;
  const counts: number[] = [];
  for (let i = 0; i < iterations; i++) {
    disposeResult(await fn());
    counts.push(tf.memory().numTensors);
  }
  const after = counts[counts.length - 1];
  if (after !== before || counts.some((c) => c !== before)) {
    throw new Error(
      `tensor leak: tf.memory().numTensors was ${before} before and [${counts.join(', ')}] after each of ` +
        `${iterations} calls (${(after - before) / iterations} tensors per call)`,
    );
  }
}

/** Runs `fn` once and returns its result plus how many tensors it left allocated (excluding returned ones). */
export async function withNoLeaks<T>(fn: () => T | Promise<T>): Promise<T> {
  const before = tf.memory().numTensors;
  const result = await fn();
  const returned = countTensors(result);
  const leaked = tf.memory().numTensors - before - returned;
  if (leaked !== 0)
    throw new Error(`tensor leak: ${leaked} tensors left allocated besides the ${returned} returned`);
  return result;
}

function countTensors(value: unknown): number {
  if (value instanceof tf.Tensor) return value.isDisposed ? 0 : 1;
  if (Array.isArray(value)) return value.reduce((n: number, v) => n + countTensors(v), 0);
  if (value && typeof value === 'object' && value.constructor === Object) {
    return Object.values(value).reduce((n: number, v) => n + countTensors(v), 0);
  }
  return 0;
}

function disposeResult(value: unknown): void {
  if (value instanceof tf.Tensor) value.dispose();
  else if (Array.isArray(value)) value.forEach(disposeResult);
  else if (value && typeof value === 'object' && value.constructor === Object)
    Object.values(value).forEach(disposeResult);
}
