/** Wall-time statistics of repeated runs (the `wsss bench` harness, also used by the repository's benchmarks). */
import { tf } from '@wsss/core';

export interface Timing {
  medianMs: number;
  /** First and third quartile (the interquartile range is q3Ms - q1Ms). */
  q1Ms: number;
  q3Ms: number;
  minMs: number;
  maxMs: number;
  runs: number;
}

/** The quantile `q` of ascending `sorted` values, linearly interpolated (numpy's default). */
function quantile(sorted: number[], q: number): number {
  const at = (sorted.length - 1) * q;
  const low = Math.floor(at);
  const high = Math.min(low + 1, sorted.length - 1);
  return sorted[low] + (sorted[high] - sorted[low]) * (at - low);
}

/** Summary statistics of run times in milliseconds. */
export function summarizeTimes(times: readonly number[]): Timing {
  if (times.length === 0) throw new Error('summarizeTimes: times must not be empty');
  const sorted = [...times].sort((a, b) => a - b);
  return {
    medianMs: quantile(sorted, 0.5),
    q1Ms: quantile(sorted, 0.25),
    q3Ms: quantile(sorted, 0.75),
    minMs: sorted[0],
    maxMs: sorted[sorted.length - 1],
    runs: sorted.length,
  };
}

/**
 * Times `fn` (which must await its results, e.g. `await tensor.data()`): `warmup` untimed calls, then `runs` timed
 * ones. The clock is injectable for tests.
 */
export async function time(
  fn: () => Promise<unknown>,
  runs = 5,
  warmup = 1,
  now: () => number = () => performance.now(),
): Promise<Timing> {
  if (!Number.isInteger(runs) || runs < 1) throw new Error(`time: runs must be an integer >= 1, got ${runs}`);
  for (let i = 0; i < warmup; i++) await fn();
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = now();
    await fn();
    times.push(now() - t0);
  }
  return summarizeTimes(times);
}

/** Formats rows as a GitHub markdown table. */
export function markdownTable(header: string[], rows: (string | number)[][]): string {
  const line = (cells: (string | number)[]) => `| ${cells.join(' | ')} |`;
  return [line(header), line(header.map(() => '---')), ...rows.map(line)].join('\n');
}

/** Awaits the values of `tensors` (so that lazy and GPU backends finish) and disposes them. */
export async function settle(tensors: tf.Tensor[]): Promise<void> {
  await Promise.all(tensors.map((t) => t.data()));
  tf.dispose(tensors);
}
