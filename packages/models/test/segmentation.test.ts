import { MOBILENET_NORMALIZATION, selectBackend, tf } from '@wsss/core';
import { expectGradientsMatch, expectNoLeaks } from '@wsss/core/testing';
import {
  AsppHead,
  DilatedConvHead,
  MobileNetV2,
  SegmentationNetwork,
  segmentationCrossEntropy,
  trainLoop,
} from '@wsss/models';

describe('segmentationCrossEntropy', () => {
  it('is the mean -log softmax over the pixels that are not ignored (hand-computed)', () => {
    // two pixels, three classes: pixel 0 is class 2, pixel 1 is ignored
    const logits = tf.tensor4d([1, 2, 3, 5, 0, 0], [1, 1, 2, 3]);
    const loss = segmentationCrossEntropy(logits, tf.tensor3d([2, 255], [1, 1, 2], 'int32'));
    const expected = -(3 - Math.log(Math.exp(1) + Math.exp(2) + Math.exp(3)));
    expect(loss.dataSync()[0]).toBeCloseTo(expected, 5);
    expect(segmentationCrossEntropy(logits, tf.tensor3d([255, 255], [1, 1, 2], 'int32')).dataSync()[0]).toBe(
      0,
    );
    // labels at twice the resolution: logits upsampled; a constant map upsamples to itself
    const flat = tf.tensor4d([0, 0, Math.log(3)], [1, 1, 1, 3]);
    const up = segmentationCrossEntropy(flat, tf.tensor3d([0, 1, 2, 255], [1, 2, 2], 'int32')).dataSync()[0];
    const p = [1, 1, 3].map((v) => v / 5);
    expect(up).toBeCloseTo(-(Math.log(p[0]) + Math.log(p[1]) + Math.log(p[2])) / 3, 5);
    expect(() => segmentationCrossEntropy(logits, tf.zeros([2, 1, 2], 'int32') as tf.Tensor3D)).toThrow(
      /logits must be \[B, h, w, C\] and labels \[B, H, W\]/,
    );
  });

  it('has the gradient of finite differences (upsampled logits)', () => {
    const labels = tf.tensor3d(
      Int32Array.from({ length: 36 }, (_, i) => (i % 7 === 0 ? 255 : i % 3)),
      [1, 6, 6],
      'int32',
    );
    const logits = tf.randomNormal([1, 3, 3, 3], 0, 1, 'float32', 4) as tf.Tensor4D;
    expectGradientsMatch((x) => segmentationCrossEntropy(x as tf.Tensor4D, labels), logits, {
      eps: 1e-3,
      tolerance: 1e-2,
    });
  });
});

describe('AsppHead', () => {
  it('maps features to logits at their resolution, differentiably, without leaks', async () => {
    const head = new AsppHead(8, 5, { channels: 4, rates: [1, 2] });
    const x = tf.randomNormal([2, 6, 5, 8], 0, 1, 'float32', 1) as tf.Tensor4D;
    expect(head.forward(x).shape).toEqual([2, 6, 5, 5]);
    const kernel = head.params.get('aspp/branch1/kernel');
    expectGradientsMatch(
      (k) => {
        const saved = kernel.clone();
        kernel.assign(k as tf.Variable);
        const value = tf.sum(tf.square(head.forward(x)));
        kernel.assign(saved);
        saved.dispose();
        return value as tf.Scalar;
      },
      kernel,
      { eps: 1e-2, tolerance: 2e-2, indices: [0, 7, 40, 100] },
    );
    await expectNoLeaks(() => tf.tidy(() => tf.grad((f) => tf.sum(head.forward(f as tf.Tensor4D)))(x)));
    expect(() => head.forward(tf.zeros([1, 2, 2, 3]) as tf.Tensor4D)).toThrow(
      /features must be \[B, h, w, 8\]/,
    );
    head.dispose();
  });
});

describe('SegmentationNetwork', () => {
  beforeAll(() => selectBackend({ preference: 'wasm', log: null }));
  afterAll(() => selectBackend({ preference: 'cpu', log: null }));
  const S = 32; // output stride 8: 4 x 4 features
  const make = () =>
    new SegmentationNetwork(
      new MobileNetV2({ outputStride: 8, widthMultiplier: 0.35, seed: 2 }),
      3,
      new DilatedConvHead(1280, 3, { hiddenChannels: 16, dilation: 2, seed: 2 }),
    );
  // S x S images of horizontal bands (unchanged by a horizontal flip): background, class 1 (red), class 2 (blue)
  const classAt = (i: number) => {
    const row = Math.floor(i / S) % S;
    return row < S / 4 ? 0 : row < (5 * S) / 8 ? 1 : 2;
  };
  const batch = () => {
    const pixels = new Float32Array(2 * S * S * 3);
    const labels = new Int32Array(2 * S * S);
    for (let i = 0; i < 2 * S * S; i++) {
      const cls = classAt(i);
      labels[i] = cls;
      pixels.set(cls === 0 ? [0, 0, 0] : cls === 1 ? [1, -1, -1] : [-1, -1, 1], 3 * i);
    }
    return { images: tf.tensor4d(pixels, [2, S, S, 3]), masks: tf.tensor3d(labels, [2, S, S], 'int32') };
  };

  it('trains with cross-entropy and predicts full-resolution probabilities (multi-scale + flip)', async () => {
    const net = make();
    async function* batches() {
      for (let i = 0; i < 4; i++) yield batch();
    }
    const { epochLosses } = await trainLoop({
      parameters: net.parameterSets(),
      loss: (b: ReturnType<typeof batch>) =>
        segmentationCrossEntropy(net.forward(b.images, { training: true }), b.masks),
      batches: () => batches(),
      batchesPerEpoch: 4,
      epochs: 12,
      optimizer: { kind: 'adam', learningRate: 3e-3 },
    });
    expect(epochLosses[11]).toBeLessThan(epochLosses[0] * 0.5);
    const image = { width: S, height: S, channels: 3 as const, data: new Uint8Array(S * S * 3) };
    for (let i = 0; i < S * S; i++) {
      const cls = classAt(i);
      image.data.set(cls === 0 ? [128, 128, 128] : cls === 1 ? [255, 0, 0] : [0, 0, 255], 3 * i);
    }
    expect(net.backbone.normalization).toEqual(MOBILENET_NORMALIZATION);
    await expectNoLeaks(() => tf.dispose(net.predict(image, { scales: [0.75, 1], flip: true })));
    const p = net.predict(image, { scales: [0.75, 1], flip: true });
    expect(p.shape).toEqual([S, S, 3]);
    const sums = tf.sum(p, 2).dataSync();
    sums.forEach((s) => {
      expect(s).toBeCloseTo(1, 4);
    });
    const labels = tf.argMax(p, 2).dataSync();
    const right = labels.filter((l, i) => l === classAt(i)).length;
    expect(right / (S * S)).toBeGreaterThan(0.8);
    p.dispose();
    net.dispose();
  });

  it('one training step gives the same loss and gradients on cpu and wasm', async () => {
    const results: { loss: number; grads: Float32Array[] }[] = [];
    for (const backend of ['cpu', 'wasm'] as const) {
      await selectBackend({ preference: backend, log: null });
      const net = make();
      const { images, masks } = batch();
      const variables = [...net.backbone.params.trainable().slice(0, 3), ...net.head.params.trainable()];
      const { value, grads } = tf.variableGrads(
        () => segmentationCrossEntropy(net.forward(images, { training: true }), masks),
        variables,
      );
      results.push({
        loss: value.dataSync()[0],
        grads: variables.map((v) => grads[v.name].dataSync() as Float32Array),
      });
      tf.dispose([value, images, masks, ...Object.values(grads)]);
      net.dispose();
    }
    await selectBackend({ preference: 'cpu', log: null });
    expect(results[1].loss).toBeCloseTo(results[0].loss, 4);
    results[0].grads.forEach((g, k) => {
      let worst = 0;
      let scale = 0;
      g.forEach((v, i) => {
        worst = Math.max(worst, Math.abs(v - results[1].grads[k][i]));
        scale = Math.max(scale, Math.abs(v));
      });
      expect(worst).toBeLessThanOrEqual(1e-4 * Math.max(1, scale));
    });
  });
});

describe('segmentationCrossEntropy balanceClass', () => {
  it("balanceClass gives RRM's cross-entropy: mean over background plus mean over foreground pixels", () => {
    // uniform logits: each mean is log(C); 255 is ignored
    const logits = tf.zeros([1, 2, 2, 3]) as tf.Tensor4D;
    const both = tf.tensor3d([0, 0, 2, 255], [1, 2, 2], 'int32');
    const backgroundOnly = tf.tensor3d([0, 0, 0, 255], [1, 2, 2], 'int32');
    expect(segmentationCrossEntropy(logits, both, { balanceClass: 0 }).dataSync()[0]).toBeCloseTo(
      2 * Math.log(3),
      5,
    );
    expect(segmentationCrossEntropy(logits, backgroundOnly, { balanceClass: 0 }).dataSync()[0]).toBeCloseTo(
      Math.log(3),
      5,
    );
    // a confident right background pixel leaves the foreground mean alone
    const skewed = tf.tensor4d([10, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0], [1, 2, 2, 3]);
    const value = segmentationCrossEntropy(skewed, both, { balanceClass: 0 }).dataSync()[0];
    const bgMean = (-Math.log(Math.exp(10) / (Math.exp(10) + 2)) + Math.log(3)) / 2;
    expect(value).toBeCloseTo(bgMean + Math.log(3), 4);
    tf.dispose([logits, both, backgroundOnly, skewed]);
  });
});
