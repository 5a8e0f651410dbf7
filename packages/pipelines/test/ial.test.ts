import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  affinityLabels,
  affinityNetLoss,
  denseAffinityMatrix,
  denseRandomWalk,
  pairAffinity,
  pairIndices,
} from '@wsss/affinity';
import { selectBackend, tf } from '@wsss/core';
import { sharedPath } from '@wsss/core/testing';
import { segmentationCrossEntropy } from '@wsss/models';
import {
  IAL_DEFAULTS,
  IAL_PRESETS,
  type IalConfig,
  ialPipeline,
  labellingEnergy,
  type RunReport,
  resolveConfig,
  runPipeline,
} from '@wsss/pipelines';
import { segmentationNetwork } from '../src/baseline/networks';
import { affinityNetwork } from '../src/ial/networks';
import {
  labelsAtStride,
  mineConfidentRegions,
  refineByRandomWalk,
  sharesPerPixel,
  unaryFromCams,
} from '../src/ial/regions';
import { runOnCamVidCrops } from './camvid_crops';

const smoke = () => resolveConfig(IAL_DEFAULTS, IAL_PRESETS, { preset: 'smoke' }) as IalConfig;

describe('IAL unary and confident regions', () => {
  it("builds round 1's unary from CAMs: [(1 - max)^alpha, CAMs] per pixel, as shares", () => {
    // two pixels, two present classes, pixel-major [N x K]
    const shares = unaryFromCams([0.6, 0.2, 0, 0], 2, { background: true, alpha: 2 });
    const bg = 0.4 ** 2;
    const total = bg + 0.6 + 0.2;
    const expected = [bg / total, 1, 0.6 / total, 0, 0.2 / total, 0];
    expect(shares).toHaveLength(6);
    shares.forEach((v, i) => {
      expect(v).toBeCloseTo(expected[i], 6);
    });
    // without a background the CAMs alone; an all-zero pixel gets equal shares
    expect(Array.from(unaryFromCams([0.3, 0.1, 0, 0], 2, { background: false, alpha: 2 }))).toEqual(
      [0.75, 0.5, 0.25, 0.5].map((v) => Math.fround(v)),
    );
  });

  it('mines a pixel when its best class reaches that class threshold and the CRF agrees', () => {
    // channels: background (value 0), class 3, class 7; four pixels
    const shares = Float32Array.from(
      [
        [0.9, 0.5, 0.1, 0.2],
        [0.05, 0.45, 0.6, 0.1],
        [0.05, 0.05, 0.3, 0.7],
      ].flat(),
    );
    const values = [0, 3, 7];
    expect(Array.from(mineConfidentRegions(shares, values, { thresholds: [0.55] }))).toEqual([0, 255, 3, 7]);
    // per mask class (indexed by value): background 0.85, class 3 0.65, class 7 0.75
    const perClass = [0.85, 0.5, 0.5, 0.65, 0.5, 0.5, 0.5, 0.75];
    expect(Array.from(mineConfidentRegions(shares, values, { thresholds: perClass }))).toEqual([
      0, 255, 255, 255,
    ]);
    // the CRF (channel indices) disagrees at pixel 3
    expect(
      Array.from(mineConfidentRegions(shares, values, { thresholds: [0.55], agreement: [0, 0, 1, 1] })),
    ).toEqual([0, 255, 3, 255]);
    expect(() => mineConfidentRegions(shares, values, { thresholds: [0.5, 0.5] })).toThrow(
      /one per mask class \(class 3 has none among 2\)/,
    );
  });

  it("turns confident regions into affinity labels at the network's stride: mixed or mostly unlabelled cells are ignored", () => {
    // 4x4 pixels, stride 2 -> 2x2 cells: [bg, mixed(3|7)], [3 with one ignored, mostly ignored]
    const map = Uint8Array.from([0, 0, 3, 7, 0, 0, 3, 3, 3, 3, 255, 255, 3, 255, 255, 7]);
    const cells = labelsAtStride(map, 4, 4, 2);
    expect(cells).toEqual({ labels: Uint8Array.from([0, 255, 3, 255]), height: 2, width: 2 });
    // a 3x6 map of cells -> psa's pair sets over radius 2 (offsets (0,1), (1,-1), (1,0), (1,1))
    const grid = Uint8Array.from([0, 0, 3, 3, 255, 7, 0, 0, 3, 3, 7, 7, 0, 0, 0, 3, 7, 7]);
    const pairs = pairIndices(3, 6, 2);
    const labels = affinityLabels(grid, pairs);
    const sets = (mask: Uint8Array) =>
      Array.from(mask.entries())
        .filter(([, m]) => m)
        .map(([e]) => `${pairs.from[e % pairs.from.length]}-${pairs.to[e]}`)
        .sort();
    let bg = 0;
    let fg = 0;
    let neg = 0;
    for (let e = 0; e < pairs.to.length; e++) {
      const a = grid[pairs.from[e % pairs.from.length]];
      const b = grid[pairs.to[e]];
      if (a === 0 && b === 0) bg++;
      else if (a !== 255 && b !== 255) a === b ? fg++ : neg++;
    }
    expect(
      [labels.bgPositive, labels.fgPositive, labels.negative].map((m) => m.reduce((s, v) => s + v, 0)),
    ).toEqual([bg, fg, neg]);
    expect(bg + fg + neg).toBeGreaterThan(10);
    expect(sets(labels.bgPositive)).toContain('1-6'); // (0,1) -> (1,0): both background
    expect(sets(labels.negative)).toContain('2-7'); // 3 -> 0 one row down and left
    expect(sets(labels.fgPositive)).not.toContain('3-4'); // 4 is ignored
  });
});

describe('IAL refinement and energy', () => {
  it('computes the energy by hand: mean -log u(y) + lambda / N sum a_ij [y_i != y_j]', () => {
    const pairs = pairIndices(2, 3, 2); // from pixels: (0, 1) only; 4 offsets
    expect(pairs.from.length).toBe(1);
    const to = Array.from(pairs.to); // pixel 1 -> 2, 3, 4, 5 (row-major 2x3)
    expect(to).toEqual([2, 3, 4, 5]);
    const affinity = [0.5, 0.25, 0.75, 1];
    const shares = Float32Array.from(
      [
        [0.9, 0.8, 0.1, 0.6, 0.5, 0.3],
        [0.1, 0.2, 0.9, 0.4, 0.5, 0.7],
      ].flat(),
    );
    const labels = [0, 0, 1, 0, 1, 1];
    const unary = -[0.9, 0.8, 0.9, 0.6, 0.5, 0.7].reduce((s, u) => s + Math.log(u + 1e-5), 0) / 6;
    // pixel 1 (label 0) differs from 2, 4, 5: 0.5 + 0.75 + 1
    const e = labellingEnergy(shares, labels, affinity, pairs, 2);
    expect(e.unary).toBeCloseTo(unary, 5);
    expect(e.pairwise).toBeCloseTo((2 * 2.25) / 6, 6);
    expect(e.total).toBeCloseTo(unary + 4.5 / 6, 5);
  });

  it('refines the unary as the dense random walk does on a small graph, and lowers the pairwise term', () => {
    const pairs = pairIndices(8, 9, 3);
    // two regions split at column 4: strong affinities inside, weak across
    const side = (p: number) => (p % 9 < 4 ? 0 : 1);
    const affinity = Float32Array.from(pairs.to, (t, e) =>
      side(pairs.from[e % pairs.from.length]) === side(t) ? 0.95 : 0.2,
    );
    // a noisy unary: each region mostly right, a few pixels flipped
    const noisy = (p: number) => (p % 7 === 3 ? 1 - side(p) : side(p));
    const raw = new Float32Array(2 * 72);
    for (let p = 0; p < 72; p++) {
      raw[noisy(p) * 72 + p] = 0.7;
      raw[(1 - noisy(p)) * 72 + p] = 0.3;
    }
    const shares = sharesPerPixel(raw, 2);
    const refined = refineByRandomWalk(shares, 2, affinity, pairs, {
      beta: 8,
      logSteps: 6,
      pairwiseWeight: 1,
    });
    const dense = denseRandomWalk(denseAffinityMatrix(affinity, pairs), shares, 2, { beta: 8, logSteps: 6 });
    expect(refined.steps).toBeLessThanOrEqual(64);
    let worst = 0;
    refined.scores.forEach((v, i) => {
      worst = Math.max(worst, Math.abs(v - dense[i]));
    });
    expect(worst).toBeLessThan(2e-3);
    expect(Array.from(refined.labels)).toEqual(Array.from({ length: 72 }, (_, p) => side(p)));
    expect(refined.energy.walk.pairwise).toBeLessThan(refined.energy.unary.pairwise);
    expect(refined.energy.walk.unary).toBeGreaterThan(refined.energy.unary.unary);
  });
});

describe('IAL branches', () => {
  /** One branch's loss and the variables it trains, built on the active backend from the same seeds. */
  type Branch = () => Promise<{ loss: () => tf.Scalar; variables: tf.Variable[]; dispose: () => void }>;
  const images = () => tf.randomNormal([2, 32, 32, 3], 0, 1, 'float32', 3) as tf.Tensor4D;
  const branches: [string, Branch][] = [
    [
      'affinity (AffinityNet on confident-region pair labels)',
      async () => {
        const net = await affinityNetwork(smoke(), false);
        const x = images();
        const pairs = pairIndices(4, 4, 2);
        const labels = Array.from({ length: 2 }, (_, b) =>
          affinityLabels(
            Uint8Array.from({ length: 16 }, (_, i) => (i % 4 < 1 + b ? 0 : i % 5 === 0 ? 255 : 1 + (i % 2))),
            pairs,
          ),
        );
        return {
          loss: () => affinityNetLoss(pairAffinity(net.features(x, true), pairs), labels),
          variables: net.parameterSets().flatMap((s) => [...s.params.variables.values()]),
          dispose: () => {
            x.dispose();
            net.dispose();
          },
        };
      },
    ],
    [
      'unary (segmentation network on refined labels)',
      async () => {
        const net = await segmentationNetwork(smoke(), 3, false);
        const x = images();
        const labels = tf.tensor3d(
          Array.from({ length: 2 * 32 * 32 }, (_, i) => ((i >> 2) % 5 === 4 ? 255 : (i >> 3) % 3)),
          [2, 32, 32],
          'int32',
        );
        return {
          loss: () => segmentationCrossEntropy(net.forward(x, { training: true }), labels),
          variables: net.parameterSets().flatMap((s) => [...s.params.variables.values()]),
          dispose: () => {
            tf.dispose([x, labels]);
            net.dispose();
          },
        };
      },
    ],
  ];

  it.each(branches)(
    'gives the same loss and gradients for one training step of the %s on cpu and wasm',
    async (_, branch) => {
      const step = async (backend: 'cpu' | 'wasm') => {
        await selectBackend({ preference: backend, log: null });
        const { loss, variables, dispose } = await branch();
        let value = 0;
        const { grads } = tf.variableGrads(() => {
          const l = loss();
          value = l.dataSync()[0];
          return l;
        }, variables);
        // by position: variable names carry a per-process counter
        const gradients = variables.map((v) => grads[v.name]?.dataSync().slice() ?? new Float32Array());
        tf.dispose(Object.values(grads));
        dispose();
        return { loss: value, gradients };
      };
      const cpu = await step('cpu');
      const wasm = await step('wasm');
      expect(cpu.loss).toBeGreaterThan(0);
      expect(Math.abs(cpu.loss - wasm.loss)).toBeLessThan(1e-4 * Math.max(1, cpu.loss));
      expect(wasm.gradients.length).toBe(cpu.gradients.length);
      cpu.gradients.forEach((g, k) => {
        const w = wasm.gradients[k];
        let scale = 1e-6;
        let worst = 0;
        g.forEach((x, i) => {
          scale = Math.max(scale, Math.abs(x));
          worst = Math.max(worst, Math.abs(x - w[i]));
        });
        expect({ k, relative: worst / scale < 1e-3, size: g.length > 0 }).toEqual({
          k,
          relative: true,
          size: true,
        });
      });
    },
    120_000,
  );
});

describe('ial pipeline', () => {
  it('runs the smoke preset end to end: every round scored, energies logged, no tensor leaks', async () => {
    await selectBackend({ preference: 'wasm', log: null });
    const runDir = mkdtempSync(join(tmpdir(), 'wsss-ial-'));
    const config = smoke();
    const before = tf.memory().numTensors;
    const summary = await runPipeline(ialPipeline, config, { runDir, preset: 'smoke' });
    expect(tf.memory().numTensors).toBe(before);
    const round = (r: number) =>
      ['unary', 'train-affinity', 'random-walk', 'train-segmentation'].map((s) => `round-${r}-${s}`);
    expect(summary.results.map((r) => r.stage)).toEqual([
      'train-classifier',
      'cams',
      ...round(1),
      ...round(2),
      'evaluate',
    ]);
    const walk = summary.results.find((r) => r.stage === 'round-2-random-walk')!.result.values!;
    for (const key of ['energy of the unary labels', 'energy of the walk labels', 'mean walk steps'])
      expect(Number.isFinite(walk[key] as number)).toBe(true);
    const mined = summary.results.find((r) => r.stage === 'round-1-unary')!.result.values!;
    expect(mined['confident pixels %']).toBeGreaterThan(0);
    const report = JSON.parse(readFileSync(join(runDir, 'report.json'), 'utf8')) as RunReport;
    expect(report.rows.map((r) => r.scored)).toEqual([
      'seeds (train)',
      'unary (train)',
      'confident regions (train)',
      'pseudo labels (train)',
      'unary (train)',
      'confident regions (train)',
      'pseudo labels (train)',
      'round 1 network (held out)',
      'final network (held out)',
    ]);
    for (const file of [
      '03-round-1-unary/confident/synthetic_000007.png',
      '05-round-1-random-walk/labels/synthetic_000007.png',
      '09-round-2-random-walk/scores/synthetic_000000.cam',
      '11-evaluate/predictions/synthetic_000000.png',
    ])
      expect(existsSync(join(runDir, file))).toBe(true);
    // wsss infer and wsss cam: the last round's network, the classifier's CAMs
    const predictor = await ialPipeline.predictor!(runDir, config);
    const photo = { width: 40, height: 30, channels: 3 as const, data: new Uint8Array(3600).fill(90) };
    expect((await predictor.predict(photo)).data.length).toBe(1200);
    predictor.dispose();
    const cams = await ialPipeline.camPredictor!(runDir, config);
    expect((await cams.cams(photo, 0.5)).cams.length).toBe(1200 * cams.labelNames.length);
    cams.dispose();
    expect(tf.memory().numTensors).toBe(before);
    rmSync(runDir, { recursive: true, force: true });
  }, 120_000);

  it('resumes between rounds: a run stopped after round 1 continues at round 2 without redoing round 1', async () => {
    await selectBackend({ preference: 'wasm', log: null });
    const runDir = mkdtempSync(join(tmpdir(), 'wsss-ial-'));
    const config = smoke();
    const first = await runPipeline(ialPipeline, config, { runDir, until: 'round-1-train-segmentation' });
    expect(first.results.map((r) => r.stage).at(-1)).toBe('round-1-train-segmentation');
    const second = await runPipeline(ialPipeline, config, { runDir });
    expect(second.results.filter((r) => r.resumed).map((r) => r.stage)).toEqual(
      first.results.map((r) => r.stage),
    );
    expect(second.results.filter((r) => !r.resumed)).toHaveLength(5);
    // the second round's unary network starts from the first's (warm start) and the report holds both rounds
    expect(existsSync(join(runDir, '10-round-2-train-segmentation/checkpoint/model.json'))).toBe(true);
    rmSync(runDir, { recursive: true, force: true });
  }, 120_000);

  const camvid = sharedPath('data/camvid', 'the IAL pipeline on a dataset without background');
  (camvid ? it : it.skip)(
    'runs on CamVid crops (no background class): every label set scored, no tensor leaks',
    async () => {
      const config = smoke();
      const report = await runOnCamVidCrops(
        ialPipeline,
        { ...config, iterations: { ...config.iterations, rounds: 1 } },
        camvid!,
      );
      expect(report.rows).toHaveLength(5);
    },
    120_000,
  );

  it('checks its config: rounds, thresholds; the paper preset holds psa settings', () => {
    expect(() => ialPipeline.stages({ ...smoke(), iterations: { rounds: 0, warmStart: true } })).toThrow(
      /iterations.rounds: expected an integer from 1 to 20, got 0/,
    );
    const paper = resolveConfig(IAL_DEFAULTS, IAL_PRESETS, { preset: 'paper' }) as IalConfig;
    expect(paper.iterations.rounds).toBe(3);
    expect(paper.unary.backgroundAlpha).toBe(16);
    expect(paper.randomWalk).toEqual({ beta: 8, logSteps: 8 });
    expect(paper.affinity).toMatchObject({ radius: 5, cropSize: 448, learningRate: 0.1, outChannels: 448 });
    expect(ialPipeline.stages(paper)).toHaveLength(2 + 4 * 3 + 1);
  });
});
