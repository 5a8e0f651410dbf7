import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { selectBackend, tf } from '@wsss/core';
import { type DatasetConfig, type Pipeline, type RunReport, runPipeline } from '@wsss/pipelines';

/**
 * Runs `config` of `pipeline` on CamVid crops of 60x60 (a dataset without background) in a fresh folder on wasm,
 * checks that no tensor leaked and that no row has a "without background" score, and returns the run's report.
 */
export async function runOnCamVidCrops<C extends { dataset: DatasetConfig }>(
  pipeline: Pipeline<C>,
  config: C,
  root: string,
): Promise<RunReport> {
  await selectBackend({ preference: 'wasm', log: null });
  const runDir = mkdtempSync(join(tmpdir(), `wsss-${pipeline.name}-`));
  const onCamVid: C = {
    ...config,
    dataset: { ...config.dataset, name: 'camvid-crops', root, trainSplit: 'train', imageSize: 60 },
  };
  const before = tf.memory().numTensors;
  await runPipeline(pipeline, onCamVid, { runDir });
  expect(tf.memory().numTensors).toBe(before);
  const report = JSON.parse(readFileSync(join(runDir, 'report.json'), 'utf8')) as RunReport;
  // mIoU over CamVid's 11 classes; there is no "without background" score
  for (const row of report.rows) {
    expect(row.mIoU).toBeGreaterThanOrEqual(0);
    expect(row.mIoUWithoutBackground).toBeNull();
  }
  rmSync(runDir, { recursive: true, force: true });
  return report;
}
