/**
 * The AA/LR paper's ablations with the rrm-aa-lr pipeline (a benchmark, not a test): table 1 (CLS + CE, + AA, + LR,
 * + rfpc), table 2's SA vs AA and table 3's connection functions (max / min / mean), each row a run of the `quick`
 * preset on the synthetic set or on CamVid crops (`--dataset camvid-crops`: 200 training crops of 120x120 at half
 * resolution, 100 val crops, as the baseline's CamVid measurement), printed as mIoU of the pseudo labels and the network
 * on the training images, and of the final network on held-out images, next to the paper's deltas on VOC val.
 * Runs are kept under runs/rrm-ablation[-camvid] and resumed, so rows can be run a few at a time (`--rows`).
 * Run: pnpm --filter @wsss/benchmarks bench:rrm-ablation [--dataset synthetic|camvid-crops] [--rows a,b]
 *      [--set key=value]... [--table]
 */

import type { RunReport } from '@wsss/pipelines';
import { type AblationRow, percent, pipelineBenchmark, rowReport, runQuick } from './pipeline_runs';
import { markdownTable } from './timing';

const ROWS: AblationRow[] = [
  { name: 'cls-ce', label: 'CLS + CE', sets: ['losses.affinity=none', 'losses.labelReassign=false'] },
  { name: 'aa', label: '+ AA', sets: ['losses.labelReassign=false'], versus: { row: 'cls-ce', paper: 3.2 } },
  { name: 'aa-lr', label: '+ AA + LR', sets: [], versus: { row: 'aa', paper: 0.7 } },
  {
    name: 'sa',
    label: 'SA instead of AA',
    sets: ['losses.affinity=standard', 'losses.labelReassign=false'],
    versus: { row: 'aa', paper: -0.9 },
  },
  {
    name: 'aa-min',
    label: 'AA, Omega = min',
    sets: ['losses.connection=min', 'losses.labelReassign=false'],
    versus: { row: 'aa', paper: -0.7 },
  },
  {
    name: 'aa-mean',
    label: 'AA, Omega = mean',
    sets: ['losses.connection=mean', 'losses.labelReassign=false'],
    versus: { row: 'aa', paper: -0.5 },
  },
  // table 4: the LR loss's concentration gamma (2 in the rows above), paper val 63.5 / 63.6 / 63.7 / 63.9 / 63.4
  ...([0, 0.5, 1, 5] as const).map((gamma) => ({
    name: `gamma-${gamma}`,
    label: `+ AA + LR, gamma ${gamma}`,
    sets: [`losses.gamma=${gamma}`],
    versus: { row: 'aa-lr', paper: { 0: -0.4, 0.5: -0.3, 1: -0.2, 5: -0.5 }[gamma] },
  })),
];

const bench = pipelineBenchmark('rrm-ablation', []);
// default: tables 1-3 (the gamma rows of table 4 on request: --rows gamma-0,gamma-5)
const wanted = bench.rows ?? ROWS.filter((r) => !r.name.startsWith('gamma')).map((r) => r.name);
for (const row of bench.tableOnly ? [] : ROWS.filter((r) => wanted.includes(r.name)))
  await runQuick(bench, 'rrm-aa-lr', row.name, [...row.sets, ...bench.sets]);

const report = (name: string) => rowReport(bench, name);
const score = (r: RunReport | undefined, scored: string) => r?.rows.find((x) => x.scored === scored)?.mIoU;
const pct = percent;
const rows: (string | number)[][] = [];
for (const row of ROWS) {
  const r = report(row.name);
  if (!r) continue;
  const final = score(r, 'final network (held out)');
  const base = row.versus ? score(report(row.versus.row), 'final network (held out)') : undefined;
  rows.push([
    row.label,
    pct(score(r, 'pseudo labels (train)')),
    pct(score(r, 'network (train)')),
    pct(final),
    row.versus && final !== undefined && base !== undefined
      ? `${(100 * (final - base)).toFixed(1)} vs ${row.versus.row}`
      : '',
    row.versus ? `${row.versus.paper > 0 ? '+' : ''}${row.versus.paper}` : '',
  ]);
  if (row.name === 'aa-lr') {
    const rfpc = score(r, 'final network + rfpc (held out)');
    rows.push([
      '+ AA + LR + rfpc',
      '',
      '',
      pct(rfpc),
      rfpc !== undefined && final !== undefined ? `${(100 * (rfpc - final)).toFixed(1)} vs aa-lr` : '',
      '+1.9',
    ]);
  }
}
console.log(
  markdownTable(
    ['row', 'pseudo labels (train)', 'network (train)', 'final (held out)', 'delta', 'paper delta (VOC val)'],
    rows,
  ),
);
