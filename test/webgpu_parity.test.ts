/**
 * The same computations on webgpu and on cpu (small shapes): Node's `webgpu` package, on SwiftShader here and in CI,
 * skipped with a message where no adapter starts. Every value is read with `data()`: webgpu has no synchronous
 * readback in Node.
 */
import {
  adaptiveAffinityLoss,
  affinityFieldLoss,
  CrossTaskAffinity,
  pairAffinity,
  pairIndices,
  randomWalkOp,
  randomWalkOpAsync,
  standardAffinityLoss,
} from '@wsss/affinity';
import { crfScores, multiScaleCam } from '@wsss/cam';
import { selectBackend, tf } from '@wsss/core';
import { relativeError, startWebGpuForTests } from '@wsss/core/testing';
import { crfOnScores, denseCrfOp, denseCrfOpAsync } from '@wsss/crf';
import { createSyntheticDataset } from '@wsss/datasets';
import { labelReassignLoss } from '@wsss/label-reassign';
import { ClassifierHead, MobileNetV2, multilabelSoftMarginLoss } from '@wsss/models';

type Values = Float32Array | Int32Array | Uint8Array;

/** Runs `compute` on cpu, then on webgpu; returns both results (each a list of arrays) and the tensors left over. */
async function onCpuAndWebGpu(compute: () => Promise<Values[]>) {
  await selectBackend({ preference: 'cpu', log: null });
  const cpu = await compute();
  await selectBackend({ preference: 'webgpu', log: null });
  const before = tf.memory().numTensors;
  const gpu = await compute();
  const leaked = tf.memory().numTensors - before;
  await selectBackend({ preference: 'cpu', log: null });
  return { cpu, gpu, leaked };
}

const read = async (...ts: tf.Tensor[]): Promise<Values[]> => {
  const out = (await Promise.all(ts.map((t) => t.data()))) as Values[];
  tf.dispose(ts);
  return out;
};

let available = false;
beforeAll(async () => {
  available = await startWebGpuForTests();
  await selectBackend({ preference: 'cpu', log: null });
}, 120_000);
afterAll(() => selectBackend({ preference: 'cpu', log: null }));

const gpuIt = (name: string, fn: () => Promise<void>) =>
  it(name, async () => {
    if (!available) return; // said in beforeAll
    await fn();
  }, 120_000);

describe('webgpu matches cpu', () => {
  gpuIt('MobileNetV2 features and multi-scale CAMs of a synthetic image', async () => {
    const sample = await createSyntheticDataset({ size: 1, seed: 3, height: 48, width: 48 }).get(0);
    const { cpu, gpu, leaked } = await onCpuAndWebGpu(async () => {
      const backbone = new MobileNetV2({ outputStride: 16, widthMultiplier: 0.35, seed: 1 });
      const head = new ClassifierHead(backbone.featureChannels, sample.labels.length, { seed: 2 });
      const x = tf.randomUniform([1, 48, 48, 3], -1, 1, 'float32', 4) as tf.Tensor4D;
      const features = tf.tidy(() => backbone.forward(x).features);
      const cams = multiScaleCam(
        sample.image,
        sample.labels,
        (t) => head.activationMaps(backbone.forward(t).features),
        { scales: [1, 0.5] },
      );
      const out = await read(features, cams, x);
      backbone.dispose();
      head.dispose();
      return out;
    });
    expect(leaked).toBe(0);
    expect(relativeError(gpu[0], cpu[0])).toBeLessThan(1e-4);
    expect(relativeError(gpu[1], cpu[1])).toBeLessThan(1e-4);
  });

  gpuIt('SA, AA (max, min, mean) and AAF losses and their gradients, labels made on the device', async () => {
    const { cpu, gpu, leaked } = await onCpuAndWebGpu(async () => {
      const logits = tf.randomNormal([2, 12, 12, 3], 0, 2, 'float32', 7) as tf.Tensor4D;
      // labels computed by a device op (then never on the CPU side), with ignored pixels
      const labels = tf.tidy(() => {
        const raw = tf.argMax(tf.randomNormal([2, 12, 12, 3], 0, 1, 'float32', 8), 3);
        return tf.where(
          tf.less(tf.randomUniform([2, 12, 12], 0, 1, 'float32', 9), 0.15),
          tf.fill([2, 12, 12], 255, 'int32'),
          raw,
        );
      }) as tf.Tensor3D;
      const confidence = tf.randomUniform([2, 12, 12], 0, 1, 'float32', 10) as tf.Tensor3D;
      const losses = [
        (p: tf.Tensor4D) => standardAffinityLoss(p, labels, { dilations: [1, 2] }),
        (p: tf.Tensor4D) => adaptiveAffinityLoss(p, labels, 'maxProbability', { dilations: [1, 2] }),
        (p: tf.Tensor4D) =>
          adaptiveAffinityLoss(p, labels, confidence, { dilations: [2], connection: 'min' }),
        (p: tf.Tensor4D) =>
          adaptiveAffinityLoss(p, labels, confidence, { dilations: [2], connection: 'mean' }),
        (p: tf.Tensor4D) => affinityFieldLoss(p, labels, { sizes: [3] }),
      ];
      const out: Values[] = [];
      for (const loss of losses) {
        const { value, grad } = tf.valueAndGrad((z: tf.Tensor) => loss(tf.softmax(z) as tf.Tensor4D))(logits);
        out.push(...(await read(value, grad)));
      }
      tf.dispose([logits, labels, confidence]);
      return out;
    });
    expect(leaked).toBe(0);
    for (let k = 0; k < cpu.length; k++) expect(relativeError(gpu[k], cpu[k])).toBeLessThan(2e-4);
    expect(cpu[0][0]).toBeGreaterThan(0);
  });

  gpuIt('the LR loss and its gradient: device ops on webgpu, the host path on cpu', async () => {
    const { cpu, gpu, leaked } = await onCpuAndWebGpu(async () => {
      const embeddings = tf.randomNormal([2, 8, 8, 6], 0, 1, 'float32', 16) as tf.Tensor4D;
      const logits = tf.randomNormal([2, 8, 8, 4], 0, 1, 'float32', 17) as tf.Tensor4D;
      const labels = tf.tidy(() =>
        tf.argMax(tf.randomNormal([2, 8, 8, 4], 0, 1, 'float32', 18), 3),
      ) as tf.Tensor3D;
      const probabilities = tf.softmax(logits) as tf.Tensor4D;
      const { value, grad } = tf.valueAndGrad((e: tf.Tensor) =>
        labelReassignLoss(e as tf.Tensor4D, labels, probabilities, { gamma: 2 }),
      )(embeddings);
      const out = await read(value, grad);
      tf.dispose([embeddings, logits, labels, probabilities]);
      return out;
    });
    expect(leaked).toBe(0);
    expect(cpu[0][0]).toBeGreaterThan(0);
    for (let k = 0; k < cpu.length; k++) expect(relativeError(gpu[k], cpu[k])).toBeLessThan(1e-4);
  });

  gpuIt('cross-task affinity forward and backward', async () => {
    const { cpu, gpu, leaked } = await onCpuAndWebGpu(async () => {
      const layer = new CrossTaskAffinity(8, { seed: 3 });
      const seg = tf.randomNormal([1, 6, 6, 8], 0, 1, 'float32', 1) as tf.Tensor4D;
      const sal = tf.randomNormal([1, 6, 6, 8], 0, 1, 'float32', 2) as tf.Tensor4D;
      const prediction = tf.randomNormal([1, 6, 6, 3], 0, 1, 'float32', 3) as tf.Tensor4D;
      const { value, grads } = tf.variableGrads(
        () => tf.sum(tf.square(layer.refine(layer.forward(seg, sal).crossTask, prediction))) as tf.Scalar,
      );
      const out = await read(
        value,
        ...Object.keys(grads)
          .sort()
          .map((k) => grads[k]),
      );
      tf.dispose([seg, sal, prediction]);
      layer.params.dispose();
      return out;
    });
    expect(leaked).toBe(0);
    for (let k = 0; k < cpu.length; k++) expect(relativeError(gpu[k], cpu[k])).toBeLessThan(1e-4);
  });

  gpuIt('a classifier training step: loss and every gradient', async () => {
    const { cpu, gpu, leaked } = await onCpuAndWebGpu(async () => {
      const backbone = new MobileNetV2({ outputStride: 16, widthMultiplier: 0.35, seed: 5 });
      const head = new ClassifierHead(backbone.featureChannels, 4, { seed: 6 });
      const x = tf.randomUniform([2, 32, 32, 3], -1, 1, 'float32', 11) as tf.Tensor4D;
      const labels = tf.tensor2d([1, 0, 0, 1, 0, 1, 1, 0], [2, 4]);
      const { value, grads } = tf.variableGrads(() =>
        multilabelSoftMarginLoss(head.forward(backbone.forward(x).features), labels),
      );
      const out = await read(
        value,
        ...Object.keys(grads)
          .sort()
          .map((k) => grads[k]),
      );
      tf.dispose([x, labels]);
      backbone.dispose();
      head.dispose();
      return out;
    });
    expect(leaked).toBe(0);
    expect(cpu.length).toBeGreaterThan(10);
    for (let k = 0; k < cpu.length; k++) expect(relativeError(gpu[k], cpu[k])).toBeLessThan(5e-4);
  });

  gpuIt(
    'random walk: randomWalkOpAsync on device-made affinities; randomWalkOp names its async form',
    async () => {
      const pairs = pairIndices(10, 10, 3);
      const { cpu, gpu, leaked } = await onCpuAndWebGpu(async () => {
        const features = tf.randomNormal([1, 10, 10, 4], 0, 1, 'float32', 12) as tf.Tensor4D;
        const affinity = tf.tidy(() => tf.squeeze(pairAffinity(features, pairs), [0])) as tf.Tensor2D;
        const scores = tf.tidy(() =>
          tf.softmax(tf.randomNormal([100, 3], 0, 1, 'float32', 13)).transpose(),
        ) as tf.Tensor2D;
        if (tf.getBackend() === 'webgpu')
          expect(() => randomWalkOp(affinity, scores, pairs)).toThrow(
            /webgpu backend has no synchronous WsssRandomWalk kernel .* use randomWalkOpAsync/,
          );
        const walked = await randomWalkOpAsync(affinity, scores, pairs, { logSteps: 4 });
        return read(walked, affinity, scores, features);
      });
      expect(leaked).toBe(0);
      expect(relativeError(gpu[0], cpu[0])).toBeLessThan(1e-4);
    },
  );

  gpuIt(
    'dense CRF: denseCrfOpAsync on a device-made unary, crfOnScores on device-made CAM scores',
    async () => {
      const sample = await createSyntheticDataset({ size: 1, seed: 4, height: 24, width: 24 }).get(0);
      const { cpu, gpu, leaked } = await onCpuAndWebGpu(async () => {
        const unary = tf.tidy(() =>
          tf.transpose(tf.neg(tf.logSoftmax(tf.randomNormal([24, 24, 3], 0, 1, 'float32', 14))), [2, 0, 1]),
        ) as tf.Tensor3D;
        const image = tf.tensor3d(sample.image.data, [24, 24, 3], 'int32');
        if (tf.getBackend() === 'webgpu')
          expect(() => denseCrfOp(unary, image)).toThrow(/use denseCrfOpAsync/);
        const q = await denseCrfOpAsync(unary, image, 'psa');
        const cams = tf.tidy(() =>
          tf.sigmoid(tf.randomNormal([24, 24, 2], 0, 2, 'float32', 15)),
        ) as tf.Tensor3D;
        const scored = crfScores(cams, [1, 1], [1, 2], 4);
        const refined = await crfOnScores(sample.image, scored, { numClasses: 3 });
        const out = [...(await read(q, unary, image, cams, scored.scores)), refined.q];
        return out;
      });
      expect(leaked).toBe(0);
      expect(relativeError(gpu[0], cpu[0])).toBeLessThan(1e-4);
      expect(relativeError(gpu[5], cpu[5])).toBeLessThan(1e-4);
    },
  );
});
