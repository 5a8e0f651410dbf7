import { existsSync, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { type LabelMap, type RgbImage, Rng, writeFileAtomic } from '@wsss/core';
import type { ConfigOverrides } from './config';
import {
  type ConfusionJson,
  confusionFromJson,
  confusionToJson,
  mergeScores,
  type SegmentationScores,
} from './evaluation';
import { writeReport } from './report';
import type { Shard, Stage, StageProgress, StageResult } from './stage';

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
  /** The trained network of a finished run, for `wsss infer` (pipelines whose last network segments images). */
  predictor?(runDir: string, config: C): Promise<Predictor>;
  /** The run's trained classifier as a CAM network, for `wsss cam`. */
  camPredictor?(runDir: string, config: C): Promise<CamPredictor>;
}

/** Class activation maps of new images from the classifier a run trained. */
export interface CamPredictor {
  /** Names of the classes of the image-level labels, in label-vector order. */
  labelNames: readonly string[];
  /**
   * The classes the classifier finds in the image (sigmoid >= `threshold`) with their scores, and the CAMs of those
   * classes [H, W, C] (absent classes 0), normalised to at most 1 per class.
   */
  cams(
    image: RgbImage,
    threshold: number,
  ): Promise<{ scores: number[]; present: Uint8Array; cams: Float32Array }>;
  dispose(): void;
}

/** Segments new images with the network a run trained. */
export interface Predictor {
  classNames: readonly string[];
  /** Colours of the label values, for PNGs. */
  palette: Uint8Array;
  predict(image: RgbImage): Promise<LabelMap>;
  dispose(): void;
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
  /**
   * Run only this process's share of the per-image stages (see {@link Stage.perImage}): each writes its images'
   * files and `done.shard-<index>-of-<count>.json`; the run stops at the first stage that needs every image. Merge
   * the shards with {@link mergeShards}, then run again without a shard.
   */
  shard?: Shard;
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
  const { shard } = options;
  if (
    shard &&
    !(
      Number.isInteger(shard.count) &&
      shard.count >= 1 &&
      Number.isInteger(shard.index) &&
      shard.index >= 0 &&
      shard.index < shard.count
    )
  ) {
    throw new Error(`shard: expected index/count with 0 <= index < count, got ${shard.index}/${shard.count}`);
  }
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
  } else {
    mkdirSync(runDir, { recursive: true });
    await writeFileAtomic(recordPath, `${JSON.stringify(record, null, 2)}\n`);
  }
  const summary: RunSummary = { runDir, results: [] };
  const previous: Record<string, StageResult> = {};
  for (const [index, stage] of stages.entries()) {
    const folder = stageFolder(index, stage);
    const dir = join(runDir, folder);
    const donePath = join(dir, 'done.json');
    const shardPath = shard ? join(dir, shardFile(shard)) : undefined;
    if (shard && !existsSync(donePath) && !stage.perImage) {
      log(`${folder}: needs every image; merge the shards (wsss merge) and run again without --shard`);
      break;
    }
    // complete (as a whole, or this shard's part): read back, not run again
    const completed = existsSync(donePath)
      ? donePath
      : shardPath && existsSync(shardPath)
        ? shardPath
        : undefined;
    if (completed) {
      const done = JSON.parse(readFileSync(completed, 'utf8')) as DoneRecord;
      previous[stage.name] = done.result;
      summary.results.push({
        stage: stage.name,
        dir,
        result: done.result,
        seconds: done.seconds,
        resumed: true,
      });
      const part = completed === donePath ? '' : ` (shard ${shard!.index}/${shard!.count})`;
      log(`${folder}: complete${part} (${done.seconds.toFixed(1)} s), skipped`);
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
        shard,
      });
      const seconds = (performance.now() - start) / 1000;
      const done: DoneRecord = { stage: stage.name, seconds, finishedAt: new Date().toISOString(), result };
      await writeFileAtomic(shardPath ?? donePath, `${JSON.stringify(done, null, 2)}\n`);
      previous[stage.name] = result;
      summary.results.push({ stage: stage.name, dir, result, seconds, resumed: false });
      log(`${folder}: done in ${seconds.toFixed(1)} s`);
    }
    // shards run side by side: only a whole run writes the report
    if (!shard) await writeReport(runDir, pipeline.name, summary.results);
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

/** The file a shard of a per-image stage marks its part complete with. */
function shardFile(shard: Shard): string {
  return `done.shard-${shard.index}-of-${shard.count}.json`;
}

/**
 * Completes every per-image stage of a run whose shards have all finished: their scores and confusion counts are
 * summed (metrics from merged confusion matrices, equal to one process's), `done.json` is written, and the report is
 * rewritten. A stage with some shards missing is an error that names them. Returns the names of the merged stages.
 */
export async function mergeShards<C extends object>(
  pipeline: Pipeline<C>,
  runDir: string,
): Promise<string[]> {
  const record = readRunRecord(runDir) as RunRecord<C>;
  if (record.pipeline !== pipeline.name)
    throw new Error(`${runDir} holds a ${record.pipeline} run, not ${pipeline.name}`);
  const merged: string[] = [];
  const results: RunSummary['results'] = [];
  for (const [index, stage] of pipeline.stages(record.config).entries()) {
    const dir = join(runDir, stageFolder(index, stage));
    const donePath = join(dir, 'done.json');
    if (!existsSync(donePath) && stage.perImage && existsSync(dir)) {
      const files = readdirSync(dir).filter((f) => /^done\.shard-\d+-of-\d+\.json$/.test(f));
      if (files.length) {
        const count = Number(files[0].match(/-of-(\d+)/)![1]);
        const missing = Array.from({ length: count }, (_, k) => k).filter(
          (k) => !existsSync(join(dir, shardFile({ index: k, count }))),
        );
        if (missing.length) {
          throw new Error(
            `${stageFolder(index, stage)}: shards ${missing.join(', ')} of ${count} have not finished`,
          );
        }
        const parts = Array.from(
          { length: count },
          (_, k) => JSON.parse(readFileSync(join(dir, shardFile({ index: k, count })), 'utf8')) as DoneRecord,
        );
        const result = mergeResults(parts.map((p) => p.result));
        const done: DoneRecord = {
          stage: stage.name,
          seconds: Math.max(...parts.map((p) => p.seconds)),
          finishedAt: new Date().toISOString(),
          result: stage.finishMerge ? stage.finishMerge(result, record.config) : result,
        };
        await writeFileAtomic(donePath, `${JSON.stringify(done, null, 2)}\n`);
        merged.push(stage.name);
      }
    }
    if (!existsSync(donePath)) break;
    const done = JSON.parse(readFileSync(donePath, 'utf8')) as DoneRecord;
    results.push({ stage: stage.name, dir, result: done.result, seconds: done.seconds, resumed: true });
  }
  await writeReport(runDir, pipeline.name, results);
  return merged;
}

/** Shards' results as one: scores and confusions summed by name, values and outputs of the first shard. */
function mergeResults(parts: readonly StageResult[]): StageResult {
  const scores: Record<string, SegmentationScores> = {};
  for (const name of Object.keys(parts[0].scores ?? {}))
    scores[name] = mergeScores(parts.map((p) => p.scores![name]));
  const confusions: Record<string, ConfusionJson> = {};
  for (const name of Object.keys(parts[0].confusions ?? {})) {
    const cm = confusionFromJson(parts[0].confusions![name]);
    for (const part of parts.slice(1)) cm.merge(confusionFromJson(part.confusions![name]));
    confusions[name] = confusionToJson(cm);
  }
  return {
    ...parts[0],
    ...(parts[0].scores ? { scores } : {}),
    ...(parts[0].confusions ? { confusions } : {}),
  };
}
