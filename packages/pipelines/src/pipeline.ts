import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Rng, writeFileAtomic } from '@wsss/core';
import type { ConfigOverrides } from './config';
import { writeReport } from './report';
import type { Stage, StageProgress, StageResult } from './stage';

/** The presets every pipeline has: tiny for tests, this 2-core machine, the papers' settings for a GPU. */
export type PresetName = 'smoke' | 'quick' | 'paper';

/** A named pipeline: its config defaults, presets, and the stages a config gives. */
export interface Pipeline<C extends object = object> {
  name: string;
  description: string;
  /** The full config with every key (the `quick` preset's values unless said otherwise). */
  defaults: C;
  presets: Record<PresetName, ConfigOverrides<C>>;
  stages(config: C): Stage<C>[];
}

/** What a run records in `<run>/run.json`: enough to resume it with `wsss resume <run>`. */
export interface RunRecord<C = object> {
  pipeline: string;
  preset: string | null;
  config: C;
  seed: number;
  createdAt: string;
}

export interface RunOptions {
  /** The run's folder (`<out>/<run name>`); created when missing, resumed when it holds a run of this config. */
  runDir: string;
  /** Preset the config came from (recorded only). */
  preset?: string;
  /** Seed of every stage's randomness. Default 0. */
  seed?: number;
  onProgress?: (update: StageProgress) => void;
  log?: (line: string) => void;
  /** Stop after this stage (by name), e.g. to look at pseudo labels before training on them. */
  until?: string;
}

export interface RunSummary {
  runDir: string;
  /** Every stage's result, in order. */
  results: { stage: string; dir: string; result: StageResult; seconds: number; resumed: boolean }[];
}

/** Folder of stage `index` (0-based): `01-train-classifier`. */
export function stageFolder(index: number, stage: Pick<Stage, 'name'>): string {
  return `${String(index + 1).padStart(2, '0')}-${stage.name}`;
}

interface DoneRecord {
  stage: string;
  seconds: number;
  finishedAt: string;
  result: StageResult;
}

/**
 * Runs a pipeline's stages in order in `runDir`. A stage whose folder holds `done.json` is complete and is not run
 * again (its result is read back); the others run, and each is marked complete (atomically) only when it has
 * finished. So running again after a crash or a kill resumes at the first incomplete stage, and a training stage
 * inside it resumes from its last checkpoint. The resolved config is written to `run.json`; a run folder that holds
 * another config is refused. Writes `report.json` and `report.md` after every stage.
 */
export async function runPipeline<C extends object>(
  pipeline: Pipeline<C>,
  config: C,
  options: RunOptions,
): Promise<RunSummary> {
  const { runDir } = options;
  const seed = options.seed ?? 0;
  const record: RunRecord<C> = {
    pipeline: pipeline.name,
    preset: options.preset ?? null,
    config,
    seed,
    createdAt: new Date().toISOString(),
  };
  const recordPath = join(runDir, 'run.json');
  if (existsSync(recordPath)) {
    const existing = JSON.parse(readFileSync(recordPath, 'utf8')) as RunRecord<C>;
    if (
      existing.pipeline !== pipeline.name ||
      JSON.stringify(existing.config) !== JSON.stringify(config) ||
      existing.seed !== seed
    ) {
      throw new Error(
        `${runDir} holds a run of another config (${existing.pipeline}, preset ${existing.preset}); ` +
          'resume it with `wsss resume`, or choose another --out / run name',
      );
    }
    record.createdAt = existing.createdAt;
  } else {
    mkdirSync(runDir, { recursive: true });
    await writeFileAtomic(recordPath, `${JSON.stringify(record, null, 2)}\n`);
  }
  const log = options.log ?? (() => {});
  const stages = pipeline.stages(config);
  const names = new Set<string>();
  for (const stage of stages) {
    if (names.has(stage.name))
      throw new Error(`pipeline ${pipeline.name}: two stages are named ${stage.name}`);
    names.add(stage.name);
  }
  if (options.until && !names.has(options.until)) {
    throw new Error(`--until: no stage '${options.until}'; stages: ${[...names].join(', ')}`);
  }
  const summary: RunSummary = { runDir, results: [] };
  const previous: Record<string, StageResult> = {};
  for (const [index, stage] of stages.entries()) {
    const folder = stageFolder(index, stage);
    const dir = join(runDir, folder);
    const donePath = join(dir, 'done.json');
    if (existsSync(donePath)) {
      const done = JSON.parse(readFileSync(donePath, 'utf8')) as DoneRecord;
      previous[stage.name] = done.result;
      summary.results.push({
        stage: stage.name,
        dir,
        result: done.result,
        seconds: done.seconds,
        resumed: true,
      });
      log(`${folder}: complete (${done.seconds.toFixed(1)} s), skipped`);
    } else {
      mkdirSync(dir, { recursive: true });
      log(`${folder}: ${stage.description}`);
      const start = performance.now();
      const result = await stage.run({
        dir,
        runDir,
        config,
        rng: new Rng(seed).fork(`stage/${stage.name}`),
        previous,
        progress: (update) => options.onProgress?.({ stage: stage.name, ...update }),
        log: (line) => log(`${folder}: ${line}`),
      });
      const seconds = (performance.now() - start) / 1000;
      const done: DoneRecord = { stage: stage.name, seconds, finishedAt: new Date().toISOString(), result };
      await writeFileAtomic(donePath, `${JSON.stringify(done, null, 2)}\n`);
      previous[stage.name] = result;
      summary.results.push({ stage: stage.name, dir, result, seconds, resumed: false });
      log(`${folder}: done in ${seconds.toFixed(1)} s`);
    }
    await writeReport(runDir, pipeline.name, summary.results);
    if (stage.name === options.until) break;
  }
  return summary;
}

/** The run recorded in `runDir` (to resume it), or an error naming what is missing. */
export function readRunRecord(runDir: string): RunRecord {
  const path = join(runDir, 'run.json');
  if (!existsSync(path)) throw new Error(`${runDir} is not a run folder (no run.json)`);
  return JSON.parse(readFileSync(path, 'utf8')) as RunRecord;
}
