import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { tf } from '@wsss/core';
import { expectNoLeaks } from '@wsss/core/testing';
import {
  type BackboneForwardOptions,
  ClassifierHead,
  Parameters,
  readCheckpointMetadata,
  trainClassifier,
  trainLoop,
} from '@wsss/models';

/** Batches of y = 3 x - 1 with a little noise-free structure: a linear model learns it exactly. */
async function* lineBatches(count: number) {
  for (let i = 0; i < count; i++) {
    const x = tf.tensor2d([i / 4, 1 - i / 8, 0.5, -0.25], [4, 1]);
    yield { x, y: tf.sub(tf.mul(x, 3), 1) as tf.Tensor2D };
  }
}

describe('trainLoop', () => {
  it('minimises any loss over batches, records config and data position in its checkpoints', async () => {
    const params = new Parameters();
    const w = params.create('w', [1, 1], { value: 0 });
    const b = params.create('b', [1], { value: 0 });
    const dir = mkdtempSync(join(tmpdir(), 'wsss-loop-'));
    const seen: number[] = [];
    const result = await trainLoop({
      parameters: [{ name: 'line', params }],
      loss: ({ x, y }: { x: tf.Tensor2D; y: tf.Tensor2D }) =>
        tf.mean(tf.square(tf.sub(tf.add(tf.matMul(x, w), b), y))) as tf.Scalar,
      batches: () => lineBatches(10),
      batchesPerEpoch: 10,
      epochs: 30,
      optimizer: { kind: 'adam', learningRate: 0.1, maxSteps: 0 },
      checkpointDir: dir,
      checkpointEvery: 7,
      metadata: { config: { lr: 0.1, note: 'resolved config' } },
      onStep: ({ step, totalSteps }) => {
        seen.push(step);
        expect(totalSteps).toBe(300);
      },
    });
    expect(result.steps).toBe(300);
    expect(seen).toHaveLength(300);
    expect(w.dataSync()[0]).toBeCloseTo(3, 1);
    expect(b.dataSync()[0]).toBeCloseTo(-1, 1);
    const meta = await readCheckpointMetadata(dir);
    expect(meta).toMatchObject({
      kind: 'wsss-train-checkpoint',
      step: 300,
      totalSteps: 300,
      position: { epoch: 30, batch: 0, lastEpoch: 29 },
      config: { lr: 0.1, note: 'resolved config' },
    });
    expect(await readCheckpointMetadata(join(dir, 'none'))).toBeUndefined();
    params.dispose();
  });

  it('runs the backbone in training mode, writes nothing to stderr by default, leaks nothing', async () => {
    // a one-convolution backbone that records the mode it is run in
    const params = new Parameters();
    const kernel = params.create('kernel', [3, 3, 3, 8], { value: 0.1 });
    const modes: (boolean | undefined)[] = [];
    const recording = {
      params,
      forward: (x: tf.Tensor4D, options?: BackboneForwardOptions) => {
        modes.push(options?.training);
        return { features: tf.relu(tf.conv2d(x, kernel as tf.Tensor4D, 2, 'same')) as tf.Tensor4D, taps: {} };
      },
    };
    const head = new ClassifierHead(8, 2, { seed: 1 });
    async function* batches() {
      for (let i = 0; i < 2; i++) {
        yield {
          images: tf.randomNormal([2, 16, 16, 3], 0, 1, 'float32', i) as tf.Tensor4D,
          labels: tf.tensor2d([1, 0, 0, 1], [2, 2]),
        };
      }
    }
    const written: string[] = [];
    const original = process.stderr.write.bind(process.stderr);
    process.stderr.write = ((chunk: string) => {
      written.push(String(chunk));
      return true;
    }) as typeof process.stderr.write;
    try {
      const options = {
        batches: () => batches(),
        batchesPerEpoch: 2,
        epochs: 1,
        optimizer: { kind: 'sgd' as const, learningRate: 0.01 },
      };
      await trainClassifier({ backbone: recording, head }, options);
      await expectNoLeaks(() => trainClassifier({ backbone: recording, head }, options));
    } finally {
      process.stderr.write = original;
    }
    expect(modes.length).toBeGreaterThanOrEqual(2);
    expect(modes.every((m) => m === true)).toBe(true);
    expect(written).toEqual([]);
    params.dispose();
    head.dispose();
  });

  it('names bad arguments', async () => {
    await expect(
      trainLoop({
        parameters: [],
        loss: () => tf.scalar(0),
        batches: () => lineBatches(1),
        batchesPerEpoch: 0,
        epochs: 1,
        optimizer: { kind: 'sgd', learningRate: 1 },
      }),
    ).rejects.toThrow(/batchesPerEpoch and epochs must be positive integers, got 0 and 1/);
  });
});

describe('trainLoop totalSteps', () => {
  it('stops part-way through the last epoch and decays the learning rate over those steps', async () => {
    const params = new Parameters();
    const w = params.create('w', [1, 1], { value: 0 });
    const rates: number[] = [];
    const result = await trainLoop({
      parameters: [{ name: 'p', params }],
      loss: ({ x }: { x: tf.Tensor2D }) => tf.sum(tf.matMul(x, w)) as tf.Scalar,
      batches: () =>
        (async function* () {
          for (let i = 0; i < 4; i++) yield { x: tf.ones([1, 1]) as tf.Tensor2D };
        })(),
      batchesPerEpoch: 4,
      epochs: 3,
      totalSteps: 10,
      optimizer: { kind: 'sgd', learningRate: 1, momentum: 0 },
      onStep: (s) => rates.push(s.learningRate),
    });
    expect(result.steps).toBe(10);
    expect(rates).toHaveLength(10);
    expect(rates[9]).toBeCloseTo((1 - 9 / 10) ** 0.9, 6); // poly decay over the 10 steps
    await expect(
      trainLoop({
        parameters: [{ name: 'p', params }],
        loss: () => tf.scalar(0),
        batches: () => (async function* () {})(),
        batchesPerEpoch: 4,
        epochs: 1,
        totalSteps: 5,
        optimizer: { kind: 'sgd', learningRate: 1 },
      }),
    ).rejects.toThrow(/totalSteps must be a positive integer of at most batchesPerEpoch x epochs = 4, got 5/);
    params.dispose();
  });
});
