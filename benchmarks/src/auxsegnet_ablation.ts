/**
 * AuxSegNet's ablation (supplementary table 3) with the auxsegnet pipeline (a benchmark, not a test): baseline (one
 * segmentation task on the initial pseudo labels), + MT (the saliency task), + CT (the cross-task affinity), + IL (the
 * label updates of several stages), each row a run of the `quick` preset on the synthetic set or on CamVid crops
 * (`--dataset camvid-crops`: 200 training crops of 120x120 at half resolution, 100 val crops; no background class, so
 * the pseudo labels come from the CAMs alone and saliency is an auxiliary task), printed as the final network's mIoU
 * on held-out images next to the paper's deltas on VOC val, and the pseudo-label mIoU of each stage. The rows share
 * their first four stages (saliency, classifier, CAMs, initial labels: the same config), which are copied from the
 * first row's run. Runs are kept under runs/auxsegnet-ablation[-camvid] and resumed.
 * Run: pnpm --filter @wsss/benchmarks bench:auxsegnet-ablation [--dataset synthetic|camvid-crops] [--rows a,b]
 *      [--set key=value]... [--table]
 */

import { cpSync, existsSync } from 'node:fs';
import { resolve } from 'node:path';
import type { RunReport } from '@wsss/pipelines';
import { type AblationRow, percent, pipelineBenchmark, rowReport, runQuick } from './pipeline_runs';
import { markdownTable } from './timing';

const ROWS: AblationRow[] = [
  {
    name: 'baseline',
    label: 'baseline (segmentation only)',
    sets: ['network.multiTask=false', 'network.crossTask=false', 'iterations.stages=1'],
  },
  {
    name: 'mt',
    label: '+ MT (saliency task)',
    sets: ['network.crossTask=false', 'iterations.stages=1'],
    versus: { row: 'baseline', paper: 3.9 },
  },
  {
    name: 'ct',
    label: '+ CT (cross-task affinity)',
    sets: ['iterations.stages=1'],
    versus: { row: 'mt', paper: 3.3 },
  },
  { name: 'il', label: '+ IL (label updates, 3 stages)', sets: [], versus: { row: 'ct', paper: 2.0 } },
  // not the reference's: scaled dot-product task affinities (1/sqrt(64)), on request (--rows ct-scaled,il-scaled)
  {
    name: 'ct-scaled',
    label: '+ CT, affinity logits / sqrt(C)',
    sets: ['iterations.stages=1', 'network.affinityScale=0.125'],
    versus: { row: 'mt', paper: 3.3 },
  },
  {
    name: 'il-scaled',
    label: '+ IL, affinity logits / sqrt(C)',
    sets: ['network.affinityScale=0.125'],
    versus: { row: 'ct-scaled', paper: 2.0 },
  },
];
const SHARED_STAGES = ['01-saliency', '02-train-classifier', '03-cams', '04-initial-labels'];

const bench = pipelineBenchmark('auxsegnet-ablation', ['training.cropSize']);
const wanted = bench.rows ?? ROWS.filter((r) => !r.name.endsWith('-scaled')).map((r) => r.name);
for (const row of bench.tableOnly ? [] : ROWS.filter((r) => wanted.includes(r.name))) {
  const first = resolve(bench.out, ROWS[0].name);
  for (const stage of SHARED_STAGES) {
    const from = resolve(first, stage);
    const to = resolve(bench.out, row.name, stage);
    if (row.name !== ROWS[0].name && existsSync(resolve(from, 'done.json')) && !existsSync(to))
      cpSync(from, to, { recursive: true });
  }
  await runQuick(bench, 'auxsegnet', row.name, [...row.sets, ...bench.sets]);
}

const report = (name: string) => rowReport(bench, name);
const final = (r: RunReport | undefined) =>
  r?.rows.find((x) => x.scored === 'final network (held out)')?.mIoU;
const pct = percent;
const rows: string[][] = [];
for (const row of ROWS) {
  const r = report(row.name);
  if (!r) continue;
  const pseudo = r.rows.filter((x) => x.scored.startsWith('pseudo labels')).map((x) => pct(x.mIoU));
  const mine = final(r);
  const base = row.versus ? final(report(row.versus.row)) : undefined;
  rows.push([
    row.label,
    pseudo.join(' -> '),
    pct(mine),
    row.versus && mine !== undefined && base !== undefined
      ? `${(100 * (mine - base)).toFixed(1)} vs ${row.versus.row}`
      : '',
    row.versus ? `+${row.versus.paper}` : '',
  ]);
}
console.log(
  markdownTable(
    ['row', 'pseudo labels (train) per stage', 'final (held out)', 'delta', 'paper delta (VOC val)'],
    rows,
  ),
);
