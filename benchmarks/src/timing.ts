import {
  type CommandLine,
  markdownTable,
  numberOption,
  parseCommandLine,
  settle,
  type Timing,
  time,
} from '@wsss/cli';

export { markdownTable, settle, type Timing, time };

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
