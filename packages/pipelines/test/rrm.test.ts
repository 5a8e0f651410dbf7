import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { selectBackend, tf } from '@wsss/core';
import { sharedPath } from '@wsss/core/testing';
import { DilatedConvHead, MobileNetV2, SegmentationNetwork, segmentationCrossEntropy } from '@wsss/models';
import {
  type CrfRunner,
  onlineCams,
  RRM_DEFAULTS,
  RRM_PRESETS,
  type RrmConfig,
  type RunReport,
  resolveConfig,
  rrmImageLabels,
  rrmLayout,
  rrmLoss,
  rrmNetwork,
  rrmPipeline,
  runPipeline,
  segment,
} from '@wsss/pipelines';
import { runOnCamVidCrops } from './camvid_crops';

const smoke = () => resolveConfig(RRM_DEFAULTS, RRM_PRESETS, { preset: 'smoke' }) as RrmConfig;

afterAll(() => selectBackend({ preference: 'cpu', log: null }));

describe('RRM + AA/LR losses', () => {
  it('adds lambda-weighted AA and LR terms only when switched on (LR from the configured step)', async () => {
    await selectBackend({ preference: 'cpu', log: null });
    const config = smoke();
    const net = await rrmNetwork(config, 3, 4, false);
    const images = tf.randomNormal([2, 64, 64, 3], 0, 1, 'float32', 1) as tf.Tensor4D;
    const labels = tf.tensor2d([1, 0, 1, 0, 1, 0], [2, 3]);
    // background, a class and unsure columns: at feature resolution (4 x 4) background | class | class | unsure
    const pseudo = tf.tensor3d(
      Array.from({ length: 2 * 64 * 64 }, (_, i) => (i % 64 < 24 ? 0 : i % 64 < 48 ? 1 + (i >> 12) : 255)),
      [2, 64, 64],
      'int32',
    );
    const before = tf.memory().numTensors;
    const outputs = net.forward(images);
    const warmup = rrmLoss(outputs, { labels, pseudoLabels: pseudo }, config.losses, {
      joint: false,
      labelReassign: false,
    });
    expect(Object.keys(warmup).sort()).toEqual(['classification', 'total']);
    const joint = rrmLoss(outputs, { labels, pseudoLabels: pseudo }, config.losses, {
      joint: true,
      labelReassign: false,
    });
    expect(joint.labelReassign).toBeUndefined();
    const all = rrmLoss(outputs, { labels, pseudoLabels: pseudo }, config.losses, {
      joint: true,
      labelReassign: true,
    });
    const v = (t?: tf.Scalar) => t!.dataSync()[0];
    expect(v(all.labelReassign)).toBeGreaterThan(0);
    expect(v(all.total)).toBeCloseTo(
      v(all.classification) + v(all.crossEntropy) + 0.1 * v(all.affinity) + 0.1 * v(all.labelReassign),
      4,
    );
    const none = rrmLoss(
      outputs,
      { labels, pseudoLabels: pseudo },
      { ...config.losses, affinity: 'none', crossEntropy: false, labelReassign: false },
      { joint: true, labelReassign: true },
    );
    expect(v(none.total)).toBeCloseTo(v(none.classification), 6);
    for (const terms of [warmup, joint, all, none]) tf.dispose(Object.values(terms));
    tf.dispose(Object.values(outputs));
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([images, labels, pseudo]);
    net.dispose();
  });

  it('averages all labelled pixels together in L_CE and L_LR when the dataset has no background', async () => {
    await selectBackend({ preference: 'cpu', log: null });
    const config = smoke();
    const net = await rrmNetwork(config, 3, 3, false);
    const images = tf.randomNormal([2, 64, 64, 3], 0, 1, 'float32', 2) as tf.Tensor4D;
    const labels = tf.tensor2d([1, 0, 1, 1, 1, 0], [2, 3]);
    // class 0 on a third of the pixels, class 1 or 2 on the rest (class 0 is a class, not background)
    const pseudo = tf.tensor3d(
      Array.from({ length: 2 * 64 * 64 }, (_, i) => (i % 64 < 20 ? 0 : 1 + (i >> 12))),
      [2, 64, 64],
      'int32',
    );
    const outputs = net.forward(images);
    const phase = { joint: true, labelReassign: true };
    const terms = (background: number | null) =>
      rrmLoss(outputs, { labels, pseudoLabels: pseudo, background }, config.losses, phase);
    const none = terms(null);
    const rrm = terms(0);
    const plain = tf.tidy(() =>
      segmentationCrossEntropy(
        tf.image.resizeBilinear(outputs.segmentationLogits, [64, 64], false, true),
        pseudo,
      ),
    );
    const v = (t?: tf.Scalar) => t!.dataSync()[0];
    expect(v(none.crossEntropy)).toBeCloseTo(v(plain), 5);
    // RRM's balanced CE adds two means (about twice the plain mean), and LR changes with it
    expect(v(rrm.crossEntropy)).toBeGreaterThan(1.5 * v(plain));
    expect(Math.abs(v(rrm.labelReassign) - v(none.labelReassign))).toBeGreaterThan(1e-4);
    tf.dispose([...Object.values(none), ...Object.values(rrm), ...Object.values(outputs), plain]);
    tf.dispose([images, labels, pseudo]);
    net.dispose();
  });

  it('gives the same losses and gradients for one training step on cpu and wasm', async () => {
    const config = smoke();
    const step = async (backend: 'cpu' | 'wasm') => {
      await selectBackend({ preference: backend, log: null });
      const net = await rrmNetwork(config, 3, 4, false);
      const images = tf.randomNormal([2, 64, 64, 3], 0, 1, 'float32', 7) as tf.Tensor4D;
      const labels = tf.tensor2d([1, 1, 0, 0, 1, 1], [2, 3]);
      const pseudo = tf.tensor3d(
        Array.from({ length: 2 * 64 * 64 }, (_, i) => ((i >> 3) % 5 === 4 ? 255 : (i >> 3) % 4)),
        [2, 64, 64],
        'int32',
      );
      const variables = net.parameterSets(1).flatMap((s) => [...s.params.variables.values()]);
      let terms: number[] = [];
      const { grads } = tf.variableGrads(() => {
        const t = rrmLoss(
          net.forward(images, { training: true }),
          { labels, pseudoLabels: pseudo },
          config.losses,
          {
            joint: true,
            labelReassign: true,
          },
        );
        terms = [t.classification, t.crossEntropy!, t.affinity!, t.labelReassign!].map(
          (s) => s.dataSync()[0],
        );
        return t.total;
      }, variables);
      // by position: variable names carry a per-process counter
      const gradients = Object.fromEntries(
        variables.map((v, i) => [`${i}`, grads[v.name]?.dataSync().slice() ?? new Float32Array()]),
      );
      tf.dispose([images, labels, pseudo, ...Object.values(grads)]);
      net.dispose();
      return { terms, gradients };
    };
    const cpu = await step('cpu');
    const wasm = await step('wasm');
    expect(cpu.terms[3]).toBeGreaterThan(0); // LR has two classes to work on
    cpu.terms.forEach((t, i) => {
      expect(Math.abs(t - wasm.terms[i])).toBeLessThan(1e-4 * Math.max(1, Math.abs(t)));
    });
    expect(Object.keys(wasm.gradients).sort()).toEqual(Object.keys(cpu.gradients).sort());
    for (const [name, g] of Object.entries(cpu.gradients)) {
      const w = wasm.gradients[name];
      let scale = 1e-6;
      let worst = 0;
      g.forEach((x, i) => {
        scale = Math.max(scale, Math.abs(x));
        worst = Math.max(worst, Math.abs(x - w[i]));
      });
      expect({ name, relative: worst / scale < 1e-3 }).toEqual({ name, relative: true });
      expect(g.length).toBeGreaterThan(0);
    }
  }, 240_000);
});

describe('the paper preset', () => {
  it("resolves to the paper's settings and builds a network whose branches have the paper's shapes", async () => {
    await selectBackend({ preference: 'wasm', log: null });
    const config = resolveConfig(RRM_DEFAULTS, RRM_PRESETS, { preset: 'paper' }) as RrmConfig;
    expect(config.backbone.outputStride).toBe(8);
    expect(config.network).toEqual({ embeddingChannels: 512, dilation: 12 });
    expect(config.training).toMatchObject({
      cropSize: 321,
      batchSize: 4,
      learningRate: 1e-4,
      weightDecay: 5e-4,
    });
    expect(config.losses).toMatchObject({
      affinityWeight: 0.1,
      labelReassignWeight: 0.1,
      margin: 3,
      labelReassignMargin: 1,
      gamma: 2,
      labelReassignEpochs: 2,
      dilations: [4, 8, 12, 24],
    });
    expect(config.cams.scales).toEqual([1, 0.5, 1.5, 2]);
    // VOC: 20 labels, 21 mask classes; a 65-pixel input at output stride 8 gives 9 x 9 features
    const net = await rrmNetwork(config, 20, 21, false);
    const images = tf.randomNormal([1, 65, 65, 3], 0, 1, 'float32', 3) as tf.Tensor4D;
    const outputs = net.forward(images);
    expect(outputs.classLogits.shape).toEqual([1, 20]);
    expect(outputs.embedding.shape).toEqual([1, 9, 9, 512]);
    expect(outputs.segmentationLogits.shape).toEqual([1, 9, 9, 21]);
    tf.dispose([images, ...Object.values(outputs)]);
    net.dispose();
    await selectBackend({ preference: 'cpu', log: null });
  }, 120_000);
});

describe('online CAMs', () => {
  it('drop classes scored below minClassScore and max-normalise the others to 1', async () => {
    await selectBackend({ preference: 'cpu', log: null });
    const net = await rrmNetwork(smoke(), 3, 4, false);
    // classifier weights that make class 0 score high, class 1 very low
    const kernel = net.classifier.weights;
    const channels = kernel.shape[2] as number;
    const w = tf.tidy(() =>
      tf.concat(
        [
          tf.fill([1, 1, channels, 1], 0.02),
          tf.fill([1, 1, channels, 1], -0.05),
          tf.fill([1, 1, channels, 1], 0.01),
        ],
        3,
      ),
    );
    kernel.assign(w);
    const images = tf.randomUniform([1, 32, 32, 3], 0, 1, 'float32', 3) as tf.Tensor4D;
    const labels = tf.tensor2d([[1, 1, 0]]);
    const { cams, present } = onlineCams(net, images, labels, {
      scales: [1, 0.5],
      minClassScore: 0.1,
      outputSize: [20, 24],
    });
    expect(cams.shape).toEqual([1, 20, 24, 3]);
    expect(Array.from(present.dataSync())).toEqual([1, 0, 0]);
    const max = tf.max(cams, [0, 1, 2]).dataSync();
    expect(max[0]).toBeCloseTo(1, 3);
    expect(max[1]).toBe(0);
    expect(max[2]).toBe(0);
    expect(() => onlineCams(net, images, labels, { scales: [0.5, 2], minClassScore: 0.1 })).toThrow(
      /scales must include 1/,
    );
    tf.dispose([w, images, labels, cams, present]);
    net.dispose();
  });
});

describe('segment with rfpc', () => {
  it('removes the classes an image is not labelled with before the argmax', async () => {
    await selectBackend({ preference: 'cpu', log: null });
    const backbone = new MobileNetV2({ outputStride: 16, widthMultiplier: 0.35 });
    const head = new DilatedConvHead(backbone.featureChannels, 3, { layers: 1, dilation: 1 });
    head.params.get('seg/conv1/kernel').assign(tf.zerosLike(head.params.get('seg/conv1/kernel')));
    head.params.get('seg/conv1/bias').assign(tf.tensor1d([1, 2, 3])); // class 2 everywhere, class 1 second
    const net = new SegmentationNetwork(backbone, 3, head);
    const image = {
      width: 16,
      height: 16,
      channels: 3 as const,
      data: new Uint8Array(16 * 16 * 3).fill(100),
    };
    const options = { scales: [1], flip: false, crf: false as const };
    expect(new Set((await segment(net, image, options)).data)).toEqual(new Set([2]));
    expect(new Set((await segment(net, image, { ...options, allowed: [1, 1, 0] })).data)).toEqual(
      new Set([1]),
    );
    expect(new Set((await segment(net, image, { ...options, allowed: [1, 0, 0] })).data)).toEqual(
      new Set([0]),
    );
    await expect(segment(net, image, { ...options, allowed: [1, 1] })).rejects.toThrow(
      /one entry per class \(3\), got 2/,
    );
    net.dispose();
  });
});

describe('rrm-aa-lr pipeline', () => {
  it.each([true, false])(
    'runs the smoke preset end to end (CRFs on a worker: %s): LR switched on at its step, every label set scored, no tensor leaks',
    async (overlap) => {
      await selectBackend({ preference: 'wasm', log: null });
      const runDir = mkdtempSync(join(tmpdir(), 'wsss-rrm-'));
      const config = smoke();
      config.pseudoLabels.overlap = overlap;
      const before = tf.memory().numTensors;
      const summary = await runPipeline(rrmPipeline, config, { runDir, preset: 'smoke' });
      expect(tf.memory().numTensors).toBe(before);
      expect(summary.results.map((r) => r.stage)).toEqual(['train', 'pseudo-labels', 'evaluate']);
      const train = summary.results[0].result.values!;
      // 8 images in batches of 4: 2 steps per epoch, LR in the last epoch of 6 steps -> from step 4
      expect(train['label-reassign from step']).toBe(4);
      expect(train.steps).toBe(6);
      for (const term of ['classification', 'crossEntropy', 'affinity'])
        expect(Number.isFinite(train[`last epoch ${term}`] as number)).toBe(true);
      expect(train['joint step ms']).toBeGreaterThan(0);
      expect(train['pseudo-label share of a joint step']).toBeGreaterThan(0);
      expect(train['CRF wait ms per joint step']).toBeGreaterThanOrEqual(0);
      const report = JSON.parse(readFileSync(join(runDir, 'report.json'), 'utf8')) as RunReport;
      expect(report.rows.map((r) => r.scored)).toEqual([
        'seeds (train)',
        'pseudo labels (train)',
        'network (train)',
        'final network (held out)',
        'final network + rfpc (held out)',
      ]);
      for (const file of [
        '02-pseudo-labels/labels/synthetic_000007.png',
        '03-evaluate/overlays/synthetic_000000.png',
      ])
        expect(existsSync(join(runDir, file))).toBe(true);
      rmSync(runDir, { recursive: true, force: true });
    },
    120_000,
  );

  const camvid = sharedPath('data/camvid', 'the RRM pipeline on a dataset without background');
  (camvid ? it : it.skip)(
    'runs on CamVid crops (no background class): class 0 is a class, every label set scored, no tensor leaks',
    async () => {
      const report = await runOnCamVidCrops(rrmPipeline, smoke(), camvid!);
      expect(report.rows).toHaveLength(5);
    },
    120_000,
  );

  it('refuses a background class that is not mask value 0, naming it', () => {
    const data = { name: 'odd', backgroundIndex: 3, labelClasses: [0, 1], classNames: ['a', 'b', 'c', 'bg'] };
    expect(() => rrmLayout(data as never)).toThrow(
      /background class must have mask value 0 .* odd has background 3/,
    );
    expect(rrmLayout({ ...data, backgroundIndex: null } as never)).toEqual({
      classValues: [0, 1],
      numClasses: 4,
      numLabels: 2,
      background: null,
    });
  });
});

describe('rrmImageLabels without a background class', () => {
  it("runs one CRF over the present classes' CAMs and applies the background-free rule", async () => {
    // 1x4 image, labels 0..2 with mask values 0..2 (class 0 is a class), label 1 absent
    const image = { width: 4, height: 1, channels: 3 as const, data: new Uint8Array(12).fill(128) };
    // pixel-major [4 x 3]: label 0 high on pixels 0, 1; label 2 on pixels 2, 3
    const cams = Float32Array.from([1, 0, 0, 0.9, 0, 0.1, 0.1, 0, 0.95, 0, 0, 1]);
    const calls: { classValues: readonly number[]; labelMajor: number[] }[] = [];
    const runCrf: CrfRunner = async (_, input, options) => {
      calls.push({ classValues: input.classValues, labelMajor: Array.from(input.labelMajor) });
      // marginals: label 0 sure on pixel 0, label 2 on pixel 3, 0.6 elsewhere
      const q = new Float32Array(options.numClasses * 4);
      q.set([0.9, 0.6, 0.4, 0.1], 0);
      q.set([0.1, 0.4, 0.6, 0.9], 2 * 4);
      return { q, labels: Uint8Array.from([0, 0, 2, 2]) };
    };
    const pseudo = RRM_DEFAULTS.pseudoLabels;
    const layout = { classValues: [0, 1, 2], numClasses: 3, background: null };
    const result = await rrmImageLabels(
      image,
      cams,
      [1, 0, 1],
      layout,
      { ...pseudo, camPercentile: 0 },
      runCrf,
    );
    // one CRF, no background plane: the present classes' CAMs label-major
    expect(calls).toHaveLength(1);
    expect(calls[0].classValues).toEqual([0, 2]);
    expect(calls[0].labelMajor.map((v) => Math.round(v * 100) / 100)).toEqual([
      1, 0.9, 0.1, 0, 0, 0.1, 0.95, 1,
    ]);
    // percentile 0: class 0's region values [0.9, 1] -> threshold 0.9 -> pixel 0; class 2's [0.95, 1] -> pixel 3
    expect(Array.from(result.labels)).toEqual([0, 255, 255, 2]);
    expect(Array.from(result.confidence).map((v) => Math.round(v * 10) / 10)).toEqual([0.9, 0, 0, 0.9]);
    // with a background (mask value 0) the same call runs RRM's two CRFs over background + classes
    calls.length = 0;
    await rrmImageLabels(image, cams, [0, 1, 1], { ...layout, background: 0 }, pseudo, runCrf);
    expect(calls.map((c) => c.classValues)).toEqual([
      [0, 1, 2],
      [0, 1, 2],
    ]);
  });
});
