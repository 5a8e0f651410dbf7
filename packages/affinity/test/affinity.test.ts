import {
  AdaptiveAffinityLoss,
  adaptiveAffinityLoss,
  affinityFieldLoss,
  affinityLabels,
  affinityNetLoss,
  CrossTaskAffinity,
  combineLowHighLabels,
  confidentRegions,
  denseAffinityMatrix,
  denseRandomWalk,
  neighbourOffsets,
  pairAffinity,
  pairDivergence,
  pairIndices,
  RandomWalkGraph,
  randomWalk,
  randomWalkOp,
  standardAffinityLoss,
} from '@wsss/affinity';
import { Rng, tf } from '@wsss/core';
import { expectGradientsMatch, expectNoLeaks } from '@wsss/core/testing';

const P = [0.7, 0.2, 0.1];
const Q = [0.1, 0.2, 0.7];

describe('neighbourhood and affinity labels (digest section 15 items 1 and 2)', () => {
  it('indexes pairs as psa', () => {
    const offsets = neighbourOffsets(5);
    expect(offsets.length).toBe(34);
    expect(offsets.slice(0, 6)).toEqual([
      [0, 1],
      [0, 2],
      [0, 3],
      [0, 4],
      [1, -4],
      [1, -3],
    ]);
    expect(neighbourOffsets(10).length).toBe(152);
    const small = pairIndices(6, 10, 5);
    expect(Array.from(small.from)).toEqual([4, 5, 14, 15]);
    expect(Array.from(small.to.subarray(0, 4))).toEqual([5, 6, 15, 16]);
    expect([pairIndices(56, 56, 5).from.length, pairIndices(56, 56, 5).to.length]).toEqual([2496, 84864]);
    expect([pairIndices(41, 41, 5).from.length, pairIndices(41, 41, 5).to.length]).toEqual([1221, 41514]);
    expect(() => pairIndices(4, 10, 5)).toThrow(/too small for radius 5/);
  });

  it('builds the bg-positive / fg-positive / negative pair sets of the reference exactly', () => {
    const label = new Uint8Array(60);
    for (let y = 0; y < 6; y++) for (let x = 5; x < 10; x++) label[y * 10 + x] = 15;
    label.fill(255, 0, 10);
    label[3 * 10 + 2] = 15;
    const sets = affinityLabels(label, pairIndices(6, 10, 5));
    const sum = (a: Uint8Array) => a.reduce((s, v) => s + v, 0);
    expect([sum(sets.bgPositive), sum(sets.fgPositive), sum(sets.negative)]).toEqual([16, 22, 30]);
    expect(Array.from(combineLowHighLabels([0, 3, 3, 0], [0, 0, 3, 3]))).toEqual([0, 0, 3, 255]);
    expect(() => affinityLabels(new Uint8Array(59), pairIndices(6, 10, 5))).toThrow(
      /height x width = 6 x 10/,
    );
  });
});

describe('AffinityNet (item 3)', () => {
  it('a_ij = exp(-mean |f_i - f_j|) and the bg/4 + fg/4 + neg/2 loss', () => {
    const pairs = pairIndices(5, 9, 5); // one from-pixel (0, 4)
    const features = new Float32Array(5 * 9 * 4);
    features.set([1, 2, 3, 4], 4 * 4);
    features.set([1.5, 2, 2, 4], 5 * 4); // neighbour (0, 5): offset (0, 1)
    const a = pairAffinity(tf.tensor4d(features, [1, 5, 9, 4]), pairs);
    expect(a.shape).toEqual([1, 34, 1]);
    expect(a.dataSync()[0]).toBeCloseTo(0.687289, 5);
    const labels = {
      bgPositive: new Uint8Array(34),
      fgPositive: new Uint8Array(34),
      negative: new Uint8Array(34),
    };
    labels.bgPositive[0] = 1;
    labels.negative[1] = 1;
    const values = a.dataSync();
    const expected =
      -Math.log(values[0] + 1e-5) / (1 + 1e-5) / 4 + -Math.log(1 + 1e-5 - values[1]) / (1 + 1e-5) / 2;
    expect(affinityNetLoss(a, [labels]).dataSync()[0]).toBeCloseTo(expected, 5);
    const f = tf.randomNormal([1, 5, 9, 4], 0, 1, 'float32', 3);
    expectGradientsMatch((t) => affinityNetLoss(pairAffinity(t as tf.Tensor4D, pairs), [labels]), f);
  });
});

describe('pairwise affinity losses', () => {
  const image = (labels: number[]) => ({
    probs: tf.tensor4d([...P, ...Q], [1, 1, 2, 3]),
    labels: tf.tensor3d(labels, [1, 1, 2], 'int32'),
  });
  const W = 0.6 * Math.log(7); // KL(P || Q) = KL(Q || P)

  it('binary divergence is AAF per-class KL summed (item 8)', () => {
    const w = pairDivergence(tf.tensor4d([...P, ...Q], [1, 1, 2, 3]), 1, 'binary');
    expect(w.dataSync()[4]).toBeCloseTo(1.826713, 4); // pixel 0, neighbour (0, +1)
    const c = pairDivergence(tf.tensor4d([...P, ...Q], [1, 1, 2, 3]), 1, 'categorical');
    expect(c.dataSync()[4]).toBeCloseTo(W, 4);
  });

  it('SA: hand-computed negative and positive pairs (eqs. 1-6)', () => {
    const different = image([1, 2]);
    expect(
      standardAffinityLoss(different.probs, different.labels, { dilations: [1] }).dataSync()[0],
    ).toBeCloseTo(2 * (3 - W), 4);
    const same = image([1, 1]);
    expect(standardAffinityLoss(same.probs, same.labels, { dilations: [1] }).dataSync()[0]).toBeCloseTo(W, 4);
    const background = image([0, 0]);
    expect(
      standardAffinityLoss(background.probs, background.labels, { dilations: [1, 2] }).dataSync()[0],
    ).toBeCloseTo(W, 4);
    const ignored = image([1, 255]);
    expect(standardAffinityLoss(ignored.probs, ignored.labels, { dilations: [1] }).dataSync()[0]).toBe(0);
  });

  it('AA: each connection option weights positives and the margin (eqs. 7-12)', () => {
    const confidence = tf.tensor3d([0.5, 0.9], [1, 1, 2]);
    const different = image([1, 2]);
    for (const [connection, omega] of [
      ['max', 0.9],
      ['min', 0.5],
      ['mean', 0.7],
    ] as const) {
      const loss = adaptiveAffinityLoss(different.probs, different.labels, confidence, {
        dilations: [1],
        connection,
      });
      expect(loss.dataSync()[0]).toBeCloseTo(2 * Math.max(0, omega * 3 - W), 4);
    }
    const same = image([1, 1]);
    expect(
      new AdaptiveAffinityLoss({ dilations: [1] }).call(same.probs, same.labels, confidence).dataSync()[0],
    ).toBeCloseTo(0.9 * W, 4);
    // 'maxProbability': V = (0.7, 0.7)
    expect(
      adaptiveAffinityLoss(same.probs, same.labels, 'maxProbability', { dilations: [1] }).dataSync()[0],
    ).toBeCloseTo(0.7 * W, 4);
  });

  it('AAF: per-class edges with a bidirectional ignore (item 8 hinges)', () => {
    // 1 x 3 image [Q, P, Q]: only the centre pixel has both horizontal neighbours; classes 0 and 2 are edges
    const probs = tf.tensor4d([...Q, ...P, ...Q], [1, 1, 3, 3]);
    const labels = tf.tensor3d([2, 0, 2], [1, 1, 3], 'int32');
    const loss = affinityFieldLoss(probs, labels, { sizes: [1] }).dataSync()[0];
    expect(loss).toBeCloseTo((2.20584 + 1.967447) / 2, 4);
    const decayed = affinityFieldLoss(probs, labels, {
      sizes: [1],
      decay: { step: 50, totalSteps: 100 },
    }).dataSync()[0];
    expect(decayed).toBeCloseTo(loss * 10 ** -0.5, 4);
    const sizeWeights = { edge: tf.variable(tf.zeros([3, 2])), notEdge: tf.variable(tf.zeros([3, 2])) };
    const weighted = affinityFieldLoss(probs, labels, { sizes: [1, 2], sizeWeights }).dataSync()[0];
    expect(weighted).toBeCloseTo(loss / 2, 4); // uniform softmax over 2 sizes; size 2 pairs are all ignored
  });

  it('every loss has finite-difference-correct gradients and no leaks; shapes are checked', async () => {
    const rng = new Rng(5);
    const logits = tf.tensor4d(
      Float32Array.from({ length: 2 * 6 * 7 * 4 }, () => rng.normal()),
      [2, 6, 7, 4],
    );
    const labels = tf.tensor3d(
      Int32Array.from({ length: 84 }, (_, i) => [0, 1, 2, 255, 3][(i * 7 + (i >> 3)) % 5]),
      [2, 6, 7],
      'int32',
    );
    const confidence = tf.tensor3d(
      Float32Array.from({ length: 84 }, () => rng.uniform()),
      [2, 6, 7],
    );
    const losses = [
      (p: tf.Tensor4D) => standardAffinityLoss(p, labels, { dilations: [1, 2] }),
      (p: tf.Tensor4D) => standardAffinityLoss(p, labels, { dilations: [1, 3], divergence: 'binary' }),
      (p: tf.Tensor4D) =>
        adaptiveAffinityLoss(p, labels, confidence, { dilations: [1, 2], connection: 'mean' }),
      (p: tf.Tensor4D) => affinityFieldLoss(p, labels, { sizes: [1, 2] }),
    ];
    for (const loss of losses) {
      // on cpu the SA/AA losses take the fused path (its agreement with the tf-ops path is tested above)
      expectGradientsMatch((t) => loss(tf.softmax(t) as tf.Tensor4D), logits, { tolerance: 5e-3 });
      await expectNoLeaks(() => tf.tidy(() => tf.grad((t) => loss(tf.softmax(t) as tf.Tensor4D))(logits)));
    }
    expect(() =>
      standardAffinityLoss(tf.softmax(logits) as tf.Tensor4D, tf.zeros([2, 6, 6], 'int32') as tf.Tensor3D),
    ).toThrow(/labels must be \[2, 6, 7\] like probabilities, got \[2,6,6\]/);
    expect(() =>
      adaptiveAffinityLoss(tf.softmax(logits) as tf.Tensor4D, labels, tf.zeros([2, 6]) as never),
    ).toThrow(/confidence must be \[2, 6, 7\]/);
  });
});

describe('fused WebAssembly pass vs tf ops', () => {
  it('SA and AA agree in value and gradient between the two implementations', () => {
    const rng = new Rng(8);
    const logits = tf.tensor4d(
      Float32Array.from({ length: 2 * 9 * 8 * 5 }, () => 2 * rng.normal()),
      [2, 9, 8, 5],
    );
    const labels = tf.tensor3d(
      Int32Array.from({ length: 144 }, (_, i) => [0, 1, 2, 255, 3, 0][(i * 5 + (i >> 4)) % 6]),
      [2, 9, 8],
      'int32',
    );
    const confidence = tf.tensor3d(
      Float32Array.from({ length: 144 }, () => rng.uniform()),
      [2, 9, 8],
    );
    const variants: ((p: tf.Tensor4D, implementation: 'fused' | 'ops') => tf.Scalar)[] = [
      (p, implementation) => standardAffinityLoss(p, labels, { dilations: [1, 3], implementation }),
      (p, implementation) =>
        standardAffinityLoss(p, labels, { dilations: [2], divergence: 'binary', margin: 6, implementation }),
      (p, implementation) =>
        adaptiveAffinityLoss(p, labels, confidence, { dilations: [1, 2], connection: 'max', implementation }),
      (p, implementation) =>
        adaptiveAffinityLoss(p, labels, confidence, {
          dilations: [2],
          connection: 'min',
          divergence: 'binary',
          implementation,
        }),
      (p, implementation) =>
        adaptiveAffinityLoss(p, labels, 'maxProbability', {
          dilations: [1],
          connection: 'mean',
          implementation,
        }),
    ];
    for (const loss of variants) {
      const run = (implementation: 'fused' | 'ops') =>
        tf.tidy(() => {
          const f = (t: tf.Tensor) => loss(tf.softmax(t) as tf.Tensor4D, implementation);
          return [f(logits).dataSync()[0], tf.grad(f)(logits).dataSync()] as const;
        });
      const [fusedValue, fusedGrad] = run('fused');
      const [opsValue, opsGrad] = run('ops');
      expect(fusedValue).toBeCloseTo(opsValue, 4);
      for (let i = 0; i < opsGrad.length; i++)
        expect(Math.abs(fusedGrad[i] - opsGrad[i])).toBeLessThan(1e-4 * (1 + Math.abs(opsGrad[i])));
    }
  });
});

describe('CrossTaskAffinity', () => {
  it('rows of A_t sum to 1, A_ct is an entry-wise convex mix, refine is A_ct times the prediction', () => {
    const layer = new CrossTaskAffinity(4, { keyChannels: 3, seed: 2 });
    const fSeg = tf.randomNormal([2, 3, 2, 4], 0, 1, 'float32', 1) as tf.Tensor4D;
    const fSal = tf.randomNormal([2, 3, 2, 4], 0, 1, 'float32', 2) as tf.Tensor4D;
    const { seg, sal, crossTask } = layer.forward(fSeg, fSal);
    expect(crossTask.shape).toEqual([2, 6, 6]);
    const rows = tf.sum(seg, 2).dataSync();
    for (const r of rows) expect(r).toBeCloseTo(1, 5);
    const [s, a, c] = [seg.dataSync(), sal.dataSync(), crossTask.dataSync()];
    for (let i = 0; i < c.length; i++) {
      expect(c[i]).toBeGreaterThanOrEqual(Math.min(s[i], a[i]) - 1e-6);
      expect(c[i]).toBeLessThanOrEqual(Math.max(s[i], a[i]) + 1e-6);
    }
    // hand-computed refinement on a 2 x 2 affinity
    const aff = tf.tensor3d([0.5, 0.5, 0.25, 0.75], [1, 2, 2]);
    const pred = tf.tensor4d([1, 10, 3, 30], [1, 1, 2, 2]);
    expect(Array.from(layer.refine(aff, pred).dataSync())).toEqual([2, 20, 2.5, 25]);
    expect(() => layer.refine(aff, tf.zeros([1, 1, 3, 2]) as tf.Tensor4D)).toThrow(
      /affinity must be \[1, 3, 3\]/,
    );
  });

  it('is differentiable in the features and in its weights, without leaks', async () => {
    const layer = new CrossTaskAffinity(3, { seed: 1 });
    const fSal = tf.randomNormal([1, 2, 3, 3], 0, 1, 'float32', 4) as tf.Tensor4D;
    const pred = tf.randomNormal([1, 2, 3, 2], 0, 1, 'float32', 5) as tf.Tensor4D;
    const r = tf.randomNormal([1, 2, 3, 2], 0, 1, 'float32', 6);
    const loss = (f: tf.Tensor) =>
      tf.tidy(() => {
        const { crossTask } = layer.forward(f as tf.Tensor4D, fSal);
        return tf.sum(tf.mul(layer.refine(crossTask, pred), r)) as tf.Scalar;
      });
    expectGradientsMatch(loss, tf.randomNormal([1, 2, 3, 3], 0, 1, 'float32', 7));
    const fSeg = tf.randomNormal([1, 2, 3, 3], 0, 1, 'float32', 8);
    const { grads } = tf.variableGrads(() => loss(fSeg));
    expect(Object.keys(grads).length).toBe(layer.params.variables.size);
    tf.dispose(grads);
    await expectNoLeaks(() => {
      const { value, grads: g } = tf.variableGrads(() => loss(fSeg));
      return [value, ...Object.values(g)];
    });
  });
});

describe('random walk (item 4) and confident regions', () => {
  it('dense path reproduces the reference numbers', () => {
    const a = [1, 0.9, 0.1, 0.9, 1, 0.2, 0.1, 0.2, 1];
    const v = new Float32Array([0.3, 0.3, 0.9, 1, 0.2, 0]);
    const out = denseRandomWalk(a, v, 2, { beta: 8, logSteps: 2 });
    const expected = [0.300001, 0.300003, 0.899994, 0.61005, 0.589946, 5e-6];
    expected.forEach((e, i) => {
      expect(Math.abs(out[i] - e)).toBeLessThan(1e-5);
    });
  });

  it.each([
    [7, 9, 3, 3],
    [10, 12, 4, 21],
  ])('sparse equals dense on a random %ix%i graph (radius %i, %i channels)', (h, w, radius, channels) => {
    const rng = new Rng(h * w);
    const pairs = pairIndices(h, w, radius);
    const affinity = Float32Array.from({ length: pairs.to.length }, () => 0.3 + 0.7 * rng.uniform());
    const scores = Float32Array.from({ length: channels * h * w }, () => rng.uniform());
    const dense = denseRandomWalk(denseAffinityMatrix(affinity, pairs), scores, channels, { logSteps: 6 });
    const { scores: sparse, steps } = randomWalk(new RandomWalkGraph(affinity, pairs), scores, channels, {
      logSteps: 6,
      tolerance: 0,
    });
    expect(steps).toBe(64);
    for (let i = 0; i < dense.length; i++) expect(Math.abs(sparse[i] - dense[i])).toBeLessThan(1e-5);
    const argmax = (s: Float32Array) => confidentRegions(s, channels, { thresholds: -Infinity });
    expect(Array.from(argmax(sparse))).toEqual(Array.from(argmax(dense)));
  });

  it('randomWalkOp dispatches to the WsssRandomWalk kernel and matches randomWalk, without leaks', async () => {
    const rng = new Rng(6);
    const pairs = pairIndices(6, 9, 3);
    const affinity = Float32Array.from({ length: pairs.to.length }, () => 0.5 + 0.5 * rng.uniform());
    const scores = Float32Array.from({ length: 3 * 54 }, () => rng.uniform());
    const expected = randomWalk(new RandomWalkGraph(affinity, pairs), scores, 3, { logSteps: 5 }).scores;
    const a = tf.tensor2d(affinity, [pairs.offsets.length, pairs.from.length]);
    const s = tf.tensor2d(scores, [3, 54]);
    await expectNoLeaks(() => {
      const out = randomWalkOp(a, s, pairs, { logSteps: 5 });
      expect(Array.from(out.dataSync())).toEqual(Array.from(expected));
      return out;
    });
    expect(() => randomWalkOp(a, tf.zeros([3, 50]) as tf.Tensor2D, pairs)).toThrow(
      /scores must be \[channels, 54\]/,
    );
    tf.dispose([a, s]);
  });

  it('stops early once the scores settle', () => {
    const rng = new Rng(3);
    const pairs = pairIndices(8, 10, 3);
    const affinity = Float32Array.from({ length: pairs.to.length }, () => 0.95 + 0.05 * rng.uniform());
    const scores = Float32Array.from({ length: 2 * 80 }, () => rng.uniform());
    const graph = new RandomWalkGraph(affinity, pairs);
    const full = randomWalk(graph, scores, 2, { logSteps: 10, tolerance: 0 });
    const early = randomWalk(graph, scores, 2, { logSteps: 10, tolerance: 1e-6 });
    expect(early.steps).toBeLessThan(1024);
    for (let i = 0; i < full.scores.length; i++)
      expect(Math.abs(early.scores[i] - full.scores[i])).toBeLessThan(1e-4);
  });

  it('confidentRegions keeps pixels above their class threshold', () => {
    const scores = new Float32Array([0.9, 0.2, 0.1, 0.1, 0.5, 0.3]); // 2 channels x 3 pixels
    expect(Array.from(confidentRegions(scores, 2, { thresholds: [0.8, 0.4] }))).toEqual([0, 1, 255]);
    expect(Array.from(confidentRegions(scores, 2, { thresholds: 0.35, classValues: [0, 7] }))).toEqual([
      0, 7, 255,
    ]);
    expect(() => confidentRegions(scores, 2, { thresholds: [1, 2, 3] })).toThrow(
      /one value per channel \(2\)/,
    );
    expect(() =>
      randomWalk(new RandomWalkGraph(new Float32Array(34), pairIndices(5, 9, 5)), new Float32Array(3), 2),
    ).toThrow(/scores must be \[channels x N\] = 2 x 45/);
  });
});
