import { existsSync } from 'node:fs';
import { join, relative } from 'node:path';
import { camLabels, crfScores, labelsFromScores, multiScaleCam } from '@wsss/cam';
import {
  ConfusionMatrix,
  imageToInput,
  type LabelMap,
  type RgbImage,
  readLabelPng,
  tf,
  writeLabelPng,
  writePng,
} from '@wsss/core';
import { crfOnScores, denseCrf } from '@wsss/crf';
import { type Batch, BatchLoader, type SegmentationDataset, withMapFolders } from '@wsss/datasets';
import {
  AsppHead,
  ClassifierHead,
  loadCheckpointParameters,
  MobileNetV2,
  SegmentationNetwork,
  segmentationCrossEntropy,
  type TrainLoopResult,
  type TrainStepInfo,
  trainClassifier,
  trainLoop,
} from '@wsss/models';
import { readCamFile, writeCamFile } from '../cam_files';
import { openDataset } from '../data';
import { confusionFromJson, confusionToJson, segmentationScores } from '../evaluation';
import { type CamPredictor, type Predictor, stageFolder } from '../pipeline';
import { type Stage, type StageContext, type StageResult, shardIds } from '../stage';
import type { BaselineConfig } from './config';

type Ctx = StageContext<BaselineConfig>;

/** The stage's folder relative to the run folder (what later stages find it by). */
function ownDir(ctx: Ctx): string {
  return relative(ctx.runDir, ctx.dir);
}

/** A training stage's progress callback and result: its checkpoint, steps and first / last epoch loss. */
function trainingReport(ctx: Ctx, label: string) {
  return {
    onStep: (s: TrainStepInfo) =>
      ctx.progress({ label, done: s.step, total: s.totalSteps, info: { loss: s.loss } }),
    result: (r: TrainLoopResult): StageResult => ({
      outputs: { dir: ownDir(ctx), checkpoint: 'checkpoint' },
      values: {
        steps: r.steps,
        'first epoch loss': r.epochLosses[0] ?? Number.NaN,
        'last epoch loss': r.epochLosses[r.epochLosses.length - 1] ?? Number.NaN,
      },
    }),
  };
}

/** The run folder's stage folder of `name` (stages find their predecessors' artefacts through it). */
function stageDir(ctx: Ctx, name: string): string {
  const dir = ctx.previous[name]?.outputs?.dir;
  if (!dir) throw new Error(`stage ${name} has not run before this one`);
  return join(ctx.runDir, dir);
}

/**
 * The MobileNetV2 of the config: from the ImageNet weights when `pretrained` and the config names them; otherwise
 * initialised randomly (with the weights' architecture, width 1, when they are named: a checkpoint loads next).
 */
async function backboneOf(config: BaselineConfig, outputStride: 8 | 16, pretrained: boolean, seed: number) {
  const { weights, widthMultiplier } = config.backbone;
  if (weights && pretrained) return MobileNetV2.fromWeights(weights, { outputStride });
  return new MobileNetV2({
    outputStride,
    widthMultiplier: weights ? 1 : widthMultiplier,
    seed,
    randomInit: !weights,
  });
}

async function classifierNetwork(config: BaselineConfig, numClasses: number, pretrained: boolean) {
  const backbone = await backboneOf(config, config.classifier.outputStride, pretrained, 1);
  const head = new ClassifierHead(backbone.featureChannels, numClasses, { seed: 1 });
  return { backbone, head };
}

/** The segmentation network of the config; `pretrained` starts its backbone from the ImageNet weights when given. */
async function segmentationNetwork(config: BaselineConfig, numClasses: number, pretrained: boolean) {
  const { outputStride, head } = config.segmentation;
  const backbone = await backboneOf(config, outputStride, pretrained, 2);
  const aspp = new AsppHead(backbone.featureChannels, numClasses, {
    channels: head.channels,
    rates: head.rates,
    seed: 2,
  });
  return new SegmentationNetwork(backbone, numClasses, aspp);
}

/** Mask values in label-vector order, and the number of mask classes (background included). */
function classLayout(dataset: SegmentationDataset) {
  return { classValues: [...dataset.labelClasses], numClasses: dataset.classNames.length };
}

const trainClassifierStage: Stage<BaselineConfig> = {
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

const camsStage: Stage<BaselineConfig> = {
  name: 'cams',
  perImage: true,
  description:
    'multi-scale + flip CAMs of the training images and their seed labels, scored with a threshold sweep',
  async run(ctx) {
    const { config } = ctx;
    const data = await openDataset(config.dataset, 'train');
    const { classValues, numClasses } = classLayout(data);
    const { backbone, head } = await classifierNetwork(config, classValues.length, false);
    await loadCheckpointParameters(join(stageDir(ctx, 'train-classifier'), 'checkpoint'), [
      { name: 'backbone', params: backbone.params },
      { name: 'head', params: head.params },
    ]);
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
function sweepValues(result: StageResult, config: BaselineConfig): StageResult {
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

const trainSegmentationStage: Stage<BaselineConfig> = {
  name: 'train-segmentation',
  description: 'train a segmentation network (MobileNetV2 + ASPP) on the pseudo labels',
  async run(ctx) {
    const { config } = ctx;
    const base = await openDataset(config.dataset, 'train');
    const labelsDir = join(stageDir(ctx, 'pseudo-labels'), 'labels');
    const data = withMapFolders(base, { labelMaps: { pseudo: labelsDir } });
    const net = await segmentationNetwork(config, base.classNames.length, true);
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
      optimizer: { kind: 'adam', learningRate: config.segmentation.learningRate, weightDecay: 1e-5 },
      checkpointDir: join(ctx.dir, 'checkpoint'),
      checkpointEvery: config.segmentation.checkpointEvery,
      metadata: { config },
      onStep: report.onStep,
    });
    net.dispose();
    return report.result(result);
  },
};

const evaluateStage: Stage<BaselineConfig> = {
  name: 'evaluate',
  perImage: true,
  description: 'predict the held-out images with the segmentation network and score them',
  async run(ctx) {
    const { config } = ctx;
    const data = await openDataset(config.dataset, 'eval');
    const numClasses = data.classNames.length;
    const net = await segmentationNetwork(config, numClasses, false);
    await loadCheckpointParameters(join(stageDir(ctx, 'train-segmentation'), 'checkpoint'), [
      { name: 'backbone', params: net.backbone.params },
      { name: 'head', params: net.head.params },
    ]);
    const cm = new ConfusionMatrix(numClasses);
    const ids = shardIds(data.ids, ctx.shard);
    for (const [i, id] of ids.entries()) {
      const sample = await data.get(id);
      const prediction = await segment(net, sample.image, config);
      await writeLabelPng(join(ctx.dir, 'predictions', `${id}.png`), prediction, data.palette);
      if (sample.mask) cm.update(sample.mask.data, prediction.data);
      if (i < config.evaluation.overlays)
        await writeOverlay(ctx, id, sample.image, [prediction, sample.mask], data.palette);
      ctx.progress({ label: 'evaluate', done: i + 1, total: ids.length });
    }
    net.dispose();
    return {
      outputs: {
        dir: ownDir(ctx),
        predictions: 'predictions',
        overlays: 'overlays',
      },
      scores: data.hasMasks
        ? { 'final network (held out)': segmentationScores(cm, data.classNames, data.backgroundIndex) }
        : undefined,
    };
  },
};

/** One image through the segmentation network (at the configured scales, flips, optional CRF): its label map. */
async function segment(net: SegmentationNetwork, image: RgbImage, config: BaselineConfig): Promise<LabelMap> {
  const numClasses = net.numClasses;
  const scales = config.evaluation.scales.map((scale) => scale * config.segmentation.inputScale);
  const probabilities = net.predict(image, { scales, flip: config.evaluation.flip });
  let labels: Uint8Array;
  try {
    if (config.evaluation.crf) {
      const pixels = image.width * image.height;
      const pixelMajor = await probabilities.data();
      const labelMajor = new Float32Array(numClasses * pixels);
      for (let p = 0; p < pixels; p++) {
        for (let c = 0; c < numClasses; c++) labelMajor[c * pixels + p] = pixelMajor[p * numClasses + c];
      }
      labels = (await denseCrf(image, { probabilities: labelMajor }, 'psa')).labels;
    } else {
      const argmax = tf.argMax(probabilities, 2);
      labels = Uint8Array.from(await argmax.data());
      argmax.dispose();
    }
  } finally {
    probabilities.dispose();
  }
  return { width: image.width, height: image.height, data: labels };
}

/** The segmentation network a finished baseline run trained (for `wsss infer`). */
export async function baselinePredictor(runDir: string, config: BaselineConfig): Promise<Predictor> {
  const stages = baselineStages();
  const index = stages.findIndex((s) => s.name === 'train-segmentation');
  const checkpoint = join(runDir, stageFolder(index, stages[index]), 'checkpoint');
  if (!existsSync(join(checkpoint, 'model.json'))) {
    throw new Error(`${runDir}: the segmentation network has not been trained yet (no ${checkpoint})`);
  }
  const data = await openDataset(config.dataset, 'eval');
  const net = await segmentationNetwork(config, data.classNames.length, false);
  await loadCheckpointParameters(checkpoint, [
    { name: 'backbone', params: net.backbone.params },
    { name: 'head', params: net.head.params },
  ]);
  return {
    classNames: data.classNames,
    palette: data.palette,
    predict: (image) => segment(net, image, config),
    dispose: () => net.dispose(),
  };
}

/** The image and label maps side by side (maps in the dataset's palette): `overlays/<id>.png` of the stage. */
async function writeOverlay(
  ctx: Ctx,
  id: string,
  image: RgbImage,
  maps: readonly (LabelMap | undefined)[],
  palette: Uint8Array,
): Promise<void> {
  const { width, height } = image;
  const panels = [image.data, ...maps.flatMap((map) => (map ? [colour(map, palette)] : []))];
  const out = new Uint8Array(panels.length * width * height * 3);
  for (let y = 0; y < height; y++) {
    panels.forEach((panel, k) => {
      out.set(
        panel.subarray(y * width * 3, (y + 1) * width * 3),
        (y * panels.length * width + k * width) * 3,
      );
    });
  }
  await writePng(join(ctx.dir, 'overlays', `${id}.png`), {
    width: panels.length * width,
    height,
    channels: 3,
    data: out,
  });
}

function colour(map: LabelMap, palette: Uint8Array): Uint8Array {
  const out = new Uint8Array(map.data.length * 3);
  map.data.forEach((v, i) => {
    out.set(palette.subarray(3 * v, 3 * v + 3), 3 * i);
  });
  return out;
}

/** The baseline's stages, in order. */
export function baselineStages(): Stage<BaselineConfig>[] {
  return [trainClassifierStage, camsStage, pseudoLabelsStage, trainSegmentationStage, evaluateStage];
}

/** The classifier a baseline run trained, as CAMs of new images (for `wsss cam`). */
export async function baselineCamPredictor(runDir: string, config: BaselineConfig): Promise<CamPredictor> {
  const stages = baselineStages();
  const index = stages.findIndex((s) => s.name === 'train-classifier');
  const checkpoint = join(runDir, stageFolder(index, stages[index]), 'checkpoint');
  if (!existsSync(join(checkpoint, 'model.json'))) {
    throw new Error(`${runDir}: the classifier has not been trained yet (no ${checkpoint})`);
  }
  const data = await openDataset(config.dataset, 'eval');
  const { backbone, head } = await classifierNetwork(config, data.labelClasses.length, false);
  await loadCheckpointParameters(checkpoint, [
    { name: 'backbone', params: backbone.params },
    { name: 'head', params: head.params },
  ]);
  const network = (x: tf.Tensor4D) => head.activationMaps(backbone.forward(x).features);
  return {
    labelNames: data.labelClasses.map((v) => data.classNames[v]),
    async cams(image, threshold) {
      const logits = tf.tidy(() =>
        head.forward(backbone.forward(imageToInput(image, backbone.normalization)).features),
      );
      const raw = Array.from(await logits.data());
      logits.dispose();
      const scores = raw.map((x) => 1 / (1 + Math.exp(-x)));
      const present = labelsFromScores(raw, threshold);
      const maps = multiScaleCam(image, present, network, {
        scales: config.cams.scales,
        flip: config.cams.flip,
        normalization: backbone.normalization,
      });
      const cams = (await maps.data()) as Float32Array;
      maps.dispose();
      return { scores, present, cams };
    },
    dispose() {
      backbone.dispose();
      head.dispose();
    },
  };
}
