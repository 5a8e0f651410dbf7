/**
 * What the pipeline benchmarks (ablations, rounds) share: the `--dataset` / `--set` / `--table` command line, the
 * CamVid-crops settings every CamVid measurement uses, one `quick` run per row under a folder (resumed), and reading
 * the rows' reports back.
 */

import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { enableRelaxedSimdOnNode20, main, parseCommandLine } from '@wsss/cli';
import { sharedPath } from '@wsss/core/testing';
import type { RunReport } from '@wsss/pipelines';

// the pipelines run as the wsss command runs them (relaxed SIMD turned on in Node 20)
enableRelaxedSimdOnNode20();

/** One row of an ablation table: a run with these settings, compared with another row as the paper does. */
export interface AblationRow {
  name: string;
  label: string;
  sets: string[];
  /** The row this one is compared with, and the paper's delta on VOC val (mIoU points). */
  versus?: { row: string; paper: number };
}

export interface PipelineBenchmark {
  /** The run folder of the rows (`runs/<name>` or `runs/<name>-camvid`). */
  out: string;
  /** `key=value` settings every row gets: the dataset's and the command line's `--set`s. */
  sets: string[];
  /** `--table`: print the rows there are, run nothing. */
  tableOnly: boolean;
  /** `--rows a,b`, when given. */
  rows?: string[];
  /** The ImageNet weights, when ../shared has them. */
  weights?: string;
}

/**
 * Parses `[--dataset synthetic|camvid-crops] [--rows a,b] [--set key=value]... [--table]`. CamVid crops: 200 training
 * crops of 120x120 at half resolution and 100 val crops (`cropSetting` names the crop-size key(s) set to 192). Exits
 * (0, having said why) when CamVid is asked for and ../shared lacks it.
 */
export function pipelineBenchmark(name: string, cropSettings: readonly string[]): PipelineBenchmark {
  const { values } = parseCommandLine(
    process.argv.slice(2),
    {
      dataset: { type: 'string', default: 'synthetic' },
      rows: { type: 'string' },
      set: { type: 'string', multiple: true },
      table: { type: 'boolean' },
    },
    `bench:${name}`,
  );
  const dataset = values.dataset as string;
  if (dataset !== 'synthetic' && dataset !== 'camvid-crops')
    throw new Error(`--dataset: expected synthetic or camvid-crops, got '${dataset}'`);
  const camvid = dataset === 'camvid-crops' ? sharedPath('data/camvid', 'CamVid crops') : undefined;
  if (dataset === 'camvid-crops' && !camvid) process.exit(0);
  const datasetSets = camvid
    ? [
        'dataset.name=camvid-crops',
        `dataset.root=${camvid}`,
        'dataset.trainSplit=train',
        'dataset.imageSize=120',
        'dataset.trainSize=200',
        'dataset.evalSize=100',
        ...cropSettings.map((key) => `${key}=192`),
      ]
    : [];
  return {
    out: resolve(camvid ? `runs/${name}-camvid` : `runs/${name}`),
    sets: [...datasetSets, ...((values.set as string[] | undefined) ?? [])],
    tableOnly: Boolean(values.table),
    rows: (values.rows as string | undefined)?.split(','),
    weights: sharedPath(
      'weights/mobilenet_v2_1.0_224',
      'ImageNet weights (the rows train from random weights)',
    ),
  };
}

/** Runs (or resumes) `pipeline`'s quick preset as `<out>/<row>` with the settings; exits on failure. */
export async function runQuick(
  bench: PipelineBenchmark,
  pipeline: string,
  row: string,
  sets: readonly string[],
): Promise<void> {
  const code = await main([
    'run',
    pipeline,
    '--preset',
    'quick',
    '--out',
    bench.out,
    '--name',
    row,
    ...(bench.weights ? ['--weights', bench.weights] : []),
    ...sets.flatMap((s) => ['--set', s]),
  ]);
  if (code !== 0) process.exit(code);
}

/** The report of row `row`, if it has run. */
export function rowReport(bench: PipelineBenchmark, row: string): RunReport | undefined {
  try {
    return JSON.parse(readFileSync(resolve(bench.out, row, 'report.json'), 'utf8')) as RunReport;
  } catch {
    return undefined;
  }
}

/** A score as a percentage with one decimal ('-' when absent). */
export const percent = (v: number | undefined) => (v === undefined ? '-' : (100 * v).toFixed(1));
