import { join } from 'node:path';
import { camLabels, crfScores, multiScaleCam } from '@wsss/cam';
import { ConfusionMatrix, type LabelMap, readLabelPng, tf, writeLabelPng } from '@wsss/core';
import { crfOnScores } from '@wsss/crf';
import { type Batch, BatchLoader, withMapFolders } from '@wsss/datasets';
import { loadCheckpointParameters, segmentationCrossEntropy, trainClassifier, trainLoop } from '@wsss/models';
import { ownDir, stageDir, trainingReport, writeOverlay } from '../artefacts';
import { readCamFile, writeCamFile } from '../cam_files';
import { openDataset } from '../data';
import { confusionFromJson, confusionToJson, segmentationScores } from '../evaluation';
import { type Stage, type StageContext, type StageResult, shardIds } from '../stage';
import type { BaselineConfig } from './config';
import {
  classifierNetwork,
  classLayout,
  segmentationNetwork,
  segmentWithConfig,
  trainedClassifier,
  trainedSegmentationNetwork,
} from './networks';

/** What the classifier and CAM stages read of a config (every pipeline that starts from CAMs has these sections). */
export type CamStagesConfig = Pick<BaselineConfig, 'dataset' | 'backbone' | 'classifier' | 'cams'>;

/** What segmentation training and evaluation read of a config. */
export type SegmentationStagesConfig = Pick<
  BaselineConfig,
  'dataset' | 'backbone' | 'segmentation' | 'evaluation'
>;

/** Trains the multi-label classifier the CAMs come from; its checkpoint is the stage's `checkpoint` folder. */
export const trainClassifierStage: Stage<CamStagesConfig> = {
  name: 'train-classifier',
  description: 'train a multi-label classifier from image-level labels (MobileNetV2 + GAP classifier)',
  async run(ctx) {
    const { config } = ctx;
    const data = await openDataset(config.dataset, 'train');
    const { backbone, head } = await classifierNetwork(config, data.labelClasses.length, true);
    // with ImageNet weights and finetune off only the classifier trains; random weights always train
    if (config.backbone.weights && !config.classifier.finetune) {
      for (const name of backbone.params.variables.keys()) backbone.params.frozen.add(name);
    }
    const loader = new BatchLoader(data, {
      batchSize: config.classifier.batchSize,
      seed: 1,
      augment: { scaleRange: [0.9, 1.1], cropSize: config.dataset.imageSize },
      normalization: backbone.normalization,
    });
    const { steps } = config.classifier;
    const perEpoch = Math.min(loader.length, steps);
    const report = trainingReport(ctx, 'classifier');
    const result = await trainClassifier(
      { backbone, head },
      {
        batches: (epoch, from) => loader.epoch(epoch, from),
        batchesPerEpoch: perEpoch,
        epochs: Math.ceil(steps / perEpoch),
        totalSteps: steps,
        optimizer: config.backbone.weights
          ? { kind: 'sgd', learningRate: config.classifier.learningRate, momentum: 0.9, weightDecay: 1e-4 }
          : {
              kind: 'adam',
              learningRate: config.classifier.learningRate,
              weightDecay: 1e-5,
              headLrMultiplier: 1,
            },
        checkpointDir: join(ctx.dir, 'checkpoint'),
        checkpointEvery: config.classifier.checkpointEvery,
        metadata: { config },
        onStep: report.onStep,
      },
    );
    backbone.dispose();
    head.dispose();
    return report.result(result);
  },
};

/** Multi-scale CAMs of the training images (`cams/<id>.cam`, present classes) and their seed labels (`seeds/`). */
export const camsStage: Stage<CamStagesConfig> = {
  name: 'cams',
  perImage: true,
  description:
    'multi-scale + flip CAMs of the training images and their seed labels, scored with a threshold sweep',
  async run(ctx) {
    const { config } = ctx;
    const data = await openDataset(config.dataset, 'train');
    const { classValues, numClasses } = classLayout(data);
    const checkpoint = join(stageDir(ctx, 'train-classifier'), 'checkpoint');
    const { backbone, head } = await trainedClassifier(config, classValues.length, checkpoint);
    const network = (x: tf.Tensor4D) => head.activationMaps(backbone.forward(x).features);
    const background = data.backgroundIndex === null ? null : { threshold: config.cams.backgroundThreshold };
    const seeds = new ConfusionMatrix(numClasses);
    const sweep = config.cams.sweep.map(() => new ConfusionMatrix(numClasses));
    const ids = shardIds(data.ids, ctx.shard);
    for (const [i, id] of ids.entries()) {
      const sample = await data.get(id);
      const cams = multiScaleCam(sample.image, sample.labels, network, {
        scales: config.cams.scales,
        flip: config.cams.flip,
        normalization: backbone.normalization,
      });
      const present = classValues.filter((_, c) => sample.labels[c] > 0);
      const presentIndex = classValues.flatMap((_, c) => (sample.labels[c] > 0 ? [c] : []));
      const stored = tf.tidy(() =>
        presentIndex.length ? tf.gather(cams, presentIndex, 2).dataSync() : new Float32Array(0),
      ) as Float32Array;
      await writeCamFile(join(ctx.dir, 'cams', `${id}.cam`), {
        width: sample.image.width,
        height: sample.image.height,
        classValues: present,
        data: stored,
      });
      const labels = camLabels(cams, classValues, background);
      await writeLabelPng(join(ctx.dir, 'seeds', `${id}.png`), labels, data.palette);
      if (sample.mask) {
        seeds.update(sample.mask.data, labels.data);
        if (background) {
          config.cams.sweep.forEach((threshold, k) => {
            sweep[k].update(sample.mask!.data, camLabels(cams, classValues, { threshold }).data);
          });
        }
      }
      cams.dispose();
      ctx.progress({ label: 'CAMs', done: i + 1, total: ids.length });
    }
    backbone.dispose();
    head.dispose();
    const result: StageResult = {
      outputs: { dir: ownDir(ctx), cams: 'cams', seeds: 'seeds' },
      scores: data.hasMasks
        ? { 'seeds (train)': segmentationScores(seeds, data.classNames, data.backgroundIndex) }
        : undefined,
      confusions:
        background && data.hasMasks
          ? Object.fromEntries(config.cams.sweep.map((t, k) => [`threshold ${t}`, confusionToJson(sweep[k])]))
          : undefined,
    };
    return sweepValues(result, config);
  },
  finishMerge: (merged, config) => sweepValues(merged, config),
};

/** The seed sweep's mIoU per threshold and the best threshold, from its confusion counts (merged or not). */
function sweepValues(result: StageResult, config: CamStagesConfig): StageResult {
  if (!result.confusions) return result;
  const swept = config.cams.sweep.map((t) =>
    confusionFromJson(result.confusions![`threshold ${t}`]).meanIoU(),
  );
  return {
    ...result,
    values: {
      'sweep thresholds': config.cams.sweep,
      'sweep mIoU': swept.map((v) => Number((100 * v).toFixed(2))),
      'best threshold': config.cams.sweep[swept.indexOf(Math.max(...swept))],
    },
  };
}

const pseudoLabelsStage: Stage<BaselineConfig> = {
  name: 'pseudo-labels',
  perImage: true,
  description: 'pseudo labels of the training images: dense CRF over background + present-class CAM scores',
  async run(ctx) {
    const { config } = ctx;
    const data = await openDataset(config.dataset, 'train');
    const { numClasses } = classLayout(data);
    const camsDir = join(stageDir(ctx, 'cams'), 'cams');
    const seedsDir = join(stageDir(ctx, 'cams'), 'seeds');
    const cm = new ConfusionMatrix(numClasses);
    const ids = shardIds(data.ids, ctx.shard);
    for (const [i, id] of ids.entries()) {
      const sample = await data.get(id);
      let labels: LabelMap;
      if (config.pseudoLabels.method === 'threshold' || data.backgroundIndex === null) {
        labels = await readLabelPng(join(seedsDir, `${id}.png`), data.palette);
      } else {
        const file = await readCamFile(join(camsDir, `${id}.cam`));
        const k = file.classValues.length;
        const cams = tf.tensor3d(file.data, [file.height, file.width, k]);
        const input = crfScores(cams, new Array(k).fill(1), file.classValues, config.pseudoLabels.alpha);
        const result = await crfOnScores(sample.image, input, { numClasses, params: 'psa' });
        tf.dispose([cams, input.scores]);
        labels = { width: file.width, height: file.height, data: result.labels };
      }
      await writeLabelPng(join(ctx.dir, 'labels', `${id}.png`), labels, data.palette);
      if (sample.mask) cm.update(sample.mask.data, labels.data);
      if (i < config.evaluation.overlays) {
        const seeds = await readLabelPng(join(seedsDir, `${id}.png`), data.palette);
        await writeOverlay(ctx, id, sample.image, [seeds, labels, sample.mask], data.palette);
      }
      ctx.progress({ label: 'pseudo labels', done: i + 1, total: ids.length });
    }
    return {
      outputs: { dir: ownDir(ctx), labels: 'labels', overlays: 'overlays' },
      scores: data.hasMasks
        ? { 'pseudo labels (train)': segmentationScores(cm, data.classNames, data.backgroundIndex) }
        : undefined,
    };
  },
};

/**
 * Trains the config's segmentation network on the label maps in `labelsDir` (one PNG per training image, 255
 * ignored), checkpointing into the stage's `checkpoint` folder and resuming from it. `initialCheckpoint` starts the
 * network from another stage's weights (e.g. the previous round's) instead of the ImageNet / random ones.
 */
export async function trainSegmentationOn(
  ctx: StageContext<SegmentationStagesConfig>,
  labelsDir: string,
  initialCheckpoint?: string,
): Promise<StageResult> {
  const { config } = ctx;
  const base = await openDataset(config.dataset, 'train');
  const data = withMapFolders(base, { labelMaps: { pseudo: labelsDir } });
  const net = await segmentationNetwork(config, base.classNames.length, !initialCheckpoint);
  if (initialCheckpoint) {
    await loadCheckpointParameters(initialCheckpoint, [
      { name: 'backbone', params: net.backbone.params },
      { name: 'head', params: net.head.params },
    ]);
  }
  const { steps, batchSize, cropSize, finetune, headLrMultiplier, inputScale } = config.segmentation;
  // without ImageNet weights the backbone always trains
  if (!finetune && config.backbone.weights) {
    for (const name of net.backbone.params.variables.keys()) net.backbone.params.frozen.add(name);
  }
  const loader = new BatchLoader(data, {
    batchSize,
    seed: 3,
    augment: { scaleRange: [0.8 * inputScale, 1.2 * inputScale], cropSize },
    normalization: net.backbone.normalization,
  });
  const perEpoch = Math.min(loader.length, steps);
  const report = trainingReport(ctx, 'segmentation');
  const result = await trainLoop({
    parameters: net.parameterSets(headLrMultiplier),
    loss: (batch: Batch) =>
      segmentationCrossEntropy(net.forward(batch.images, { training: true }), batch.labelMaps.pseudo),
    batches: (epoch, from) => loader.epoch(epoch, from),
    batchesPerEpoch: perEpoch,
    epochs: Math.ceil(steps / perEpoch),
    totalSteps: steps,
    optimizer: { kind: 'adam', learningRate: config.segmentation.learningRate, weightDecay: 1e-5 },
    checkpointDir: join(ctx.dir, 'checkpoint'),
    checkpointEvery: config.segmentation.checkpointEvery,
    metadata: { config },
    onStep: report.onStep,
  });
  net.dispose();
  return report.result(result);
}

const trainSegmentationStage: Stage<BaselineConfig> = {
  name: 'train-segmentation',
  description: 'train a segmentation network (MobileNetV2 + ASPP) on the pseudo labels',
  run: (ctx) => trainSegmentationOn(ctx, join(stageDir(ctx, 'pseudo-labels'), 'labels')),
};

/**
 * Scores the segmentation network of `checkpoint` on this process's held-out images; writes the predictions (and
 * overlays) under `<stage>/<predictionsDir>` when `predictionsDir` is given. Returns the confusion counts.
 */
export async function evaluateCheckpoint(
  ctx: StageContext<SegmentationStagesConfig>,
  checkpoint: string,
  predictionsDir?: string,
  label = 'evaluate',
): Promise<ConfusionMatrix> {
  const { config } = ctx;
  const data = await openDataset(config.dataset, 'eval');
  const numClasses = data.classNames.length;
  const net = await trainedSegmentationNetwork(config, numClasses, checkpoint);
  const cm = new ConfusionMatrix(numClasses);
  const ids = shardIds(data.ids, ctx.shard);
  for (const [i, id] of ids.entries()) {
    const sample = await data.get(id);
    const prediction = await segmentWithConfig(net, sample.image, config);
    if (predictionsDir) {
      await writeLabelPng(join(ctx.dir, predictionsDir, `${id}.png`), prediction, data.palette);
      if (i < config.evaluation.overlays)
        await writeOverlay(ctx, id, sample.image, [prediction, sample.mask], data.palette);
    }
    if (sample.mask) cm.update(sample.mask.data, prediction.data);
    ctx.progress({ label, done: i + 1, total: ids.length });
  }
  net.dispose();
  return cm;
}

const evaluateStage: Stage<BaselineConfig> = {
  name: 'evaluate',
  perImage: true,
  description: 'predict the held-out images with the segmentation network and score them',
  async run(ctx) {
    const data = await openDataset(ctx.config.dataset, 'eval');
    const checkpoint = join(stageDir(ctx, 'train-segmentation'), 'checkpoint');
    const cm = await evaluateCheckpoint(ctx, checkpoint, 'predictions');
    return {
      outputs: { dir: ownDir(ctx), predictions: 'predictions', overlays: 'overlays' },
      scores: data.hasMasks
        ? { 'final network (held out)': segmentationScores(cm, data.classNames, data.backgroundIndex) }
        : undefined,
    };
  },
};

/** The baseline's stages, in order. */
export function baselineStages(): Stage<BaselineConfig>[] {
  return [trainClassifierStage, camsStage, pseudoLabelsStage, trainSegmentationStage, evaluateStage];
}
