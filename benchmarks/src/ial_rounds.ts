/**
 * The IAL-style pipeline round by round, next to the baseline (a benchmark, not a test): the `quick` preset of both
 * on the synthetic set or on CamVid crops (`--dataset camvid-crops`: 200 training crops of 120x120 at half
 * resolution, 100 val crops, as the baseline's CamVid measurement), printed as one row per round: the unary's mIoU on
 * the training images, how much of them the confident regions cover and how often they are right, the random walk's
 * pseudo labels, the round's network on held-out images, and the energy of the unary's and the walk's labellings.
 * Runs are kept under runs/ial[-camvid] and resumed.
 * Run: pnpm --filter @wsss/benchmarks bench:ial-rounds [--dataset synthetic|camvid-crops] [--set key=value]... [--table]
 */

import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { main, parseCommandLine } from '@wsss/cli';
import { sharedPath } from '@wsss/core/testing';
import type { RunReport } from '@wsss/pipelines';
import { markdownTable } from './timing';

const { values } = parseCommandLine(
  process.argv.slice(2),
  {
    dataset: { type: 'string', default: 'synthetic' },
    set: { type: 'string', multiple: true },
    table: { type: 'boolean' },
  },
  'bench:ial-rounds',
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
      'segmentation.cropSize=192',
      'affinity.cropSize=192',
    ]
  : [];
const extra = [...datasetSets, ...((values.set as string[] | undefined) ?? [])];
const weights = sharedPath(
  'weights/mobilenet_v2_1.0_224',
  'ImageNet weights (the runs train from random weights)',
);
const out = resolve(camvid ? 'runs/ial-camvid' : 'runs/ial');

// --table: print the table of the runs there are, running nothing
for (const pipeline of values.table ? [] : ['baseline', 'ial']) {
  // the baseline has the sections both share; the IAL-only ones are left out of its run
  const ialOnly = ['affinity.', 'iterations.', 'unary.', 'mining.', 'randomWalk.', 'energy.'];
  const sets = extra.filter((s) => pipeline === 'ial' || !ialOnly.some((p) => s.startsWith(p)));
  const code = await main([
    'run',
    pipeline,
    '--preset',
    'quick',
    '--out',
    out,
    '--name',
    pipeline,
    ...(weights ? ['--weights', weights] : []),
    ...sets.flatMap((s) => ['--set', s]),
  ]);
  if (code !== 0) process.exit(code);
}

const report = (name: string): RunReport | undefined => {
  try {
    return JSON.parse(readFileSync(resolve(out, name, 'report.json'), 'utf8')) as RunReport;
  } catch {
    return undefined;
  }
};
const pct = (v: number | undefined) => (v === undefined ? '-' : (100 * v).toFixed(1));
const score = (r: RunReport | undefined, stage: string, scored: string) =>
  r?.rows.find((x) => x.stage === stage && x.scored === scored)?.mIoU;
const value = (r: RunReport | undefined, stage: string, key: string) => {
  const v = r?.stages.find((s) => s.stage === stage)?.values?.[key];
  return typeof v === 'number' ? v : undefined;
};
const fixed = (v: number | undefined, digits = 3) => (v === undefined ? '-' : v.toFixed(digits));

const rows: string[][] = [];
const baseline = report('baseline');
if (baseline) {
  rows.push([
    'baseline',
    pct(score(baseline, 'cams', 'seeds (train)')),
    '-',
    pct(score(baseline, 'pseudo-labels', 'pseudo labels (train)')),
    pct(score(baseline, 'evaluate', 'final network (held out)')),
    '-',
    '-',
  ]);
}
const ial = report('ial');
for (let round = 1; ial?.stages.some((s) => s.stage === `round-${round}-unary`); round++) {
  const stage = (step: string) => `round-${round}-${step}`;
  const last = !ial.stages.some((s) => s.stage === `round-${round + 1}-unary`);
  const covered = value(ial, stage('unary'), 'confident pixels %');
  const right = value(ial, stage('unary'), 'confident pixels right %');
  rows.push([
    `IAL round ${round}`,
    pct(score(ial, stage('unary'), 'unary (train)')),
    covered === undefined ? '-' : `${covered.toFixed(0)} / ${right?.toFixed(0)}`,
    pct(score(ial, stage('random-walk'), 'pseudo labels (train)')),
    pct(score(ial, 'evaluate', last ? 'final network (held out)' : `round ${round} network (held out)`)),
    fixed(value(ial, stage('random-walk'), 'energy of the unary labels')),
    fixed(value(ial, stage('random-walk'), 'energy of the walk labels')),
  ]);
}
console.log(
  markdownTable(
    [
      'run',
      'seeds / unary (train)',
      'confident: % covered / % right',
      'pseudo labels (train)',
      'network (held out)',
      'E(unary labels)',
      'E(walk labels)',
    ],
    rows,
  ),
);
