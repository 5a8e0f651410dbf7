import { mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Rng, selectBackend, tf } from '@wsss/core';
import { expectNoLeaks } from '@wsss/core/testing';
import {
  bestImageNetClassPerVocClass,
  ClassifierHead,
  DilatedConvHead,
  IMAGENET_1001_TO_VOC,
  loadWeights,
  MobileNetV2,
  multilabelSoftMarginLoss,
  Optimizer,
  saveWeights,
  trainClassifier,
  vocProbabilitiesFromImageNet,
} from '@wsss/models';

const close = (a: ArrayLike<number>, b: ArrayLike<number>, tol = 1e-5) => {
  expect(a.length).toBe(b.length);
  for (let i = 0; i < a.length; i++) expect(Math.abs(a[i] - b[i])).toBeLessThan(tol);
};

describe('heads and loss', () => {
  it('computes the multi-label soft-margin loss by hand and checks shapes', () => {
    // x = [0, 2], y = [1, 0]: mean(log(1+e^0), log(1+e^2)) = (0.693147 + 2.126928) / 2
    const loss = multilabelSoftMarginLoss(tf.tensor2d([[0, 2]]), tf.tensor2d([[1, 0]]));
    expect(loss.dataSync()[0]).toBeCloseTo((Math.log(2) + Math.log(1 + Math.exp(2))) / 2, 6);
    expect(() =>
      multilabelSoftMarginLoss(tf.zeros([2, 3]) as tf.Tensor2D, tf.zeros([2, 2]) as tf.Tensor2D),
    ).toThrow(/logits \[2,3\] and labels \[2,2\] must both be \[B, C\]/);
  });

  it('has a finite-difference-correct gradient', () => {
    const x = tf.tensor2d([[0.3, -1.2, 2.0]]);
    const y = tf.tensor2d([[1, 0, 1]]);
    const g = tf
      .grad((t: tf.Tensor) => multilabelSoftMarginLoss(t as tf.Tensor2D, y))(x)
      .dataSync();
    const xv = x.dataSync();
    for (let i = 0; i < 3; i++) {
      const f = (d: number) => {
        const v = Float32Array.from(xv);
        v[i] += d;
        return multilabelSoftMarginLoss(tf.tensor2d(v, [1, 3]), y).dataSync()[0];
      };
      expect(Math.abs((f(1e-2) - f(-1e-2)) / 2e-2 - g[i])).toBeLessThan(1e-3);
    }
  });

  it('classifier logits equal the spatial mean of its activation maps (the CAM identity)', () => {
    const head = new ClassifierHead(5, 3, { seed: 1 });
    const f = tf.randomNormal([2, 4, 3, 5], 0, 1, 'float32', 2) as tf.Tensor4D;
    close(head.forward(f).dataSync(), tf.mean(head.activationMaps(f), [1, 2]).dataSync(), 1e-5);
    expect(() => head.forward(tf.zeros([1, 2, 2, 4]) as tf.Tensor4D)).toThrow(
      /features must be \[B, h, w, 5\], got \[1,2,2,4\]/,
    );
    head.dispose();
  });

  it('dilated head keeps the spatial size (RRM segmentation branch shape, digest item 13)', () => {
    const seg = new DilatedConvHead(16, 21, { hiddenChannels: 8, dilation: 12 });
    expect(seg.forward(tf.zeros([2, 41, 41, 16]) as tf.Tensor4D).shape).toEqual([2, 41, 41, 21]);
    const sal = new DilatedConvHead(16, 1, { hiddenChannels: 8, name: 'sal' });
    expect([...sal.params.variables.keys()]).toEqual([
      'sal/conv1/kernel',
      'sal/conv1/bias',
      'sal/conv2/kernel',
      'sal/conv2/bias',
    ]);
    seg.dispose();
    sal.dispose();
  });

  it('dilated head returns its embedding F^s (the last ReLU features) with the logits, leaking nothing', () => {
    const head = new DilatedConvHead(4, 3, { hiddenChannels: 5, dilation: 2, seed: 3 });
    const f = tf.randomNormal([1, 6, 6, 4], 0, 1, 'float32', 4) as tf.Tensor4D;
    const before = tf.memory().numTensors;
    const { embedding, logits } = head.forwardWithEmbedding(f);
    expect(embedding.shape).toEqual([1, 6, 6, 5]);
    expect(Math.min(...embedding.dataSync())).toBeGreaterThanOrEqual(0);
    // the logits are the last convolution of the embedding
    const again = tf.tidy(() =>
      tf.add(
        tf.conv2d(embedding, head.params.get('seg/conv2/kernel') as tf.Tensor4D, 1, 'same', 'NHWC', 2),
        head.params.get('seg/conv2/bias'),
      ),
    );
    close(logits.dataSync(), again.dataSync(), 1e-5);
    const direct = head.forward(f);
    close(direct.dataSync(), logits.dataSync(), 1e-7);
    tf.dispose([embedding, logits, again, direct]);
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose(f);
    head.dispose();
  });

  it('maps ImageNet probabilities onto VOC classes', () => {
    const logits = new Float32Array(1001).fill(-10);
    logits[IMAGENET_1001_TO_VOC.cat[4]] = 5; // Egyptian cat
    logits[IMAGENET_1001_TO_VOC.dog[0]] = 5;
    const p = vocProbabilitiesFromImageNet(logits);
    expect(p[7]).toBeCloseTo(0.5, 2); // cat
    expect(p[11]).toBeCloseTo(0.5, 2); // dog
    expect(p[14]).toBe(0); // person: no ImageNet class
    expect(bestImageNetClassPerVocClass(logits)[7]).toBe(IMAGENET_1001_TO_VOC.cat[4]);
  });

  it('MobileNetV2 width multipliers build the published channel counts', () => {
    const small = new MobileNetV2({ widthMultiplier: 0.35 });
    expect(small.params.get('MobilenetV2/Conv/kernel').shape).toEqual([3, 3, 3, 16]);
    expect(small.params.get('MobilenetV2/expanded_conv_16/project/kernel').shape).toEqual([1, 1, 336, 112]);
    expect(small.featureChannels).toBe(1280);
    small.dispose();
  });
});

describe('Optimizer', () => {
  it('does SGD with momentum, weight decay and poly decay by hand', () => {
    const w = tf.variable(tf.tensor1d([1, -2]));
    const opt = new Optimizer([{ variables: [w], lrMultiplier: 2 }], {
      kind: 'sgd',
      learningRate: 0.1,
      momentum: 0.5,
      weightDecay: 0.1,
      maxSteps: 4,
      polyPower: 1,
    });
    const grad = () => ({ [w.name]: tf.tensor1d([1, 1]) });
    // step 0: lr = 0.1 * 2; g' = g + 0.1 w = [1.1, 0.8]; v = g'; w = [1 - .22, -2 - .16]
    opt.apply(grad());
    close(w.dataSync(), [0.78, -2.16]);
    // step 1: lr = 0.1 * (1 - 1/4) * 2 = 0.15; g' = [1.078, 0.784]; v = 0.5 v + g' = [1.628, 1.184]
    opt.apply(grad());
    close(w.dataSync(), [0.78 - 0.15 * 1.628, -2.16 - 0.15 * 1.184]);
    expect(opt.learningRate()).toBeCloseTo(0.05, 8);
    opt.dispose();
    w.dispose();
  });

  it('does Adam with bias correction by hand', () => {
    const w = tf.variable(tf.tensor1d([0.5]));
    const opt = new Optimizer([{ variables: [w] }], { kind: 'adam', learningRate: 0.1 });
    opt.apply({ [w.name]: tf.tensor1d([2]) });
    // m̂ = 2, ŝ = 4 -> step = 0.1 * 2 / (2 + 1e-8)
    close(w.dataSync(), [0.4], 1e-6);
    opt.dispose();
    w.dispose();
  });
});

describe('weights manifest I/O', () => {
  it('round-trips tensors and metadata atomically, and explains bad locations', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'wsss-weights-'));
    await saveWeights(dir, { 'a/kernel': tf.tensor2d([[1, 2]]), b: tf.tensor1d([3], 'int32') }, { step: 7 });
    expect(readdirSync(dir).sort()).toEqual(['model.json', 'weights.bin']);
    // the next save writes the other binary, so a kill before its manifest is in place leaves the old pair intact
    await saveWeights(dir, { 'a/kernel': tf.tensor2d([[5, 6]]), b: tf.tensor1d([8], 'int32') }, { step: 9 });
    expect(readdirSync(dir).sort()).toEqual(['model.json', 'weights-b.bin']);
    // what a save killed between its binary and its manifest leaves: a stray binary next to the intact pair
    writeFileSync(join(dir, 'weights.bin'), new Uint8Array([1, 2, 3]));
    expect((await loadWeights(dir)).metadata.step).toBe(9);
    await saveWeights(dir, { 'a/kernel': tf.tensor2d([[1, 2]]), b: tf.tensor1d([3], 'int32') }, { step: 7 });
    expect(readdirSync(dir).sort()).toEqual(['model.json', 'weights.bin']);
    const { tensors, metadata } = await loadWeights(dir);
    expect(Array.from(tensors['a/kernel'].dataSync())).toEqual([1, 2]);
    expect(tensors.b.dtype).toBe('int32');
    expect(metadata.step).toBe(7);
    await expect(loadWeights(join(dir, 'missing'))).rejects.toThrow(
      /manifest not found: .*missing\/model\.json/,
    );
    const net = new MobileNetV2();
    expect(() =>
      net.params.load({ 'MobilenetV2/Conv/kernel': tf.zeros([3, 3, 3, 8]) }, { strict: false }),
    ).toThrow(/MobilenetV2\/Conv\/kernel has shape \[3,3,3,8\] in the weights, expected \[3,3,3,32\]/);
    expect(() => net.params.load({})).toThrow(/parameters missing from the weights/);
    net.dispose();
  });
});

describe('trainClassifier', () => {
  beforeAll(() => selectBackend({ preference: 'wasm', log: null }));
  afterAll(() => selectBackend({ preference: 'cpu', log: null }));

  /** A tiny separable problem: class c is present when channel c of the image is bright. */
  function makeBatches(n: number) {
    const rng = new Rng(3);
    const data = Array.from({ length: n }, () => {
      const labels = [rng.int(0, 2), rng.int(0, 2)];
      const img = new Float32Array(8 * 8 * 3).map(
        (_, i) => rng.normal(0, 0.3) + (i % 3 < 2 ? labels[i % 3] : 0),
      );
      return { img, labels };
    });
    return (_epoch: number, from: number) =>
      (async function* () {
        for (let b = from; b < n / 4; b++) {
          const slice = data.slice(b * 4, b * 4 + 4);
          yield {
            images: tf.tensor4d(
              slice.flatMap((d) => Array.from(d.img)),
              [4, 8, 8, 3],
            ),
            labels: tf.tensor2d(
              slice.flatMap((d) => d.labels),
              [4, 2],
            ),
          };
        }
      })();
  }
  const tinyBackbone = (seed: number) => {
    return new MobileNetV2({ widthMultiplier: 0.35, outputStride: 32, seed });
  };

  it('learns, checkpoints, and resumes to exactly the uninterrupted result', async () => {
    const options = (dir: string, epochs: number) => ({
      batches: makeBatches(16),
      batchesPerEpoch: 4,
      epochs,
      optimizer: { kind: 'sgd' as const, learningRate: 0.05, momentum: 0.9 },
      checkpointDir: dir,
      checkpointEvery: 2,
      progress: false as const,
    });
    // Uninterrupted: 3 epochs.
    const a = { backbone: tinyBackbone(1), head: new ClassifierHead(1280, 2, { seed: 1 }) };
    const full = await trainClassifier(a, options(mkdtempSync(join(tmpdir(), 'wsss-ckpt-')), 3));
    expect(full.steps).toBe(12);
    expect(full.epochLosses[2]).toBeLessThan(full.epochLosses[0]);
    // Interrupted after 1 epoch (same totalSteps via the same epochs), then resumed in a fresh model.
    const dir = mkdtempSync(join(tmpdir(), 'wsss-ckpt-'));
    const b1 = { backbone: tinyBackbone(1), head: new ClassifierHead(1280, 2, { seed: 1 }) };
    let stopAt = 0;
    await expect(
      trainClassifier(b1, {
        ...options(dir, 3),
        onStep: ({ step }) => {
          stopAt = step;
          if (step === 6) throw new Error('interrupted');
        },
      }),
    ).rejects.toThrow('interrupted');
    expect(stopAt).toBe(6);
    const b2 = { backbone: tinyBackbone(99), head: new ClassifierHead(1280, 2, { seed: 99 }) };
    const resumed = await trainClassifier(b2, options(dir, 3));
    expect(resumed.resumedFrom).toBe(4); // the checkpoint of step 4 (every 2 steps; step 6 threw before saving)
    expect(resumed.steps).toBe(12);
    close(b2.head.weights.dataSync(), a.head.weights.dataSync(), 1e-5);
    close(
      b2.backbone.params.get('MobilenetV2/Conv/kernel').dataSync(),
      a.backbone.params.get('MobilenetV2/Conv/kernel').dataSync(),
      1e-5,
    );
    for (const m of [a, b1, b2]) {
      m.backbone.dispose();
      m.head.dispose();
    }
  });

  it('keeps tensor counts flat across training steps', async () => {
    const model = { backbone: tinyBackbone(2), head: new ClassifierHead(1280, 2) };
    await trainClassifier(model, {
      batches: makeBatches(8),
      batchesPerEpoch: 2,
      epochs: 1,
      optimizer: { kind: 'adam', learningRate: 1e-3 },
      progress: false,
    });
    await expectNoLeaks(() =>
      trainClassifier(model, {
        batches: makeBatches(8),
        batchesPerEpoch: 2,
        epochs: 1,
        optimizer: { kind: 'adam', learningRate: 1e-3 },
        progress: false,
      }),
    );
    model.backbone.dispose();
    model.head.dispose();
  });
});
