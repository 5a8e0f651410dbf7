import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { selectBackend, tf } from '@wsss/core';
import { expectNoLeaks, sharedPath } from '@wsss/core/testing';
import { saliencyCrf } from '@wsss/crf';
import {
  AUXSEGNET_DEFAULTS,
  AUXSEGNET_PRESETS,
  type AuxSegNetConfig,
  auxSegNetLoss,
  auxSegNetNetwork,
  auxSegNetPipeline,
  type RunReport,
  resolveConfig,
  runPipeline,
} from '@wsss/pipelines';
import { fusedPseudoLabels, propagatedCams, updatedPseudoLabels } from '../src/auxsegnet/update';
import { runOnCamVidCrops } from './camvid_crops';

const smoke = () =>
  resolveConfig(AUXSEGNET_DEFAULTS, AUXSEGNET_PRESETS, { preset: 'smoke' }) as AuxSegNetConfig;
const withNetwork = (
  config: AuxSegNetConfig,
  network: Partial<AuxSegNetConfig['network']>,
): AuxSegNetConfig => ({
  ...config,
  network: { ...config.network, ...network },
});

describe('AuxSegNet network (digest section 15 item 13, small)', () => {
  beforeAll(() => selectBackend({ preference: 'wasm', log: null }));

  it('has the shapes of every output at output stride 8: A_ct [B, N, N], seg [B, h, w, C], sal [B, h, w, 1]', async () => {
    const net = await auxSegNetNetwork(withNetwork(smoke(), { outputStride: 8 }), 20, 21, false);
    const x = tf.randomNormal([2, 64, 64, 3], 0, 1, 'float32', 1) as tf.Tensor4D;
    const out = net.forward(x);
    expect(out.classLogits.shape).toEqual([2, 20]);
    expect(out.activationMaps.shape).toEqual([2, 8, 8, 20]);
    expect(out.initSeg.shape).toEqual([2, 8, 8, 21]);
    expect(out.initSal!.shape).toEqual([2, 8, 8, 1]);
    expect(out.crossTask!.shape).toEqual([2, 64, 64]);
    expect(out.refinedSeg!.shape).toEqual([2, 8, 8, 21]);
    expect(out.refinedSal!.shape).toEqual([2, 8, 8, 1]);
    // A_ct is a convex mix of two row-stochastic matrices: rows sum to 1 within a mix's weights, entries >= 0
    const rows = tf.tidy(() => tf.sum(out.crossTask!, 2).dataSync());
    rows.forEach((r) => {
      expect(r).toBeGreaterThan(0);
    });
    tf.dispose([x, ...Object.values(out)]);
    net.dispose();
  });

  it('leaves out the saliency branch without multi-task and the refinement without cross-task', async () => {
    const single = await auxSegNetNetwork(
      withNetwork(smoke(), { multiTask: false, crossTask: false }),
      3,
      4,
      false,
    );
    const x = tf.randomNormal([1, 32, 32, 3], 0, 1, 'float32', 2) as tf.Tensor4D;
    const out = single.forward(x);
    expect([out.initSal, out.crossTask, out.refinedSeg, out.refinedSal]).toEqual([
      undefined,
      undefined,
      undefined,
      undefined,
    ]);
    // the unused affinity parameters (saliency, mix) are not trained
    expect(
      [...single.affinity.params.frozen].every((n) => n.startsWith('sal/') || n.startsWith('mix/')),
    ).toBe(true);
    expect(single.affinity.params.frozen.size).toBe(7);
    tf.dispose([x, ...Object.values(out)]);
    single.dispose();
    await expect(
      auxSegNetNetwork(withNetwork(smoke(), { multiTask: false, crossTask: true }), 3, 4, false),
    ).rejects.toThrow(/network.crossTask needs network.multiTask/);
  });

  it('adds the five loss terms, each with its reference formula', async () => {
    const net = await auxSegNetNetwork(smoke(), 2, 3, false);
    const x = tf.randomNormal([2, 32, 32, 3], 0, 1, 'float32', 3) as tf.Tensor4D;
    const labels = tf.tensor2d([1, 0, 1, 1], [2, 2]);
    const pseudo = tf.tensor3d(
      Array.from({ length: 2 * 32 * 32 }, (_, i) => (i % 7 === 0 ? 255 : i % 3)),
      [2, 32, 32],
      'int32',
    );
    const saliency = tf.tensor3d(
      Array.from({ length: 2 * 32 * 32 }, (_, i) => (i % 5) / 4),
      [2, 32, 32],
    );
    const out = net.forward(x);
    const terms = auxSegNetLoss(out, { labels, pseudoLabels: pseudo, saliency });
    const v = (t?: tf.Scalar) => t!.dataSync()[0];
    const parts = [
      terms.classification,
      terms.initSeg,
      terms.initSal,
      terms.refinedSeg,
      terms.refinedSal,
    ].map(v);
    expect(v(terms.total)).toBeCloseTo(
      parts.reduce((a, b) => a + b, 0),
      5,
    );
    // BCE by hand on the upsampled initial saliency logits against S > 0.5
    const up = tf.tidy(() => tf.image.resizeBilinear(out.initSal!, [32, 32], false, true).dataSync());
    const s = saliency.dataSync();
    let bce = 0;
    up.forEach((z, i) => {
      const y = s[i] > 0.5 ? 1 : 0;
      const p = 1 / (1 + Math.exp(-z));
      bce -= y * Math.log(p) + (1 - y) * Math.log(1 - p);
    });
    expect(v(terms.initSal)).toBeCloseTo(bce / up.length, 4);
    tf.dispose([x, labels, pseudo, saliency, ...Object.values(out), ...Object.values(terms)]);
    // no leaks over repeated loss computations
    await expectNoLeaks(() =>
      tf.tidy(() => {
        const images = tf.zeros([1, 32, 32, 3]) as tf.Tensor4D;
        const t = auxSegNetLoss(net.forward(images), {
          labels: tf.tensor2d([1, 0], [1, 2]),
          pseudoLabels: tf.zeros([1, 32, 32], 'int32') as tf.Tensor3D,
          saliency: tf.zeros([1, 32, 32]) as tf.Tensor3D,
        });
        return t.total;
      }),
    );
    net.dispose();
  });

  it('gives the same loss and gradients for one training step on cpu and wasm', async () => {
    const config = withNetwork(smoke(), { outputStride: 8 });
    const step = async (backend: 'cpu' | 'wasm') => {
      await selectBackend({ preference: backend, log: null });
      const net = await auxSegNetNetwork(config, 2, 3, false);
      const x = tf.randomNormal([2, 32, 32, 3], 0, 1, 'float32', 4) as tf.Tensor4D;
      const labels = tf.tensor2d([1, 0, 1, 1], [2, 2]);
      const pseudo = tf.tensor3d(
        Array.from({ length: 2 * 32 * 32 }, (_, i) => (i % 9 === 0 ? 255 : (i >> 4) % 3)),
        [2, 32, 32],
        'int32',
      );
      const saliency = tf.tensor3d(
        Array.from({ length: 2 * 32 * 32 }, (_, i) => ((i >> 3) % 4) / 3),
        [2, 32, 32],
      );
      const variables = net.parameterSets(10, 1).flatMap((s) => [...s.params.variables.values()]);
      let loss = 0;
      const { grads } = tf.variableGrads(() => {
        const terms = auxSegNetLoss(net.forward(x, { training: true }), {
          labels,
          pseudoLabels: pseudo,
          saliency,
        });
        loss = terms.total.dataSync()[0];
        return terms.total;
      }, variables);
      const gradients = variables.map((v) => grads[v.name]?.dataSync().slice() ?? new Float32Array());
      tf.dispose([x, labels, pseudo, saliency, ...Object.values(grads)]);
      net.dispose();
      return { loss, gradients };
    };
    const cpu = await step('cpu');
    const wasm = await step('wasm');
    expect(Math.abs(cpu.loss - wasm.loss)).toBeLessThan(1e-4 * Math.max(1, cpu.loss));
    expect(cpu.gradients.filter((g) => g.length > 0).length).toBeGreaterThan(20);
    // relative to each gradient's size, floored at 1e-4 of the largest: the phi biases' gradients are 0 analytically
    // (a softmax row ignores a per-row shift), so both backends give rounding noise there
    let largest = 0;
    for (const g of cpu.gradients) for (const x of g) largest = Math.max(largest, Math.abs(x));
    cpu.gradients.forEach((g, k) => {
      const w = wasm.gradients[k];
      expect(w.length).toBe(g.length);
      let scale = 1e-4 * largest;
      let worst = 0;
      g.forEach((x, i) => {
        scale = Math.max(scale, Math.abs(x));
        worst = Math.max(worst, Math.abs(x - w[i]));
      });
      expect({ k, relative: worst / scale < 1e-3 }).toEqual({ k, relative: true });
    });
    await selectBackend({ preference: 'wasm', log: null });
  }, 120_000);
});

describe('AuxSegNet label update (digest section 10.4) on hand-made maps', () => {
  beforeAll(() => selectBackend({ preference: 'wasm', log: null }));

  it('propagates the ReLU-max-normalised CAMs once by A_ct, without renormalising', () => {
    // 1x2 map, two classes; class 1 absent (channel 1 left out)
    const maps = tf.tensor4d([2, 5, -1, 1, 9, 4], [1, 1, 2, 3]);
    const crossTask = tf.tensor3d([0.5, 0.5, 0.25, 0.5], [1, 2, 2]);
    const raw = propagatedCams(maps, [0, 2], undefined, false);
    // channel 0: relu [2, 1] / (2 + 1e-5); channel 2: relu [0, 4] / (4 + 1e-5)
    const c0 = [2 / (2 + 1e-5), 1 / (2 + 1e-5)];
    const c2 = [0, 4 / (4 + 1e-5)];
    expect(Array.from(raw.dataSync())).toEqual([c0[0], c2[0], c0[1], c2[1]].map(Math.fround));
    const refined = propagatedCams(maps, [0, 2], crossTask, false).dataSync();
    const expected = [
      0.5 * c0[0] + 0.5 * c0[1],
      0.5 * c2[0] + 0.5 * c2[1],
      0.25 * c0[0] + 0.5 * c0[1],
      0.25 * c2[0] + 0.5 * c2[1],
    ];
    refined.forEach((v, i) => {
      expect(v).toBeCloseTo(expected[i], 6);
    });
    const renormalised = propagatedCams(maps, [0, 2], crossTask, true).dataSync();
    expect(Math.max(renormalised[0], renormalised[2])).toBeCloseTo(1, 4);
    tf.dispose([maps, crossTask, raw]);
  });

  it('fuses the updated saliency (mean with the original, then the saliency CRF) with the refined CAMs', async () => {
    const image = { width: 4, height: 1, channels: 3 as const, data: new Uint8Array(12).fill(128) };
    const cams = Float32Array.from([0.9, 0.1, 0.1, 0.5, 0.3, 0.25, 0, 0]);
    const original = Float32Array.from([0.5, 0.5, 0.03, 0.01]);
    const predicted = Float32Array.from([0.7, 0.1, 0.01, 0.5]);
    const plain = await updatedPseudoLabels(
      image,
      cams,
      [3, 12],
      { original, predicted },
      {
        fusion: { camThreshold: 0.2, saliencyThreshold: 0.06 },
        saliencyCrf: false,
      },
    );
    expect(Array.from(plain.saliency)).toEqual([0.6, 0.3, 0.02, 0.255].map(Math.fround));
    // pixel 3: no CAM, but the fused saliency 0.255 > 0.06 -> they disagree -> ignored
    expect(Array.from(plain.labels)).toEqual([3, 12, 255, 255]);
    const withCrf = await updatedPseudoLabels(
      image,
      cams,
      [3, 12],
      { original, predicted },
      {
        fusion: { camThreshold: 0.2, saliencyThreshold: 0.06 },
        saliencyCrf: true,
      },
    );
    expect(Array.from(withCrf.saliency)).toEqual(Array.from(await saliencyCrf(image, plain.saliency)));
    // without a predicted saliency (no saliency branch) the original map is kept
    const single = await updatedPseudoLabels(
      image,
      cams,
      [3, 12],
      { original },
      {
        fusion: {},
        saliencyCrf: true,
      },
    );
    expect(Array.from(single.labels)).toEqual([3, 12, 255, 0]);
  });
});

describe('auxsegnet pipeline', () => {
  it('runs the smoke preset end to end: every label set and stage network scored, no tensor leaks', async () => {
    await selectBackend({ preference: 'wasm', log: null });
    const runDir = mkdtempSync(join(tmpdir(), 'wsss-aux-'));
    const before = tf.memory().numTensors;
    const summary = await runPipeline(auxSegNetPipeline, smoke(), { runDir, preset: 'smoke' });
    expect(tf.memory().numTensors).toBe(before);
    expect(summary.results.map((r) => r.stage)).toEqual([
      'saliency',
      'train-classifier',
      'cams',
      'initial-labels',
      'stage-1-train',
      'stage-1-update',
      'stage-2-train',
      'evaluate',
    ]);
    const report = JSON.parse(readFileSync(join(runDir, 'report.json'), 'utf8')) as RunReport;
    expect(report.rows.map((r) => r.scored)).toEqual([
      'seeds (train)',
      'pseudo labels, stage 0 (train)',
      'pseudo labels, stage 1 (train)',
      'stage 1 network (held out)',
      'final network (held out)',
      'final network, initial prediction (held out)',
    ]);
    for (const file of [
      '01-saliency/saliency/synthetic_000007.png',
      '06-stage-1-update/saliency/synthetic_000007.png',
      '06-stage-1-update/labels/synthetic_000007.png',
      '08-evaluate/predictions/synthetic_000000.png',
    ])
      expect(existsSync(join(runDir, file))).toBe(true);
    // wsss infer's predictor: the last stage's network
    const predictor = await auxSegNetPipeline.predictor!(runDir, smoke());
    const labels = await predictor.predict({
      width: 40,
      height: 30,
      channels: 3,
      data: new Uint8Array(3600).fill(90),
    });
    expect(labels.data.length).toBe(1200);
    predictor.dispose();
    expect(tf.memory().numTensors).toBe(before);
    rmSync(runDir, { recursive: true, force: true });
  }, 120_000);

  const camvid = sharedPath('data/camvid', 'AuxSegNet on a dataset without background');
  (camvid ? it : it.skip)(
    'runs on CamVid crops (no background): labels from the CAMs alone, saliency an auxiliary task, no leaks',
    async () => {
      const report = await runOnCamVidCrops(auxSegNetPipeline, smoke(), camvid!);
      expect(report.rows).toHaveLength(6);
    },
    120_000,
  );

  it('checks its stage count; the paper preset holds the reference settings', () => {
    const config = smoke();
    expect(() => auxSegNetPipeline.stages({ ...config, iterations: { stages: 0 } })).toThrow(
      /iterations.stages: expected an integer from 1 to 20, got 0/,
    );
    const paper = resolveConfig(AUXSEGNET_DEFAULTS, AUXSEGNET_PRESETS, {
      preset: 'paper',
    }) as AuxSegNetConfig;
    expect(paper.network).toMatchObject({ outputStride: 8, channels: 128, dilations: [6, 12, 18] });
    expect(paper.training).toMatchObject({
      batchSize: 4,
      cropSize: 321,
      learningRate: 0.0007,
      labelPadding: 'background',
    });
    expect(paper.iterations.stages).toBe(4);
    expect(paper.fusion).toEqual({ camThreshold: 0.2, saliencyThreshold: 0.06 });
  });
});

describe('fusedPseudoLabels', () => {
  it('is the heuristic fusion with a background, and CAM-or-ignore without one', () => {
    const cams = [0.9, 0.1, 0.1, 0.5, 0.3, 0.25, 0, 0];
    const saliency = [0.5, 0.5, 0.03, 0.01];
    const options = { camThreshold: 0.2, saliencyThreshold: 0.06 };
    expect(Array.from(fusedPseudoLabels(cams, [3, 12], saliency, { ...options, background: true }))).toEqual([
      3, 12, 255, 0,
    ]);
    expect(Array.from(fusedPseudoLabels(cams, [3, 12], saliency, { ...options, background: false }))).toEqual(
      [3, 12, 3, 255],
    );
  });
});
