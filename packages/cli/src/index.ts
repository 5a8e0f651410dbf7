/** @wsss/cli: the `wsss` command, also callable as a function (`main(argv, io)` returns the exit code). */
export {
  ArgumentError,
  type CommandLine,
  numberListOption,
  numberOption,
  parseCommandLine,
  stringOption,
} from './arguments';
export { BENCH_CASES, type BenchCase, type BenchRun, type BenchSize } from './bench/cases';
export { type PeerResult, type PeerRun, runPeers } from './bench/peers';
export { markdownTable, settle, summarizeTimes, type Timing, time } from './bench/timing';
export {
  type BenchArgs,
  type BenchRecord,
  type BenchResult,
  benchCommand,
  benchTable,
} from './commands/bench';
export { type EvalArgs, evalCommand } from './commands/eval';
export { type RunArgs, resumeCommand, runCommand } from './commands/run';
export { type Io, UsageError } from './io';
export { main } from './main';
export { enableRelaxedSimdOnNode20 } from './relaxed_simd';
