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

import { cpSync, existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { main, parseCommandLine } from '@wsss/cli';
import { sharedPath } from '@wsss/core/testing';
import type { RunReport } from '@wsss/pipelines';
import { markdownTable } from './timing';

interface Row {
  name: string;
  label: string;
  sets: string[];
  /** The row this one is compared with, and the paper's delta on VOC val (mIoU points). */
  versus?: { row: string; paper: number };
}

const ROWS: Row[] = [
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
];
const SHARED_STAGES = ['01-saliency', '02-train-classifier', '03-cams', '04-initial-labels'];

const { values } = parseCommandLine(
  process.argv.slice(2),
  {
    rows: { type: 'string' },
    dataset: { type: 'string', default: 'synthetic' },
    set: { type: 'string', multiple: true },
    table: { type: 'boolean' },
  },
  'bench:auxsegnet-ablation',
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
      'training.cropSize=192',
    ]
  : [];
const wanted = (values.rows as string | undefined)?.split(',') ?? ROWS.map((r) => r.name);
const weights = sharedPath(
  'weights/mobilenet_v2_1.0_224',
  'ImageNet weights (the rows train from random weights)',
);
const out = resolve(camvid ? 'runs/auxsegnet-ablation-camvid' : 'runs/auxsegnet-ablation');
const extra = [...datasetSets, ...((values.set as string[] | undefined) ?? [])].flatMap((s) => ['--set', s]);

for (const row of values.table ? [] : ROWS.filter((r) => wanted.includes(r.name))) {
  const first = resolve(out, ROWS[0].name);
  for (const stage of SHARED_STAGES) {
    const from = resolve(first, stage);
    const to = resolve(out, row.name, stage);
    if (row.name !== ROWS[0].name && existsSync(resolve(from, 'done.json')) && !existsSync(to))
      cpSync(from, to, { recursive: true });
  }
  const code = await main([
    'run',
    'auxsegnet',
    '--preset',
    'quick',
    '--out',
    out,
    '--name',
    row.name,
    ...(weights ? ['--weights', weights] : []),
    ...row.sets.flatMap((s) => ['--set', s]),
    ...extra,
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
const final = (r: RunReport | undefined) =>
  r?.rows.find((x) => x.scored === 'final network (held out)')?.mIoU;
const pct = (v: number | undefined) => (v === undefined ? '-' : (100 * v).toFixed(1));
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
