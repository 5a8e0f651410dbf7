import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { selectBackend, tf } from '@wsss/core';
import {
  BASELINE_DEFAULTS,
  BASELINE_PRESETS,
  baselinePipeline,
  mergeShards,
  type Pipeline,
  type RunReport,
  resolveConfig,
  runPipeline,
  type Stage,
} from '@wsss/pipelines';

describe('runPipeline', () => {
  const counting = (fail: Set<string>) => {
    const runs: string[] = [];
    const stage = (name: string): Stage<{ n: number }> => ({
      name,
      description: `stage ${name}`,
      async run(ctx) {
        runs.push(name);
        if (fail.has(name)) throw new Error(`${name} failed`);
        return {
          values: { n: ctx.config.n, seen: Object.keys(ctx.previous).length, random: ctx.rng.next() },
        };
      },
    });
    const pipeline: Pipeline<{ n: number }> = {
      name: 'toy',
      description: 'three stages',
      defaults: { n: 1 },
      presets: { smoke: {}, quick: {}, paper: {} },
      stages: () => [stage('a'), stage('b'), stage('c')],
    };
    return { pipeline, runs };
  };

  it('marks stages complete only when they finish and resumes at the first incomplete one', async () => {
    const runDir = mkdtempSync(join(tmpdir(), 'wsss-run-'));
    const failing = counting(new Set(['b']));
    await expect(runPipeline(failing.pipeline, { n: 1 }, { runDir })).rejects.toThrow('b failed');
    expect(failing.runs).toEqual(['a', 'b']);
    expect(existsSync(join(runDir, '01-a', 'done.json'))).toBe(true);
    expect(existsSync(join(runDir, '02-b', 'done.json'))).toBe(false);
    const working = counting(new Set());
    const summary = await runPipeline(working.pipeline, { n: 1 }, { runDir });
    expect(working.runs).toEqual(['b', 'c']); // a was complete
    expect(summary.results.map((r) => r.resumed)).toEqual([true, false, false]);
    expect(summary.results[2].result.values?.seen).toBe(2);
    const report = JSON.parse(readFileSync(join(runDir, 'report.json'), 'utf8')) as RunReport;
    expect(report.stages.map((s) => s.stage)).toEqual(['a', 'b', 'c']);
    expect(readFileSync(join(runDir, 'report.md'), 'utf8')).toMatch(/^# toy/);
    // the same seed gives each stage the same randomness
    const again = mkdtempSync(join(tmpdir(), 'wsss-run-'));
    const fresh = await runPipeline(counting(new Set()).pipeline, { n: 1 }, { runDir: again });
    expect(fresh.results.map((r) => r.result.values?.random)).toEqual(
      summary.results.map((r) => r.result.values?.random),
    );
    await expect(runPipeline(working.pipeline, { n: 2 }, { runDir })).rejects.toThrow(
      /holds a run of another config/,
    );
    await expect(runPipeline(working.pipeline, { n: 1 }, { runDir: again, until: 'z' })).rejects.toThrow(
      /no stage 'z'; stages: a, b, c/,
    );
    rmSync(runDir, { recursive: true, force: true });
    rmSync(again, { recursive: true, force: true });
  });

  it("runs the baseline's smoke preset end to end and scores every stage that makes labels", async () => {
    await selectBackend({ preference: 'wasm', log: null });
    const runDir = mkdtempSync(join(tmpdir(), 'wsss-baseline-'));
    const config = resolveConfig(BASELINE_DEFAULTS, BASELINE_PRESETS, { preset: 'smoke' });
    const before = tf.memory().numTensors;
    const progress: string[] = [];
    const summary = await runPipeline(baselinePipeline, config, {
      runDir,
      preset: 'smoke',
      onProgress: (p) => progress.push(`${p.stage}:${p.done}/${p.total}`),
    });
    expect(tf.memory().numTensors).toBe(before);
    expect(summary.results.map((r) => r.stage)).toEqual([
      'train-classifier',
      'cams',
      'pseudo-labels',
      'train-segmentation',
      'evaluate',
    ]);
    const report = JSON.parse(readFileSync(join(runDir, 'report.json'), 'utf8')) as RunReport;
    expect(report.rows.map((r) => r.scored)).toEqual([
      'seeds (train)',
      'pseudo labels (train)',
      'final network (held out)',
    ]);
    for (const row of report.rows) expect(row.mIoU).toBeGreaterThanOrEqual(0);
    expect(progress).toContain('train-classifier:4/4');
    expect(progress).toContain('evaluate:4/4');
    for (const file of [
      '02-cams/seeds/synthetic_000000.png',
      '03-pseudo-labels/labels/synthetic_000007.png',
      '05-evaluate/overlays/synthetic_000000.png',
    ])
      expect(existsSync(join(runDir, file))).toBe(true);
    // run again: every stage is complete, nothing runs
    const again = await runPipeline(baselinePipeline, config, { runDir, preset: 'smoke' });
    expect(again.results.every((r) => r.resumed)).toBe(true);
    await selectBackend({ preference: 'cpu', log: null });
    rmSync(runDir, { recursive: true, force: true });
  });

  it('splits the per-image stages over shards whose merged scores equal one process', async () => {
    await selectBackend({ preference: 'wasm', log: null });
    const config = resolveConfig(BASELINE_DEFAULTS, BASELINE_PRESETS, { preset: 'smoke' });
    const whole = mkdtempSync(join(tmpdir(), 'wsss-whole-'));
    await runPipeline(baselinePipeline, config, { runDir: whole });
    const sharded = mkdtempSync(join(tmpdir(), 'wsss-shards-'));
    const logs: string[] = [];
    const log = (line: string) => logs.push(line);
    await runPipeline(baselinePipeline, config, { runDir: sharded, until: 'train-classifier' });
    // CAMs and pseudo labels in 3 shards; each stops where every image is needed
    for (const index of [2, 0, 1])
      await runPipeline(baselinePipeline, config, { runDir: sharded, shard: { index, count: 3 }, log });
    expect(logs.filter((l) => /04-train-segmentation: needs every image/.test(l))).toHaveLength(3);
    expect(existsSync(join(sharded, '02-cams', 'done.shard-1-of-3.json'))).toBe(true);
    expect(existsSync(join(sharded, '02-cams', 'done.json'))).toBe(false);
    await expect(mergeShards(baselinePipeline, join(sharded, 'missing'))).rejects.toThrow(/not a run folder/);
    expect(await mergeShards(baselinePipeline, sharded)).toEqual(['cams', 'pseudo-labels']);
    // train on one process, evaluate in 2 shards, merge, finish
    await runPipeline(baselinePipeline, config, { runDir: sharded, until: 'train-segmentation' });
    for (const index of [0, 1])
      await runPipeline(baselinePipeline, config, { runDir: sharded, shard: { index, count: 2 } });
    expect(await mergeShards(baselinePipeline, sharded)).toEqual(['evaluate']);
    const last = await runPipeline(baselinePipeline, config, { runDir: sharded });
    expect(last.results.every((r) => r.resumed)).toBe(true);
    const report = (dir: string) => JSON.parse(readFileSync(join(dir, 'report.json'), 'utf8')) as RunReport;
    expect(report(sharded).rows).toEqual(report(whole).rows);
    expect(report(sharded).stages[1].values).toEqual(report(whole).stages[1].values); // the seed sweep
    await selectBackend({ preference: 'cpu', log: null });
    rmSync(whole, { recursive: true, force: true });
    rmSync(sharded, { recursive: true, force: true });
  });
});
