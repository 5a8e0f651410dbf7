import { type CommandLine, numberOption, parseCommandLine } from '@wsss/cli';
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

/**
 * The benchmarks' command line, parsed by the project's one parser (unknown options are errors): `--runs`,
 * `--cpu-runs`, `--limit`, and `--measure <op> <backend> <runs>` (cam_inference's child processes).
 */
export function benchmarkArguments(): CommandLine {
  return parseCommandLine(
    process.argv.slice(2),
    {
      runs: { type: 'string' },
      'cpu-runs': { type: 'string' },
      limit: { type: 'string' },
      measure: { type: 'boolean' },
    },
    'bench',
  );
}

/** The number of a benchmark option (`--runs 5`), or `fallback`. */
export function benchmarkOption(name: 'runs' | 'cpu-runs' | 'limit', fallback: number): number {
  return numberOption(benchmarkArguments().values, name, fallback);
}
