import { type ParseArgsConfig, parseArgs } from 'node:util';

/** Parsed options (strings, booleans, repeated strings) and positional arguments. */
export interface CommandLine {
  values: Record<string, string | boolean | (string | boolean)[] | undefined>;
  positionals: string[];
}

/** A command line that cannot be parsed: unknown option, missing value, malformed number. */
export class ArgumentError extends Error {}

/**
 * The project's one command-line parser (the `wsss` command, the examples, the benchmarks): node's `parseArgs`,
 * strict (an unknown option is an error), with `--help` / `-h` always known.
 *
 * ```ts
 * const { values } = parseCommandLine(process.argv.slice(2), { steps: { type: 'string' }, fresh: { type: 'boolean' } }, 'quickstart');
 * const steps = numberOption(values, 'steps', 240);
 * ```
 */
export function parseCommandLine(
  args: readonly string[],
  options: NonNullable<ParseArgsConfig['options']>,
  command: string,
): CommandLine {
  try {
    return parseArgs({
      args: [...args],
      options: { ...options, help: { type: 'boolean', short: 'h' } },
      allowPositionals: true,
      strict: true,
    }) as CommandLine;
  } catch (err) {
    throw new ArgumentError(`${command}: ${(err as Error).message.split('\n')[0]} (see ${command} --help)`);
  }
}

/** The string option `name`, or `fallback`. */
export function stringOption(values: CommandLine['values'], name: string, fallback: string): string;
export function stringOption(values: CommandLine['values'], name: string): string | undefined;
export function stringOption(
  values: CommandLine['values'],
  name: string,
  fallback?: string,
): string | undefined {
  const value = values[name];
  return typeof value === 'string' ? value : fallback;
}

/** The numeric option `name` (an error names it when it is not a number), or `fallback`. */
export function numberOption(values: CommandLine['values'], name: string, fallback: number): number {
  const text = stringOption(values, name);
  if (text === undefined) return fallback;
  const value = Number(text);
  if (text.trim() === '' || !Number.isFinite(value))
    throw new ArgumentError(`--${name} must be a number, got '${text}'`);
  return value;
}

/** A comma-separated list of numbers, e.g. `--scales 1,1.5,2`. */
export function numberListOption(
  values: CommandLine['values'],
  name: string,
  fallback: readonly number[],
): number[] {
  const text = stringOption(values, name);
  if (text === undefined) return [...fallback];
  const list = text.split(',').map(Number);
  if (list.some((v) => !Number.isFinite(v)))
    throw new ArgumentError(`--${name} must be numbers separated by commas, got '${text}'`);
  return list;
}
