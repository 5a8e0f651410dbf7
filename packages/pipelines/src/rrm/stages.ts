import { join } from 'node:path';
import { camLabels } from '@wsss/cam';
import { ConfusionMatrix, imageToInput, type LabelMap, type RgbImage, tf, writeLabelPng } from '@wsss/core';
import { BackgroundCrf, crfOnScores } from '@wsss/crf';
import { type Batch, BatchLoader, disposeBatch } from '@wsss/datasets';
import { type TrainLoopResult, trainLoop } from '@wsss/models';
import { ownDir, stageDir, trainingReport, writeOverlay } from '../artefacts';
import { openDataset } from '../data';
import { segmentationScores } from '../evaluation';
import { labelsFromProbabilities, segment } from '../segment';
import { type Stage, type StageContext, shardIds } from '../stage';
import type { RrmConfig } from './config';
import { type RrmLayout, rrmLayout } from './layout';
import { type RrmLossTerms, rrmLoss } from './losses';
import { type RrmNetwork, rrmNetwork, trainedRrmNetwork } from './network';
import { onlineCams } from './online_cams';
import { type CrfRunner, rrmImageLabels } from './pseudo_labels';

interface BatchLabels {
  pseudo: tf.Tensor3D;
  confidence: tf.Tensor3D;
}

/**
 * Pseudo labels of a batch's crops from the network's online CAMs (RRM: every step). The CAMs are computed now (the
 * current weights); the CRFs of every image are submitted at once to `runCrf` and `done` resolves when all are back,
 * so that a worker's CRFs can run while the caller trains.
 */
async function startBatchLabels(
  net: RrmNetwork,
  batch: RrmBatch,
  config: RrmConfig,
  layout: RrmLayout,
  runCrf: CrfRunner,
): Promise<{ done: Promise<BatchLabels> }> {
  const { cams, present } = onlineCams(net, batch.images, batch.labels, {
    ...config.cams,
    features: batch.features,
  });
  const [b, h, w, l] = cams.shape;
  const [camValues, presentValues] = await Promise.all([cams.data(), present.data()]);
  tf.dispose([cams, present]);
  const pixels = h * w;
  const perImage = batch.samples.map((sample, k) =>
    rrmImageLabels(
      sample.image,
      (camValues as Float32Array).subarray(k * pixels * l, (k + 1) * pixels * l),
      presentValues.subarray(k * l, (k + 1) * l),
      layout,
      config.pseudoLabels,
      runCrf,
    ),
  );
  const done = Promise.all(perImage).then((results) => {
    const labels = new Int32Array(b * pixels);
    const confidence = new Float32Array(b * pixels);
    results.forEach((r, k) => {
      labels.set(r.labels, k * pixels);
      confidence.set(r.confidence, k * pixels);
    });
    return {
      pseudo: tf.tensor3d(labels, [b, h, w], 'int32'),
      confidence: tf.tensor3d(confidence, [b, h, w]),
    };
  });
  return { done };
}

/** A training batch; `features` holds the frozen backbone's features, computed once for CAMs and loss. */
type RrmBatch = Batch & { features?: tf.Tensor4D };

type TermName = Exclude<keyof RrmLossTerms, 'total'>;
const TERMS: TermName[] = ['classification', 'crossEntropy', 'affinity', 'labelReassign'];

const trainStage: Stage<RrmConfig> = {
  name: 'train',
  description:
    'train one network end to end: classification, online CAMs -> CRF pseudo labels every step, CE + AA + LR losses',
  async run(ctx) {
    const { config } = ctx;
    const t = config.training;
    if (t.classificationSteps >= t.steps)
      throw new Error(
        `training.classificationSteps (${t.classificationSteps}) must be below training.steps (${t.steps})`,
      );
    const data = await openDataset(config.dataset, 'train');
    const layout = rrmLayout(data);
    const net = await rrmNetwork(config, layout.numLabels, layout.numClasses, true);
    const frozen = Boolean(config.backbone.weights) && !config.backbone.finetune;
    if (frozen) for (const name of net.backbone.params.variables.keys()) net.backbone.params.frozen.add(name);
    const loader = new BatchLoader(data, {
      batchSize: t.batchSize,
      seed: 1,
      augment: { scaleRange: [0.7 * t.inputScale, 1.3 * t.inputScale], cropSize: t.cropSize },
      scalePerBatch: true,
      normalization: net.backbone.normalization,
    });
    const perEpoch = Math.min(loader.length, t.steps);
    const labelReassignFrom = Math.max(
      t.classificationSteps,
      t.steps - config.losses.labelReassignEpochs * perEpoch,
    );
    // per-term sums of the last epoch, read back between steps from the kept scalars of the step before
    let kept: Partial<Record<TermName, tf.Scalar>> = {};
    const sums: Record<TermName, { sum: number; count: number }> = Object.fromEntries(
      TERMS.map((n) => [n, { sum: 0, count: 0 }]),
    ) as never;
    let epochOfSums = -1;
    const timing = { camMs: 0, waitMs: 0, stepMs: 0, jointSteps: 0 };
    let stepStart = 0;
    // adds the previous step's terms to its epoch's sums, then starts new sums when `epoch` is a new one
    const drain = async (epoch: number) => {
      for (const n of TERMS) {
        const v = kept[n];
        if (!v) continue;
        sums[n].sum += (await v.data())[0];
        sums[n].count++;
        v.dispose();
      }
      kept = {};
      if (epoch !== epochOfSums) {
        for (const n of TERMS) sums[n] = { sum: 0, count: 0 };
        epochOfSums = epoch;
      }
    };
    const report = trainingReport(ctx, 'train');
    // the CRFs on a worker thread of their own, running while the network trains on the batch before
    const crfWorker = config.pseudoLabels.overlap ? await BackgroundCrf.start() : undefined;
    const overlap = crfWorker !== undefined;
    const runCrf: CrfRunner = crfWorker
      ? (image, input, options) => crfWorker.crfOnScores(image, input, options)
      : crfOnScores;
    let result: TrainLoopResult;
    try {
      result = await trainLoop({
        parameters: net.parameterSets(t.headLrMultiplier),
        loss: (batch: RrmBatch, { step }) => {
          const terms = rrmLoss(
            batch.features ? net.branches(batch.features) : net.forward(batch.images, { training: true }),
            {
              labels: batch.labels,
              pseudoLabels: batch.labelMaps.pseudo,
              confidence: batch.floatMaps.confidence,
              background: layout.background,
            },
            config.losses,
            { joint: step >= t.classificationSteps, labelReassign: step >= labelReassignFrom },
          );
          for (const n of TERMS) if (terms[n]) kept[n] = tf.keep(terms[n]!.clone());
          return terms.total;
        },
        batches: async function* (epoch, from) {
          let index = from;
          const loaded = loader.epoch(epoch, from)[Symbol.asyncIterator]();
          // a batch ready to train on: features of a frozen backbone (constants, computed once for the CAMs and the
          // loss) and, after the classification warm-up, its pseudo labels under way
          const prepare = async (): Promise<
            { batch: RrmBatch; step: number; labels?: Promise<BatchLabels> } | undefined
          > => {
            const next = await loaded.next();
            if (next.done) return undefined;
            const step = epoch * perEpoch + index++;
            const batch: RrmBatch = frozen
              ? { ...next.value, features: tf.tidy(() => net.backbone.forward(next.value.images).features) }
              : next.value;
            if (step < t.classificationSteps) return { batch, step };
            const start = performance.now();
            const { done } = await startBatchLabels(net, batch, config, layout, runCrf);
            timing.camMs += performance.now() - start;
            return { batch, step, labels: done };
          };
          let current = await prepare();
          let upcoming: Awaited<ReturnType<typeof prepare>>;
          try {
            while (current) {
              const now = performance.now();
              if (stepStart && current.step > t.classificationSteps) timing.stepMs += now - stepStart;
              stepStart = now;
              await drain(epoch);
              if (current.labels) {
                const wait = performance.now();
                const labels = await current.labels;
                timing.waitMs += performance.now() - wait;
                timing.jointSteps++;
                current.batch.labelMaps.pseudo = labels.pseudo;
                current.batch.floatMaps.confidence = labels.confidence;
              }
              // overlap: the next batch's CAMs now (with the weights before this step's update), its CRFs on the worker
              // while this step trains
              upcoming = overlap ? await prepare() : undefined;
              yield current.batch;
              current = overlap ? upcoming : await prepare();
              upcoming = undefined;
            }
          } finally {
            // the loop stopped early (last step, or an error): release what was prepared ahead
            if (upcoming) {
              const labels = await upcoming.labels?.catch(() => undefined);
              tf.dispose(
                [upcoming.batch.features, labels?.pseudo, labels?.confidence].filter((t) => t !== undefined),
              );
              disposeBatch(upcoming.batch);
            }
            await loaded.return?.(undefined);
          }
        },
        batchesPerEpoch: perEpoch,
        epochs: Math.ceil(t.steps / perEpoch),
        totalSteps: t.steps,
        optimizer: {
          kind: 'adam',
          learningRate: t.learningRate,
          weightDecay: t.weightDecay,
        },
        checkpointDir: join(ctx.dir, 'checkpoint'),
        checkpointEvery: t.checkpointEvery,
        metadata: { config },
        onStep: report.onStep,
      });
    } finally {
      await crfWorker?.close();
    }
    if (stepStart) timing.stepMs += performance.now() - stepStart;
    await drain(epochOfSums);
    net.dispose();
    const base = report.result(result);
    const joint = timing.jointSteps;
    return {
      ...base,
      values: {
        ...base.values,
        'label-reassign from step': labelReassignFrom,
        ...Object.fromEntries(
          TERMS.filter((n) => sums[n].count).map((n) => [
            `last epoch ${n}`,
            Number((sums[n].sum / sums[n].count).toFixed(4)),
          ]),
        ),
        ...(joint
          ? {
              'joint step ms': Math.round(timing.stepMs / joint),
              // on the calling thread: the CAMs, plus the CRFs unless a worker runs them (then only the wait for it)
              'pseudo labels ms per joint step': Math.round((timing.camMs + timing.waitMs) / joint),
              'CRF wait ms per joint step': Math.round(timing.waitMs / joint),
              'pseudo-label share of a joint step': Number(
                ((timing.camMs + timing.waitMs) / timing.stepMs).toFixed(3),
              ),
            }
          : {}),
      },
    };
  },
};

/** The label maps RRM produces for one full image with the trained network: CAM seeds, pseudo label, prediction. */
async function imageLabels(
  net: RrmNetwork,
  image: RgbImage,
  labels: Float32Array,
  config: RrmConfig,
  layout: RrmLayout,
) {
  const scale = config.training.inputScale;
  const input = tf.tidy(() => {
    const x = imageToInput(image, net.backbone.normalization);
    if (scale === 1) return x;
    const size: [number, number] = [Math.round(image.height * scale), Math.round(image.width * scale)];
    return tf.image.resizeBilinear(x, size, false, true) as tf.Tensor4D;
  });
  const labelTensor = tf.tensor2d(labels, [1, labels.length]);
  const { cams, present } = onlineCams(net, input, labelTensor, {
    ...config.cams,
    outputSize: [image.height, image.width],
  });
  const squeezed = tf.squeeze(cams, [0]) as tf.Tensor3D;
  const seeds = camLabels(
    squeezed,
    layout.classValues,
    layout.background === null ? null : { threshold: config.evaluation.seedThreshold },
  );
  squeezed.dispose();
  const [camValues, presentValues] = await Promise.all([cams.data(), present.data()]);
  tf.dispose([input, labelTensor, cams, present]);
  const pseudo = await rrmImageLabels(
    image,
    camValues as Float32Array,
    presentValues,
    layout,
    config.pseudoLabels,
  );
  return { seeds, pseudo: { width: image.width, height: image.height, data: pseudo.labels } as LabelMap };
}

/** The segment options of the config (its evaluation scales times the input scale). */
function segmentOptions(config: RrmConfig) {
  return {
    scales: config.evaluation.scales.map((s) => s * config.training.inputScale),
    flip: config.evaluation.flip,
    crf: config.evaluation.crf ? ('rrmInference' as const) : (false as const),
  };
}

/** Mask classes allowed by an image's labels: the background (if any) and its classes (rfpc). */
function allowedClasses(labels: ArrayLike<number>, layout: RrmLayout): Uint8Array {
  const allowed = new Uint8Array(layout.numClasses);
  if (layout.background !== null) allowed[layout.background] = 1;
  layout.classValues.forEach((v, l) => {
    if (labels[l] > 0) allowed[v] = 1;
  });
  return allowed;
}

/** The dataset split, its layout and the network a run's train stage trained (the per-image stages' start). */
async function trainedForSplit(ctx: StageContext<RrmConfig>, split: 'train' | 'eval') {
  const data = await openDataset(ctx.config.dataset, split);
  const layout = rrmLayout(data);
  const checkpoint = join(stageDir(ctx, 'train'), 'checkpoint');
  const net = await trainedRrmNetwork(ctx.config, layout.numLabels, layout.numClasses, checkpoint);
  return { data, layout, net };
}

const pseudoLabelsStage: Stage<RrmConfig> = {
  name: 'pseudo-labels',
  perImage: true,
  description:
    "the trained network's CAM seeds, RRM pseudo labels and predictions on the training images, scored",
  async run(ctx) {
    const { config } = ctx;
    const { data, layout, net } = await trainedForSplit(ctx, 'train');
    const matrices = {
      seeds: new ConfusionMatrix(layout.numClasses),
      pseudo: new ConfusionMatrix(layout.numClasses),
      network: new ConfusionMatrix(layout.numClasses),
    };
    const ids = shardIds(data.ids, ctx.shard);
    for (const [i, id] of ids.entries()) {
      const sample = await data.get(id);
      const { seeds, pseudo } = await imageLabels(
        net,
        sample.image,
        Float32Array.from(sample.labels),
        config,
        layout,
      );
      const prediction = await segment(net.segmentation, sample.image, segmentOptions(config));
      await writeLabelPng(join(ctx.dir, 'labels', `${id}.png`), pseudo, data.palette);
      if (sample.mask) {
        matrices.seeds.update(sample.mask.data, seeds.data);
        matrices.pseudo.update(sample.mask.data, pseudo.data);
        matrices.network.update(sample.mask.data, prediction.data);
      }
      if (i < config.evaluation.overlays)
        await writeOverlay(ctx, id, sample.image, [seeds, pseudo, prediction, sample.mask], data.palette);
      ctx.progress({ label: 'pseudo labels', done: i + 1, total: ids.length });
    }
    net.dispose();
    const score = (cm: ConfusionMatrix) => segmentationScores(cm, data.classNames, data.backgroundIndex);
    return {
      outputs: { dir: ownDir(ctx), labels: 'labels', overlays: 'overlays' },
      scores: data.hasMasks
        ? {
            'seeds (train)': score(matrices.seeds),
            'pseudo labels (train)': score(matrices.pseudo),
            'network (train)': score(matrices.network),
          }
        : undefined,
    };
  },
};

const evaluateStage: Stage<RrmConfig> = {
  name: 'evaluate',
  perImage: true,
  description:
    'predict the held-out images with the segmentation branch and score them, with and without rfpc',
  async run(ctx) {
    const { config } = ctx;
    const { data, layout, net } = await trainedForSplit(ctx, 'eval');
    const plain = new ConfusionMatrix(layout.numClasses);
    const rfpc = new ConfusionMatrix(layout.numClasses);
    const ids = shardIds(data.ids, ctx.shard);
    const options = segmentOptions(config);
    for (const [i, id] of ids.entries()) {
      const sample = await data.get(id);
      // one pass of the network for both: rfpc only masks its probabilities
      const probabilities = net.segmentation.predict(sample.image, options);
      const prediction = await labelsFromProbabilities(probabilities, sample.image, options);
      const filtered = await labelsFromProbabilities(probabilities, sample.image, {
        ...options,
        allowed: allowedClasses(sample.labels, layout),
      });
      probabilities.dispose();
      await writeLabelPng(join(ctx.dir, 'predictions', `${id}.png`), prediction, data.palette);
      if (sample.mask) {
        plain.update(sample.mask.data, prediction.data);
        rfpc.update(sample.mask.data, filtered.data);
      }
      if (i < config.evaluation.overlays)
        await writeOverlay(ctx, id, sample.image, [prediction, filtered, sample.mask], data.palette);
      ctx.progress({ label: 'evaluate', done: i + 1, total: ids.length });
    }
    net.dispose();
    const score = (cm: ConfusionMatrix) => segmentationScores(cm, data.classNames, data.backgroundIndex);
    return {
      outputs: { dir: ownDir(ctx), predictions: 'predictions', overlays: 'overlays' },
      scores: data.hasMasks
        ? { 'final network (held out)': score(plain), 'final network + rfpc (held out)': score(rfpc) }
        : undefined,
    };
  },
};

/** The RRM + AA/LR pipeline's stages, in order. */
export function rrmStages(): Stage<RrmConfig>[] {
  return [trainStage, pseudoLabelsStage, evaluateStage];
}
