import type { Rng } from '@wsss/core';
import type { ConfusionJson, SegmentationScores } from './evaluation';

/** What a stage reports while it runs: `done` of `total` units of `label` (steps, images). */
export interface StageProgress {
  stage: string;
  label: string;
  done: number;
  total: number;
  /** Extra values to show (loss, learning rate). */
  info?: Record<string, number | string>;
}

/** Everything a stage gets: where to write, the run's config, randomness, and how to report. */
export interface StageContext<C = unknown> {
  /** This stage's folder, `<run>/<NN-name>/`: it writes its artefacts here (atomically). */
  dir: string;
  /** The run's folder. */
  runDir: string;
  /** The run's resolved config. */
  config: C;
  /** Randomness of this stage, derived from the run's seed and the stage's name. */
  rng: Rng;
  /** Results of the stages before this one, by name (from this run or read back when resuming). */
  previous: Readonly<Record<string, StageResult>>;
  /** Progress of long work (the CLI draws a bar; library code never prints). */
  progress: (update: Omit<StageProgress, 'stage'>) => void;
  /** One line of information for the run's log. */
  log: (line: string) => void;
  /**
   * This process's share of a per-image stage: the ids it handles are those whose position i in the dataset has
   * i % count === index (see {@link shardIds}); undefined when one process does everything.
   */
  shard?: Shard;
}

/** One of `count` processes that split a per-image stage between them (`--shard index/count`, index from 0). */
export interface Shard {
  index: number;
  count: number;
}

/** The ids of `shard` (all of them without one): every `count`-th, starting at `index`. */
export function shardIds<T>(ids: readonly T[], shard: Shard | undefined): T[] {
  return shard ? ids.filter((_, i) => i % shard.count === shard.index) : [...ids];
}

/** What a finished stage records in its `done.json`. */
export interface StageResult {
  /** Scores of the labels it produced, by what was scored (e.g. 'seeds (train)'). */
  scores?: Record<string, SegmentationScores>;
  /** Other numbers worth a report line (losses, counts, the best threshold of a sweep). */
  values?: Record<string, number | string | number[]>;
  /** Paths of its artefacts, relative to its folder. */
  outputs?: Record<string, string>;
  /** Confusion counts of further label sets (e.g. a threshold sweep), which merge across shards like `scores`. */
  confusions?: Record<string, ConfusionJson>;
}

/**
 * One step of a pipeline. `run` writes everything under `ctx.dir` and returns what it measured; the runner marks the
 * stage complete only after `run` returns, so a stage killed half-way runs again (and a training stage resumes from
 * its last checkpoint in its folder).
 */
export interface Stage<C = unknown> {
  /** Short kebab-case name, e.g. 'train-classifier'; the folder is `NN-<name>`. */
  name: string;
  /** One line for reports and `--help`. */
  description: string;
  /**
   * The stage treats images independently (CAMs, CRF, random walk, inference, evaluation): it can be split over
   * processes with shards, each writing its own images' files, and the shards' results merge.
   */
  perImage?: boolean;
  run(ctx: StageContext<C>): Promise<StageResult>;
  /**
   * Turns the merged result of shards into the stage's result (e.g. recomputes a sweep's values from its merged
   * `confusions`). The runner has already summed every `scores` and `confusions` entry. Default: as merged.
   */
  finishMerge?(merged: StageResult, config: C): StageResult;
}

/** `value` of config key `key` as a count of stages, rounds, ...: an integer from 1 to 20, or an error naming it. */
export function stageCount(key: string, value: number): number {
  if (!Number.isInteger(value) || value < 1 || value > 20)
    throw new Error(`${key}: expected an integer from 1 to 20, got ${value}`);
  return value;
}
