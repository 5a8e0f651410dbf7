/** @wsss/cli: the `wsss` command, also callable as a function (`main(argv, io)` returns the exit code). */
export {
  ArgumentError,
  type CommandLine,
  numberListOption,
  numberOption,
  parseCommandLine,
  stringOption,
} from './arguments';
export {
  type EvalArgs,
  evalCommand,
  type Io,
  type RunArgs,
  resumeCommand,
  runCommand,
  UsageError,
} from './commands';
export { main } from './main';
