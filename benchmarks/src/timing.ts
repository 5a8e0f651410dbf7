import { tf } from '@wsss/core';

export interface Timing {
  medianMs: number;
  minMs: number;
  maxMs: number;
  runs: number;
}

/** Median wall time of `fn` (which must await its results) over `runs` timed calls after `warmup` calls. */
export async function time(fn: () => Promise<unknown>, runs = 5, warmup = 1): Promise<Timing> {
  for (let i = 0; i < warmup; i++) await fn();
  const ms: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    await fn();
    ms.push(performance.now() - t0);
  }
  ms.sort((a, b) => a - b);
  return { medianMs: ms[Math.floor(ms.length / 2)], minMs: ms[0], maxMs: ms[ms.length - 1], runs };
}

/** Awaits the values of every tensor (so that lazy backends finish) and disposes them. */
export async function settle(tensors: tf.Tensor[]): Promise<void> {
  await Promise.all(tensors.map((t) => t.data()));
  tf.dispose(tensors);
}

/** Formats rows as a GitHub markdown table. */
export function markdownTable(header: string[], rows: (string | number)[][]): string {
  const line = (cells: (string | number)[]) => `| ${cells.join(' | ')} |`;
  return [line(header), line(header.map(() => '---')), ...rows.map(line)].join('\n');
}

export function ms(t: Timing): string {
  return t.runs > 1
    ? `${t.medianMs.toFixed(0)} (${t.minMs.toFixed(0)}-${t.maxMs.toFixed(0)})`
    : t.medianMs.toFixed(0);
}

/** The number after a command-line flag (`--runs 5`), or `fallback`. */
export function argValue(name: string, fallback: number): number {
  const i = process.argv.indexOf(name);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
}
