import { Rng, tf } from '@wsss/core';
import { expectGradientsMatch, expectNoLeaks } from '@wsss/core/testing';
import {
  bcdCentreLoss,
  centroidCosineSimilarity,
  LabelReassignLoss,
  labelReassignLoss,
  labelReassignModulation,
  tripletCenterLoss,
  weightedCentroids,
} from '@wsss/label-reassign';

// 1 x 1 x 3 image, 2-D embeddings: pixels 0 and 1 labelled 0 (background), pixel 2 labelled 1
let embeddings: tf.Tensor4D;
let labels: tf.Tensor3D;
beforeAll(() => {
  embeddings = tf.tensor4d([1, 0, 0.6, 0.8, 0, 1], [1, 1, 3, 2]);
  labels = tf.tensor3d([0, 0, 1], [1, 1, 3], 'int32');
});

describe('weighted centroids (eq. 13)', () => {
  it('are confidence-weighted class means', () => {
    const c = weightedCentroids(
      tf.tensor2d([1, 0, 0, 1, 5, 5], [3, 2]),
      tf.tensor2d([3, 0, 1, 0, 0, 1], [3, 2]),
    );
    expect(Array.from(c.dataSync())).toEqual([0.75, 0.25, 5, 5]);
  });
});

describe('labelReassignLoss', () => {
  it('matches a hand computation (reassignment, alpha, bg/fg means)', () => {
    // uniform beta: c_0 = mean(p0, p1) = (0.8, 0.4), c_1 = (0, 1); cosines:
    const c0 = [0.8, 0.4].map((v) => v / Math.hypot(0.8, 0.4));
    const cos = (a: number[], b: number[]) => a[0] * b[0] + a[1] * b[1];
    const pts = [
      [1, 0],
      [0.6, 0.8],
      [0, 1],
    ];
    const s = pts.map((p) => [cos(p, c0), cos(p, [0, 1])]);
    // reassignment: pixel 1 (labelled 0) is nearer c_1 (0.8 > 0.894?) -> compute generally
    const expected = (ownTerm: number) => {
      let bg = 0;
      let bgCount = 0;
      let fg = 0;
      let fgCount = 0;
      for (const [a, b] of s) {
        const [si, sj, i] = a >= b ? [a, b, 0] : [b, a, 1];
        const alpha = (1 - (si - sj) / (si + sj)) ** 2;
        // the sum over j = 1..N of eqs. 14-15: the other centroid, and j = i (hinge n = 1)
        const l = alpha * (Math.max(0, 1 + sj - si) + ownTerm);
        if (i === 0) {
          bg += l;
          bgCount++;
        } else {
          fg += l;
          fgCount++;
        }
      }
      return bg / bgCount + fg / fgCount;
    };
    const loss = (options: { includeAssignedCentroid?: boolean }) =>
      labelReassignLoss(embeddings, labels, undefined, { confidence: 'uniform', ...options }).dataSync()[0];
    expect(loss({})).toBeCloseTo(expected(1), 5);
    expect(loss({ includeAssignedCentroid: false })).toBeCloseTo(expected(0), 5);
    expect(expected(1) - expected(0)).toBeGreaterThan(0.1); // the two forms differ here
  });

  it('with gamma = 0 and label assignment equals the triplet-center loss summed over other centres', () => {
    const rng = new Rng(4);
    const e = tf.tensor4d(
      Float32Array.from({ length: 5 * 6 * 8 }, () => rng.normal()),
      [1, 5, 6, 8],
    );
    const l = tf.tensor3d(
      Int32Array.from({ length: 30 }, (_, i) => [0, 3, 7, 255][i % 4]),
      [1, 5, 6],
      'int32',
    );
    const lr = (includeAssignedCentroid: boolean) =>
      labelReassignLoss(e, l, undefined, {
        gamma: 0,
        assignment: 'label',
        balance: false,
        confidence: 'uniform',
        margin: 0.4,
        includeAssignedCentroid,
      }).dataSync()[0];
    const tc = tripletCenterLoss(e, l, { negatives: 'all', margin: 0.4 }).dataSync()[0];
    expect(lr(false)).toBeCloseTo(tc, 5);
    expect(lr(false)).toBeGreaterThan(0);
    // with j = i in the sum (eqs. 14-15 as written), every pixel adds the margin: one mean over the pixels, + 0.4
    expect(lr(true)).toBeCloseTo(tc + 0.4, 5);
  });

  it("bounds alpha to [0, 1]: 'label' assignment with gamma > 0 stays below gamma = 0 (was 1e10 on normal input)", () => {
    const rng = new Rng(21);
    const e = tf.tensor4d(
      Float32Array.from({ length: 2 * 8 * 8 * 16 }, () => rng.normal()),
      [2, 8, 8, 16],
    );
    const l = tf.tensor3d(
      Int32Array.from({ length: 128 }, () => [0, 5, 9][Math.floor(rng.uniform() * 3)]),
      [2, 8, 8],
      'int32',
    );
    for (const includeAssignedCentroid of [true, false]) {
      const loss = (gamma: number) =>
        labelReassignLoss(e, l, undefined, {
          gamma,
          assignment: 'label',
          confidence: 'uniform',
          includeAssignedCentroid,
        }).dataSync()[0];
      const modulated = loss(2);
      expect(Number.isFinite(modulated)).toBe(true);
      expect(modulated).toBeGreaterThan(0);
      expect(modulated).toBeLessThanOrEqual(loss(0) + 1e-6); // alpha <= 1 pixel by pixel
    }
    // by hand: pixel 1 (labelled 1) is nearer c_0, so eq. 16's base exceeds 1 and is clipped to alpha = 1
    const x = tf.tensor4d([1, 0, 0.9, 0.1, 0, 1], [1, 1, 3, 2]);
    const y = tf.tensor3d([0, 1, 1], [1, 1, 3], 'int32');
    const options = { assignment: 'label', confidence: 'uniform', balance: false } as const;
    const c0 = [1, 0];
    const c1 = [0.45 / Math.hypot(0.45, 0.55), 0.55 / Math.hypot(0.45, 0.55)];
    const cos = (a: number[], b: number[]) => (a[0] * b[0] + a[1] * b[1]) / Math.hypot(a[0], a[1]);
    const terms = [
      [1, 0],
      [0.9, 0.1],
      [0, 1],
    ].map((p, i) => {
      const [own, other] = i === 0 ? [cos(p, c0), cos(p, c1)] : [cos(p, c1), cos(p, c0)];
      const base = Math.min(1, Math.max(0, 1 - (own - other) / (own + other)));
      return base ** 2 * (Math.max(0, 1 + other - own) + 1);
    });
    expect(labelReassignLoss(x, y, undefined, options).dataSync()[0]).toBeCloseTo(
      (terms[0] + terms[1] + terms[2]) / 3,
      5,
    );
    tf.dispose([e, l, x, y]);
  });

  it('weights centroids by the predicted probability of the label', () => {
    // beta of pixel 0 = 0.9, pixel 1 = 0.1 pulls c_0 towards pixel 0
    const probs = tf.tensor4d([0.9, 0.1, 0.1, 0.9, 0.2, 0.8], [1, 1, 3, 2]);
    const weighted = labelReassignLoss(embeddings, labels, probs, {
      gamma: 0,
      assignment: 'label',
    }).dataSync()[0];
    const uniform = labelReassignLoss(embeddings, labels, undefined, {
      gamma: 0,
      assignment: 'label',
      confidence: 'uniform',
    }).dataSync()[0];
    expect(weighted).not.toBeCloseTo(uniform, 3);
    expect(() => labelReassignLoss(embeddings, labels, undefined)).toThrow(
      /probabilities must be \[1, 1, 3, C\]/,
    );
    expect(() =>
      labelReassignLoss(embeddings, tf.zeros([1, 1, 2], 'int32') as tf.Tensor3D, undefined),
    ).toThrow(/labels must be \[1, 1, 3\] like embeddings/);
  });

  it('images with fewer than two classes contribute nothing', () => {
    const single = tf.tensor3d([0, 0, 255], [1, 1, 3], 'int32');
    expect(labelReassignLoss(embeddings, single, undefined, { confidence: 'uniform' }).dataSync()[0]).toBe(0);
  });
});

describe('gradients and leaks', () => {
  const rng = new Rng(9);
  const eValues = Float32Array.from({ length: 2 * 4 * 5 * 6 }, () => rng.normal());
  const pValues = Float32Array.from({ length: 40 * 3 }, () => rng.normal());
  let e: tf.Tensor4D;
  let l: tf.Tensor3D;
  let p: tf.Tensor4D;
  beforeAll(() => {
    e = tf.tensor4d(eValues, [2, 4, 5, 6]);
    l = tf.tensor3d(
      Int32Array.from({ length: 40 }, (_, i) => [0, 1, 2, 255, 0][(i * 3) % 5]),
      [2, 4, 5],
      'int32',
    );
    p = tf.softmax(tf.tensor4d(pValues, [2, 4, 5, 3])) as tf.Tensor4D;
  });
  const losses: [string, (x: tf.Tensor4D) => tf.Scalar][] = [
    ['LR', (x) => new LabelReassignLoss({ margin: 0.5 }).call(x, l, p)],
    ['LR gamma 0', (x) => labelReassignLoss(x, l, p, { gamma: 0 })],
    ['LR without j = i', (x) => labelReassignLoss(x, l, p, { includeAssignedCentroid: false })],
    ["LR 'label' assignment", (x) => labelReassignLoss(x, l, p, { assignment: 'label' })],
    ['triplet-center hardest', (x) => tripletCenterLoss(x, l, { margin: 0.5 })],
    ['triplet-center all', (x) => tripletCenterLoss(x, l, { negatives: 'all' })],
    ['BCD', (x) => bcdCentreLoss(x, l)],
  ];
  // eps 1e-3: the reassignment is piecewise (a pixel's nearest centroid can switch under a larger step)
  it.each(losses)('%s: finite differences agree with tf.grad, no tensor leaks', async (_name, loss) => {
    expectGradientsMatch((t) => loss(t as tf.Tensor4D), e, { eps: 1e-3, tolerance: 1e-2 });
    await expectNoLeaks(() => tf.tidy(() => tf.grad((t) => loss(t as tf.Tensor4D))(e)));
  });
});

describe('fused WebAssembly similarity vs tf ops', () => {
  it('centroid cosine similarity, triplet-center and LR agree in value and gradient', () => {
    const rng = new Rng(12);
    const x = tf.tensor4d(
      Float32Array.from({ length: 2 * 5 * 4 * 7 }, () => rng.normal()),
      [2, 5, 4, 7],
    );
    const l = tf.tensor3d(
      Int32Array.from({ length: 40 }, (_, i) => [0, 1, 2, 255, 4][(i * 7) % 5]),
      [2, 5, 4],
      'int32',
    );
    const p = tf.softmax(
      tf.tensor4d(
        Float32Array.from({ length: 40 * 5 }, () => rng.normal()),
        [2, 5, 4, 5],
      ),
    ) as tf.Tensor4D;
    const weights = Float32Array.from({ length: 40 * 3 }, (_, i) =>
      i % 3 === (i / 3) % 3 ? 0.2 + 0.7 * rng.uniform() : 0,
    );
    const r = tf.tensor2d(
      Float32Array.from({ length: 120 }, () => rng.normal()),
      [40, 3],
    );
    const variants: ((t: tf.Tensor4D, implementation: 'fused' | 'ops') => tf.Scalar)[] = [
      (t, implementation) =>
        tf.sum(
          tf.mul(
            centroidCosineSimilarity(tf.reshape(t, [40, 7]) as tf.Tensor2D, weights, 3, { implementation }),
            r,
          ),
        ),
      (t, implementation) => tripletCenterLoss(t, l, { margin: 0.5, implementation }),
      (t, implementation) => labelReassignLoss(t, l, p, { margin: 0.5, implementation }),
    ];
    for (const loss of variants) {
      const run = (implementation: 'fused' | 'ops') =>
        tf.tidy(
          () =>
            [
              loss(x, implementation).dataSync()[0],
              tf
                .grad((t) => loss(t as tf.Tensor4D, implementation))(x)
                .dataSync(),
            ] as const,
        );
      const [fusedValue, fusedGrad] = run('fused');
      const [opsValue, opsGrad] = run('ops');
      expect(fusedValue).toBeCloseTo(opsValue, 4);
      for (let i = 0; i < opsGrad.length; i++)
        expect(Math.abs(fusedGrad[i] - opsGrad[i])).toBeLessThan(1e-4 * (1 + Math.abs(opsGrad[i])));
    }
  });
});

describe('bcdCentreLoss', () => {
  it('is pixel spread plus centre similarity', () => {
    // two classes, each a single direction: pixel term 0; centres orthogonal: 0.5 (1 + 0) = 0.5
    const e = tf.tensor4d([1, 0, 1, 0, 0, 1], [1, 1, 3, 2]);
    expect(bcdCentreLoss(e, labels).dataSync()[0]).toBeCloseTo(0.5, 5);
  });
});

describe('labelReassignLoss on the device (tf ops, nothing read back)', () => {
  it('equals the host path in value and gradient for every option, ignored pixels and a one-class image', () => {
    const rng = new Rng(21);
    const [b, h, w, d, c] = [3, 4, 5, 6, 5];
    const x = tf.tensor4d(
      Float32Array.from({ length: b * h * w * d }, () => rng.normal()),
      [b, h, w, d],
    );
    // image 0: classes 0, 1, 3 and ignored pixels; image 1: 0, 2, 4; image 2: class 1 only (skipped by the loss)
    const values = Int32Array.from({ length: b * h * w }, (_, i) => {
      const img = Math.floor(i / (h * w));
      if (img === 2) return 1;
      return img === 0 ? [0, 1, 3, 255][i % 4] : [0, 2, 4][i % 3];
    });
    const l = tf.tensor3d(values, [b, h, w], 'int32');
    const p = tf.softmax(
      tf.tensor4d(
        Float32Array.from({ length: b * h * w * c }, () => rng.normal()),
        [b, h, w, c],
      ),
    ) as tf.Tensor4D;
    const variants = [
      {},
      { gamma: 0 },
      { gamma: 5, margin: 0.3 },
      { assignment: 'label' as const },
      { includeAssignedCentroid: false },
      { balance: false },
      { backgroundIndex: 2 },
      { confidence: 'uniform' as const, numClasses: c },
    ];
    for (const options of variants) {
      const run = (implementation: 'fused' | 'ops') =>
        tf.tidy(() => {
          const probabilities = options.confidence === 'uniform' ? undefined : p;
          const f = (t: tf.Tensor) =>
            labelReassignLoss(t as tf.Tensor4D, l, probabilities, { ...options, implementation });
          return [f(x).dataSync()[0], tf.grad(f)(x).dataSync()] as const;
        });
      const [hostValue, hostGrad] = run('fused');
      const [deviceValue, deviceGrad] = run('ops');
      expect(hostValue).toBeGreaterThan(0);
      expect(deviceValue).toBeCloseTo(hostValue, 5);
      for (let i = 0; i < hostGrad.length; i++)
        expect(Math.abs(hostGrad[i] - deviceGrad[i])).toBeLessThan(1e-5 * (1 + Math.abs(hostGrad[i])));
    }
    // beta is a weight, not trained: no gradient reaches the probabilities
    const g = tf.grad((q: tf.Tensor) => labelReassignLoss(x, l, q as tf.Tensor4D, { implementation: 'ops' }))(
      p,
    );
    expect(Array.from(g.dataSync()).every((v) => v === 0)).toBe(true);
    // one class per image everywhere: 0, as the host path
    const single = tf.zerosLike(l) as tf.Tensor3D;
    expect(labelReassignLoss(x, single, p, { implementation: 'ops' }).dataSync()[0]).toBe(0);
    expect(() =>
      labelReassignLoss(x, l, undefined, { confidence: 'uniform', implementation: 'ops' }),
    ).toThrow(/needs the number of classes: pass probabilities \[B, H, W, C\] or options.numClasses/);
    tf.dispose([x, l, p, g, single]);
  });
});

describe('the modulation alpha (eq. 16) for 0 < gamma < 1', () => {
  it('keeps the gradient finite where alpha is 0 (it was NaN: the power of a 0 base), on both paths', () => {
    const rng = new Rng(5);
    // random embeddings: many pixels have a negative similarity to their second centroid, so 1 - (si - sj) / (si + sj)
    // clips to 0 there
    const x = tf.tensor4d(
      Float32Array.from({ length: 2 * 4 * 4 * 3 }, () => rng.normal()),
      [2, 4, 4, 3],
    );
    const l = tf.tensor3d(
      Int32Array.from({ length: 32 }, (_, i) => i % 3),
      [2, 4, 4],
      'int32',
    );
    const p = tf.softmax(
      tf.tensor4d(
        Float32Array.from({ length: 32 * 3 }, () => rng.normal()),
        [2, 4, 4, 3],
      ),
    ) as tf.Tensor4D;
    for (const implementation of ['fused', 'ops'] as const) {
      for (const gamma of [0.5, 1]) {
        const f = (t: tf.Tensor) => labelReassignLoss(t as tf.Tensor4D, l, p, { gamma, implementation });
        const value = f(x).dataSync()[0];
        const grad = tf.grad(f)(x);
        expect(Number.isFinite(value)).toBe(true);
        expect(Array.from(grad.dataSync()).every(Number.isFinite)).toBe(true);
        grad.dispose();
      }
    }
    // the value where alpha is 0 and where it is not: as the formula, clip(...)^gamma
    const si = tf.tensor1d([0.8, 0.5, 0.4]);
    const sj = tf.tensor1d([-0.1, 0.3, 0.4]);
    const alpha = labelReassignModulation(si, sj, 0.5).dataSync();
    expect(alpha[0]).toBe(0); // 1 - 0.9 / 0.7 < 0
    expect(alpha[1]).toBeCloseTo(Math.sqrt(1 - 0.2 / 0.8), 6);
    expect(alpha[2]).toBeCloseTo(1, 6);
    tf.dispose([x, l, p, si, sj]);
  });
});
