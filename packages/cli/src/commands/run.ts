import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import {
  type ConfigSources,
  getPipeline,
  listPipelines,
  mergeShards,
  type RunReport,
  reportMarkdown,
  resolveConfig,
  runPipeline,
} from '@wsss/pipelines';
import { parse as parseYaml } from 'yaml';
import { type Io, readRun, startBackend, UsageError } from '../io';
import { progressPrinter } from '../progress';

export interface RunArgs {
  pipeline: string;
  preset?: string;
  config?: string;
  dataset?: string;
  dataRoot?: string;
  weights?: string;
  out: string;
  name?: string;
  sets: string[];
  seed: number;
  until?: string;
  backend?: string;
  shard?: string;
}

/** `--shard k/n` (k from 0). */

function parseShard(text: string | undefined): { index: number; count: number } | undefined {
  if (text === undefined) return undefined;
  const match = text.match(/^(\d+)\/(\d+)$/);
  const [index, count] = match ? [Number(match[1]), Number(match[2])] : [Number.NaN, Number.NaN];
  if (!match || count < 1 || index >= count) {
    throw new UsageError(`--shard: expected k/n with 0 <= k < n (e.g. 0/4), got '${text}'`);
  }
  return { index, count };
}

function configSources(args: RunArgs): ConfigSources {
  const sets = [...args.sets];
  if (args.dataset) sets.unshift(`dataset.name=${args.dataset}`);
  if (args.dataRoot) {
    if (!existsSync(args.dataRoot)) throw new UsageError(`--data-root: ${args.dataRoot} does not exist`);
    sets.unshift(`dataset.root=${resolve(args.dataRoot)}`);
  }
  if (args.weights) {
    if (!existsSync(args.weights)) throw new UsageError(`--weights: ${args.weights} does not exist`);
    sets.unshift(`backbone.weights=${resolve(args.weights)}`);
  }
  let file: ConfigSources['file'];
  if (args.config) {
    if (!existsSync(args.config)) throw new UsageError(`--config: ${args.config} does not exist`);
    const yaml = /\.ya?ml$/i.test(args.config);
    try {
      const text = readFileSync(args.config, 'utf8');
      file = { path: args.config, contents: yaml ? parseYaml(text) : JSON.parse(text) };
    } catch (err) {
      const message = (err as Error).message.split('\n')[0];
      throw new UsageError(`--config: ${args.config} is not valid ${yaml ? 'YAML' : 'JSON'} (${message})`);
    }
  }
  return { preset: args.preset, file, sets };
}

function printSummary(io: Io, runDir: string): void {
  const report = JSON.parse(readFileSync(join(runDir, 'report.json'), 'utf8')) as RunReport;
  const markdown = reportMarkdown(report);
  io.stdout.write(
    `${markdown.slice(0, markdown.indexOf('\n## ') > 0 ? markdown.indexOf('\n## ') : undefined).trimEnd()}\n`,
  );
  io.stdout.write(`\nrun folder: ${runDir} (report.md holds per-class scores)\n`);
}

/** `wsss run <pipeline>`: resolves the config, then runs (or resumes) it in `<out>/<name>`. */

export async function runCommand(args: RunArgs, io: Io): Promise<void> {
  let pipeline: ReturnType<typeof getPipeline>;
  let config: object;
  try {
    pipeline = getPipeline(args.pipeline);
    config = resolveConfig(pipeline.defaults, pipeline.presets, configSources(args));
  } catch (err) {
    throw err instanceof UsageError ? err : new UsageError((err as Error).message);
  }
  const runDir = resolve(args.out, args.name ?? `${pipeline.name}-${args.preset ?? 'quick'}`);
  const shard = parseShard(args.shard);
  await startBackend(args.backend, io);
  await runPipeline(pipeline, config, {
    runDir,
    preset: args.preset,
    seed: args.seed,
    until: args.until,
    shard,
    onProgress: progressPrinter(io.stderr),
    log: (line) => io.stderr.write(`${line}\n`),
  });
  if (shard) io.stdout.write(`shard ${shard.index}/${shard.count} done in ${runDir}\n`);
  else printSummary(io, runDir);
}

/** `wsss resume <run-dir>`: runs a recorded run again from its first incomplete stage. */

export async function resumeCommand(runDir: string, backend: string | undefined, io: Io): Promise<void> {
  const record = readRun(runDir);
  const pipeline = getPipeline(record.pipeline);
  await startBackend(backend, io);
  await runPipeline(pipeline, record.config, {
    runDir: resolve(runDir),
    preset: record.preset ?? undefined,
    seed: record.seed,
    onProgress: progressPrinter(io.stderr),
    log: (line) => io.stderr.write(`${line}\n`),
  });
  printSummary(io, resolve(runDir));
}

export async function mergeCommand(runDir: string, io: Io): Promise<void> {
  const record = readRun(runDir);
  const merged = await mergeShards(getPipeline(record.pipeline), resolve(runDir));
  io.stdout.write(
    merged.length ? `merged the shards of ${merged.join(', ')}\n` : 'no stage had shards to merge\n',
  );
}

export function pipelinesCommand(io: Io): void {
  for (const { name, description } of listPipelines()) io.stdout.write(`${name.padEnd(12)} ${description}\n`);
}

/** `wsss merge <run-dir>`: completes the per-image stages whose shards have all finished. */
