import { join } from 'node:path';
import { frequencyTunedSaliency } from '@wsss/cam';
import { ConfusionMatrix, type RgbImage, tf, writeLabelPng, writePng } from '@wsss/core';
import { type Batch, BatchLoader, type SegmentationDataset, withMapFolders } from '@wsss/datasets';
import { loadCheckpointParameters, trainLoop } from '@wsss/models';
import { ownDir, stageDir, trainingReport, writeOverlay } from '../artefacts';
import { classLayout } from '../baseline/networks';
import { camsStage, trainClassifierStage } from '../baseline/stages';
import { readCamFile } from '../cam_files';
import { openDataset } from '../data';
import { segmentationScores } from '../evaluation';
import { scaledInput } from '../network_input';
import { labelsFromProbabilities } from '../segment';
import { type Stage, type StageContext, type StageResult, shardIds, stageCount } from '../stage';
import type { AuxSegNetConfig } from './config';
import { type AuxSegNetNetwork, auxSegNetLoss, auxSegNetNetwork, trainedAuxSegNet } from './network';
import { fusedPseudoLabels, propagatedCams, updatedPseudoLabels } from './update';

type Ctx = StageContext<AuxSegNetConfig>;

const trainName = (stage: number) => `stage-${stage}-train`;
const updateName = (stage: number) => `stage-${stage}-update`;

/**
 * Whether the dataset has a background class (at mask value 0, where saliency's "not an object" goes); without one
 * (CamVid) the pseudo labels come from the CAMs alone and saliency is an auxiliary task only.
 */
function hasBackground(data: SegmentationDataset): boolean {
  if (data.backgroundIndex !== null && data.backgroundIndex !== 0) {
    throw new Error(
      `auxsegnet: the background class must be mask value 0 (or absent), got ${data.backgroundIndex}`,
    );
  }
  return data.backgroundIndex === 0;
}

/** The folders the training stage `stage` reads its pseudo labels and saliency from. */
function targetFolders(ctx: Ctx, stage: number): { labels: string; saliency: string } {
  if (stage === 1) {
    return {
      labels: join(stageDir(ctx, 'initial-labels'), 'labels'),
      saliency: join(stageDir(ctx, 'saliency'), 'saliency'),
    };
  }
  const dir = stageDir(ctx, updateName(stage - 1));
  return { labels: join(dir, 'labels'), saliency: join(dir, 'saliency') };
}

/** Saliency [N] in [0, 1] as a grey PNG (0..255). */
function writeSaliencyPng(path: string, width: number, height: number, saliency: ArrayLike<number>) {
  const data = Uint8Array.from(saliency, (s) => Math.round(255 * Math.min(1, Math.max(0, s))));
  return writePng(path, { width, height, channels: 1, data });
}

/** The training set with the saliency stage's maps as `floatMaps.saliency` (read as every float map is). */
async function withSaliency(ctx: Ctx): Promise<SegmentationDataset> {
  const data = await openDataset(ctx.config.dataset, 'train');
  return withMapFolders(data, { floatMaps: { saliency: join(stageDir(ctx, 'saliency'), 'saliency') } });
}

/** The saliency of every training image: the given folder's maps, or frequency-tuned saliency. */
const saliencyStage: Stage<AuxSegNetConfig> = {
  name: 'saliency',
  perImage: true,
  description:
    'saliency of the training images: the given maps (saliency.folder) or frequency-tuned saliency',
  async run(ctx) {
    const { config } = ctx;
    const base = await openDataset(config.dataset, 'train');
    hasBackground(base);
    const { folder } = config.saliency;
    const data = folder ? withMapFolders(base, { floatMaps: { saliency: folder } }) : base;
    const ids = shardIds(data.ids, ctx.shard);
    for (const [i, id] of ids.entries()) {
      const sample = await data.get(id);
      const { width, height } = sample.image;
      const saliency = folder
        ? sample.floatMaps!.saliency.data
        : frequencyTunedSaliency(sample.image, { scale: 'adaptive' });
      await writeSaliencyPng(join(ctx.dir, 'saliency', `${id}.png`), width, height, saliency);
      ctx.progress({ label: 'saliency', done: i + 1, total: ids.length });
    }
    return {
      outputs: { dir: ownDir(ctx), saliency: 'saliency' },
      values: { source: folder ?? 'frequency-tuned (Achanta et al. 2009), 0.5 = its adaptive threshold' },
    };
  },
};

/** Stage 0's pseudo labels: heuristic fusion of the CAMs and the saliency (digest section 10.3). */
const initialLabelsStage: Stage<AuxSegNetConfig> = {
  name: 'initial-labels',
  perImage: true,
  description:
    'initial pseudo labels: heuristic fusion of CAMs and saliency (fusion.camThreshold, saliencyThreshold)',
  async run(ctx) {
    const { config } = ctx;
    const data = await withSaliency(ctx);
    const { numClasses } = classLayout(data);
    const cm = new ConfusionMatrix(numClasses);
    const ids = shardIds(data.ids, ctx.shard);
    for (const [i, id] of ids.entries()) {
      const sample = await data.get(id);
      const cams = await readCamFile(join(stageDir(ctx, 'cams'), 'cams', `${id}.cam`));
      const labels = fusedPseudoLabels(cams.data, cams.classValues, sample.floatMaps!.saliency.data, {
        ...config.fusion,
        background: hasBackground(data),
      });
      const map = { width: sample.image.width, height: sample.image.height, data: labels };
      await writeLabelPng(join(ctx.dir, 'labels', `${id}.png`), map, data.palette);
      if (sample.mask) cm.update(sample.mask.data, labels);
      if (i < config.evaluation.overlays)
        await writeOverlay(ctx, id, sample.image, [map, sample.mask], data.palette);
      ctx.progress({ label: 'initial labels', done: i + 1, total: ids.length });
    }
    return {
      outputs: { dir: ownDir(ctx), labels: 'labels', overlays: 'overlays' },
      scores: data.hasMasks
        ? { 'pseudo labels, stage 0 (train)': segmentationScores(cm, data.classNames, data.backgroundIndex) }
        : undefined,
    };
  },
};

/** Training stage s: AuxSegNet on the current pseudo labels and saliency, from stage s-1's weights. */
function trainStage(stage: number): Stage<AuxSegNetConfig> {
  return {
    name: trainName(stage),
    description: `stage ${stage}: train AuxSegNet (classification, segmentation, saliency, cross-task affinity)`,
    async run(ctx) {
      const { config } = ctx;
      const { training } = config;
      const base = await openDataset(config.dataset, 'train');
      const background = hasBackground(base);
      const folders = targetFolders(ctx, stage);
      const data = withMapFolders(base, {
        labelMaps: { pseudo: folders.labels },
        floatMaps: { saliency: folders.saliency },
      });
      const { classValues, numClasses } = classLayout(base);
      const net = await auxSegNetNetwork(config, classValues.length, numClasses, stage === 1);
      if (stage > 1) {
        await loadCheckpointParameters(
          join(stageDir(ctx, trainName(stage - 1)), 'checkpoint'),
          net.parameterSets(1, 1),
        );
      }
      if (!training.finetune && config.backbone.weights) {
        for (const name of net.backbone.params.variables.keys()) net.backbone.params.frozen.add(name);
      }
      const loader = new BatchLoader(data, {
        batchSize: training.batchSize,
        seed: 7 + stage,
        augment: {
          scaleRange: [0.7 * training.inputScale, 1.3 * training.inputScale],
          cropSize: training.cropSize,
          // the reference pads labels with 0; without a background class 0 is a class, so always 255
          labelPadValue: training.labelPadding === 'background' && background ? 0 : 255,
        },
        normalization: net.backbone.normalization,
      });
      const perEpoch = Math.min(loader.length, training.steps);
      const report = trainingReport(ctx, `stage ${stage}`);
      const result = await trainLoop({
        parameters: net.parameterSets(training.headLrMultiplier, training.affinityLrMultiplier),
        loss: (batch: Batch) => {
          const terms = auxSegNetLoss(net.forward(batch.images, { training: true }), {
            labels: batch.labels,
            pseudoLabels: batch.labelMaps.pseudo,
            saliency: batch.floatMaps.saliency,
          });
          const { total, ...rest } = terms;
          tf.dispose(Object.values(rest).filter((t) => t !== undefined));
          return total;
        },
        batches: (epoch, from) => loader.epoch(epoch, from),
        batchesPerEpoch: perEpoch,
        epochs: Math.ceil(training.steps / perEpoch),
        totalSteps: training.steps,
        optimizer:
          training.optimizer === 'sgd'
            ? {
                kind: 'sgd',
                learningRate: training.learningRate,
                momentum: 0.9,
                weightDecay: training.weightDecay,
              }
            : { kind: 'adam', learningRate: training.learningRate, weightDecay: training.weightDecay },
        checkpointDir: join(ctx.dir, 'checkpoint'),
        checkpointEvery: training.checkpointEvery,
        metadata: { config },
        onStep: report.onStep,
      });
      net.dispose();
      return report.result(result);
    },
  };
}

/**
 * The label update after training stage s (digest section 10.4), per image at full resolution, single scale: the
 * CAMs of the labelled classes (ReLU, max-normalised) propagated once by A_ct; the predicted saliency averaged with
 * the original map and refined by the 2-label saliency CRF; the heuristic fusion of the two.
 */
function updateStage(stage: number): Stage<AuxSegNetConfig> {
  return {
    name: updateName(stage),
    perImage: true,
    description: `stage ${stage}: new pseudo labels from A_ct-refined CAMs and the updated saliency`,
    async run(ctx) {
      const { config } = ctx;
      const data = await withSaliency(ctx);
      const { classValues, numClasses } = classLayout(data);
      const net = await trainedAuxSegNet(
        config,
        classValues.length,
        numClasses,
        join(stageDir(ctx, trainName(stage)), 'checkpoint'),
      );
      const cm = new ConfusionMatrix(numClasses);
      const ids = shardIds(data.ids, ctx.shard);
      for (const [i, id] of ids.entries()) {
        const sample = await data.get(id);
        const { width, height } = sample.image;
        const present = classValues.flatMap((_, c) => (sample.labels[c] > 0 ? [c] : []));
        const values = present.map((c) => classValues[c]);
        const saliency = sample.floatMaps!.saliency.data;
        const { cams, predictedSaliency } = tf.tidy(() => {
          const out = net.forward(
            scaledInput(sample.image, net.backbone.normalization, config.training.inputScale),
          );
          const maps = propagatedCams(
            out.activationMaps,
            present,
            out.crossTask,
            config.update.renormaliseRefinedCam,
          );
          const salLogit = out.refinedSal ?? out.initSal;
          return {
            cams: present.length
              ? (tf.image.resizeBilinear(maps, [height, width]).dataSync() as Float32Array)
              : new Float32Array(0),
            predictedSaliency: salLogit
              ? (tf.sigmoid(tf.image.resizeBilinear(salLogit, [height, width])).dataSync() as Float32Array)
              : undefined,
          };
        });
        const { labels, saliency: updated } = await updatedPseudoLabels(
          sample.image,
          cams,
          values,
          { original: saliency, predicted: predictedSaliency },
          { fusion: config.fusion, saliencyCrf: config.update.saliencyCrf, background: hasBackground(data) },
        );
        const map = { width, height, data: labels };
        await writeLabelPng(join(ctx.dir, 'labels', `${id}.png`), map, data.palette);
        await writeSaliencyPng(join(ctx.dir, 'saliency', `${id}.png`), width, height, updated);
        if (sample.mask) cm.update(sample.mask.data, labels);
        if (i < config.evaluation.overlays)
          await writeOverlay(ctx, id, sample.image, [map, sample.mask], data.palette);
        ctx.progress({ label: `stage ${stage} update`, done: i + 1, total: ids.length });
      }
      net.dispose();
      return {
        outputs: { dir: ownDir(ctx), labels: 'labels', saliency: 'saliency', overlays: 'overlays' },
        scores: data.hasMasks
          ? {
              [`pseudo labels, stage ${stage} (train)`]: segmentationScores(
                cm,
                data.classNames,
                data.backgroundIndex,
              ),
            }
          : undefined,
      };
    },
  };
}

/**
 * Class probabilities [H, W, C] of an image from the network's refined segmentation (initial without the cross-task
 * affinity), averaged over scales (relative to the input scale) and flips, as AuxSegNet's inference; with
 * `withInitial` also the initial segmentation's, from the same forward passes.
 */
export function auxSegNetProbabilities(
  net: AuxSegNetNetwork,
  image: RgbImage,
  options: { scales: readonly number[]; flip: boolean; inputScale: number; withInitial?: boolean },
): { probabilities: tf.Tensor3D; initial?: tf.Tensor3D } {
  const averaged = tf.tidy(() => {
    const refined: tf.Tensor3D[] = [];
    const initial: tf.Tensor3D[] = [];
    const probabilities = (logits: tf.Tensor4D, flipped: boolean) => {
      const p = tf.softmax(tf.image.resizeBilinear(logits, [image.height, image.width], false, true));
      return tf.squeeze(flipped ? tf.reverse(p, 2) : p, [0]) as tf.Tensor3D;
    };
    for (const scale of options.scales) {
      const x = scaledInput(image, net.backbone.normalization, scale * options.inputScale);
      for (const flipped of options.flip ? [false, true] : [false]) {
        const out = net.forward(flipped ? tf.reverse(x, 2) : x);
        refined.push(probabilities(out.refinedSeg ?? out.initSeg, flipped));
        // one forward pass gives both predictions
        if (options.withInitial) initial.push(probabilities(out.initSeg, flipped));
      }
    }
    const mean = (runs: tf.Tensor3D[]) => tf.div(tf.addN(runs), runs.length) as tf.Tensor3D;
    return initial.length ? [mean(refined), mean(initial)] : [mean(refined)];
  });
  return { probabilities: averaged[0], initial: averaged[1] };
}

/** Every stage's network on the held-out images (the last one's predictions written). */
const evaluateStage: Stage<AuxSegNetConfig> = {
  name: 'evaluate',
  perImage: true,
  description: "predict the held-out images with every stage's network and score them",
  async run(ctx) {
    const { config } = ctx;
    const stages = config.iterations.stages;
    const data = await openDataset(config.dataset, 'eval');
    const { classValues, numClasses } = classLayout(data);
    const scores: NonNullable<StageResult['scores']> = {};
    const ids = shardIds(data.ids, ctx.shard);
    for (let stage = 1; stage <= stages; stage++) {
      const last = stage === stages;
      const net = await trainedAuxSegNet(
        config,
        classValues.length,
        numClasses,
        join(stageDir(ctx, trainName(stage)), 'checkpoint'),
      );
      const cm = new ConfusionMatrix(numClasses);
      // with the cross-task affinity the last network's initial prediction is scored too (what A_ct adds)
      const initial = last && config.network.crossTask ? new ConfusionMatrix(numClasses) : undefined;
      for (const [i, id] of ids.entries()) {
        const sample = await data.get(id);
        const { probabilities, initial: initialProbabilities } = auxSegNetProbabilities(net, sample.image, {
          ...config.evaluation,
          inputScale: config.training.inputScale,
          withInitial: initial !== undefined && sample.mask !== undefined,
        });
        const labelsOf = async (p: tf.Tensor3D) => {
          try {
            return await labelsFromProbabilities(p, sample.image, {
              crf: config.evaluation.crf ? 'psa' : false,
            });
          } finally {
            p.dispose();
          }
        };
        const prediction = await labelsOf(probabilities);
        const initialPrediction = initialProbabilities && (await labelsOf(initialProbabilities));
        if (last) {
          await writeLabelPng(join(ctx.dir, 'predictions', `${id}.png`), prediction, data.palette);
          if (i < config.evaluation.overlays)
            await writeOverlay(ctx, id, sample.image, [prediction, sample.mask], data.palette);
        }
        if (sample.mask) {
          cm.update(sample.mask.data, prediction.data);
          if (initial && initialPrediction) initial.update(sample.mask.data, initialPrediction.data);
        }
        ctx.progress({ label: `evaluate stage ${stage}`, done: i + 1, total: ids.length });
      }
      net.dispose();
      scores[last ? 'final network (held out)' : `stage ${stage} network (held out)`] = segmentationScores(
        cm,
        data.classNames,
        data.backgroundIndex,
      );
      if (initial) {
        scores['final network, initial prediction (held out)'] = segmentationScores(
          initial,
          data.classNames,
          data.backgroundIndex,
        );
      }
    }
    return {
      outputs: { dir: ownDir(ctx), predictions: 'predictions', overlays: 'overlays' },
      scores: data.hasMasks ? scores : undefined,
    };
  },
};

/** The AuxSegNet pipeline's stages for `iterations.stages` training stages. */
export function auxSegNetStages(config: Pick<AuxSegNetConfig, 'iterations'>): Stage<AuxSegNetConfig>[] {
  const stages = stageCount('iterations.stages', config.iterations.stages);
  const training = Array.from({ length: stages }, (_, k) =>
    k + 1 < stages ? [trainStage(k + 1), updateStage(k + 1)] : [trainStage(k + 1)],
  ).flat();
  // saliency first: it checks the dataset's background before anything trains
  return [
    saliencyStage,
    trainClassifierStage,
    camsStage,
    initialLabelsStage,
    ...training,
    evaluateStage,
  ] as Stage<AuxSegNetConfig>[];
}

export { trainName as auxSegNetTrainStageName };
