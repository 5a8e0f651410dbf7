/**
 * The IAL-style pipeline round by round, next to the baseline (a benchmark, not a test): the `quick` preset of both
 * on the synthetic set or on CamVid crops (`--dataset camvid-crops`: 200 training crops of 120x120 at half
 * resolution, 100 val crops, as the baseline's CamVid measurement), printed as one row per round: the unary's mIoU on
 * the training images, how much of them the confident regions cover and how often they are right, the random walk's
 * pseudo labels, the round's network on held-out images, and the energy of the unary's and the walk's labellings.
 * Runs are kept under runs/ial[-camvid] and resumed.
 * Run: pnpm --filter @wsss/benchmarks bench:ial-rounds [--dataset synthetic|camvid-crops] [--set key=value]... [--table]
 */

import type { RunReport } from '@wsss/pipelines';
import { percent, pipelineBenchmark, rowReport, runQuick } from './pipeline_runs';
import { markdownTable } from './timing';

const bench = pipelineBenchmark('ial', ['segmentation.cropSize', 'affinity.cropSize']);
// the baseline has the sections both share; the IAL-only ones are left out of its run
const ialOnly = ['affinity.', 'iterations.', 'unary.', 'mining.', 'randomWalk.', 'energy.'];
for (const pipeline of bench.tableOnly ? [] : ['baseline', 'ial']) {
  const sets = bench.sets.filter((s) => pipeline === 'ial' || !ialOnly.some((p) => s.startsWith(p)));
  await runQuick(bench, pipeline, pipeline, sets);
}

const report = (name: string) => rowReport(bench, name);
const pct = percent;
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
