import { join } from 'node:path';
import { writeFileAtomic } from '@wsss/core';
import type { SegmentationScores } from './evaluation';
import type { StageResult } from './stage';

/** One row of a run's stage table: a set of labels that was scored. */
export interface ReportRow {
  stage: string;
  scored: string;
  mIoU: number;
  mIoUWithoutBackground: number | null;
  pixelAccuracy: number;
}

/** The report of a run: the stage table, per-stage times and values, and every score in full. */
export interface RunReport {
  pipeline: string;
  rows: ReportRow[];
  stages: { stage: string; seconds: number; values: StageResult['values'] }[];
  scores: Record<string, Record<string, SegmentationScores>>;
}

const pct = (v: number | null) => (v === null ? '-' : (100 * v).toFixed(1));

/** Builds a run's report from its stage results. */
export function buildReport(
  pipeline: string,
  results: readonly { stage: string; result: StageResult; seconds: number }[],
): RunReport {
  const rows: ReportRow[] = [];
  const scores: RunReport['scores'] = {};
  for (const { stage, result } of results) {
    for (const [scored, s] of Object.entries(result.scores ?? {})) {
      rows.push({
        stage,
        scored,
        mIoU: s.mIoU,
        mIoUWithoutBackground: s.mIoUWithoutBackground,
        pixelAccuracy: s.pixelAccuracy,
      });
      scores[stage] ??= {};
      scores[stage][scored] = s;
    }
  }
  return {
    pipeline,
    rows,
    stages: results.map(({ stage, seconds, result }) => ({ stage, seconds, values: result.values })),
    scores,
  };
}

/** The report as Markdown: the stage table, then per-class IoU / precision / recall of each scored set. */
export function reportMarkdown(report: RunReport): string {
  const lines = [
    `# ${report.pipeline}`,
    '',
    '| stage | scored | mIoU | mIoU w/o bg | pixel acc. |',
    '| --- | --- | --- | --- | --- |',
    ...report.rows.map(
      (r) =>
        `| ${r.stage} | ${r.scored} | ${pct(r.mIoU)} | ${pct(r.mIoUWithoutBackground)} | ${pct(r.pixelAccuracy)} |`,
    ),
    '',
    '| stage | seconds | values |',
    '| --- | --- | --- |',
    ...report.stages.map(
      (s) =>
        `| ${s.stage} | ${s.seconds.toFixed(1)} | ${Object.entries(s.values ?? {})
          .map(
            ([k, v]) =>
              `${k}: ${Array.isArray(v) ? v.join(', ') : typeof v === 'number' ? Number(v.toPrecision(4)) : v}`,
          )
          .join('; ')} |`,
    ),
  ];
  for (const [stage, sets] of Object.entries(report.scores)) {
    for (const [scored, s] of Object.entries(sets)) {
      lines.push(
        '',
        `## ${stage}: ${scored}`,
        '',
        '| class | IoU | precision | recall |',
        '| --- | --- | --- | --- |',
      );
      for (const c of s.classes)
        lines.push(`| ${c.name} | ${pct(c.iou)} | ${pct(c.precision)} | ${pct(c.recall)} |`);
    }
  }
  return `${lines.join('\n')}\n`;
}

/** Writes `report.json` and `report.md` into the run folder (atomically). */
export async function writeReport(
  runDir: string,
  pipeline: string,
  results: readonly { stage: string; result: StageResult; seconds: number }[],
): Promise<RunReport> {
  const report = buildReport(pipeline, results);
  await writeFileAtomic(join(runDir, 'report.json'), `${JSON.stringify(report, null, 2)}\n`);
  await writeFileAtomic(join(runDir, 'report.md'), reportMarkdown(report));
  return report;
}
