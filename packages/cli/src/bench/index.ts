/**
 * `@wsss/cli/bench`: the kernels `wsss bench` times and its timing, without the command line (no Node built-in), so
 * that a page (examples/browser) or another harness runs the same cases.
 */
export { BENCH_CASES, type BenchCase, type BenchRun, type BenchSize, classifierTrainingStep } from './cases';
export { markdownTable, settle, summarizeTimes, type Timing, time } from './timing';
