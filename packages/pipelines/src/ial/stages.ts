import { join } from 'node:path';
import { affinityLabels, affinityNetLoss, type PairIndices, pairAffinity, pairIndices } from '@wsss/affinity';
import { ConfusionMatrix, type RgbImage, tf, writeLabelPng } from '@wsss/core';
import { argmaxLabels, denseCrf } from '@wsss/crf';
import { type Batch, BatchLoader, type SegmentationDataset, withMapFolders } from '@wsss/datasets';
import { type SegmentationNetwork, trainLoop } from '@wsss/models';
import { ownDir, stageDir, trainingReport, writeOverlay } from '../artefacts';
import { classLayout, trainedSegmentationNetwork } from '../baseline/networks';
import { camsStage, evaluateCheckpoint, trainClassifierStage, trainSegmentationOn } from '../baseline/stages';
import { readCamFile, writeCamFile } from '../cam_files';
import { openDataset } from '../data';
import { confusionFromJson, segmentationScores } from '../evaluation';
import { scaledInput } from '../network_input';
import { type Stage, type StageResult, shardIds, stageCount } from '../stage';
import type { IalConfig } from './config';
import { AFFINITY_STRIDE, affinityNetwork, trainedAffinityNetwork } from './networks';
import {
  labelsAtStride,
  mineConfidentRegions,
  refineByRandomWalk,
  sharesPerPixel,
  unaryFromCams,
} from './regions';

const stageName = (round: number, step: 'unary' | 'train-affinity' | 'random-walk' | 'train-segmentation') =>
  `round-${round}-${step}`;

/** The dataset's background value (0) or null; the pipeline's label arithmetic needs the background at 0. */
function backgroundOf(data: SegmentationDataset): 0 | null {
  const { backgroundIndex } = data;
  if (backgroundIndex !== null && backgroundIndex !== 0) {
    throw new Error(`ial: the background class must be 0 (or absent), got ${backgroundIndex}`);
  }
  return backgroundIndex;
}

/** The channels of an image's score maps: the background (where the dataset has one), then its labelled classes. */
function channelValues(data: SegmentationDataset, labels: ArrayLike<number>): number[] {
  const present = data.labelClasses.filter((_, c) => labels[c] > 0);
  return backgroundOf(data) === null ? present : [0, ...present];
}

/** [N x C] pixel-major <-> [C x N] channel-major. */
function transpose(values: ArrayLike<number>, rows: number, columns: number): Float32Array {
  const out = new Float32Array(rows * columns);
  for (let r = 0; r < rows; r++)
    for (let c = 0; c < columns; c++) out[c * rows + r] = values[r * columns + c];
  return out;
}

/** Mask values of channel indices (255 stays 255). */
const toValues = (channels: Uint8Array, values: readonly number[]) =>
  channels.map((c) => (c === 255 ? 255 : values[c]));

/** The unary network's probabilities of an image, restricted to `values` and renormalised: [C x N]. */
function unaryFromNetwork(
  net: SegmentationNetwork,
  image: RgbImage,
  values: readonly number[],
  config: IalConfig,
): Float32Array {
  const picked = tf.tidy(() => {
    const probabilities = net.predict(image, {
      scales: config.evaluation.scales.map((s) => s * config.segmentation.inputScale),
      flip: config.evaluation.flip,
    });
    return tf.gather(probabilities, values, 2).dataSync() as Float32Array;
  });
  return sharesPerPixel(transpose(picked, image.width * image.height, values.length), values.length);
}

/**
 * Round r's unary: the per-pixel class shares the random walk refines (round 1: CAMs with a background score; later:
 * the previous round's segmentation network, restricted to the image's labelled classes), and the confident regions
 * mined for the round's affinity network.
 */
function unaryStage(round: number): Stage<IalConfig> {
  return {
    name: stageName(round, 'unary'),
    perImage: true,
    description:
      round === 1
        ? 'round 1 unary: CAM shares with a background score; confident regions mined from them'
        : `round ${round} unary: round ${round - 1}'s segmentation network on the training images; confident regions mined`,
    async run(ctx) {
      const { config } = ctx;
      const data = await openDataset(config.dataset, 'train');
      const background = backgroundOf(data);
      const { numClasses } = classLayout(data);
      const net =
        round === 1
          ? undefined
          : await trainedSegmentationNetwork(
              config,
              numClasses,
              join(stageDir(ctx, stageName(round - 1, 'train-segmentation')), 'checkpoint'),
            );
      const refinedDir =
        round > 1 && config.mining.source === 'refined'
          ? join(stageDir(ctx, stageName(round - 1, 'random-walk')), 'scores')
          : undefined;
      const unaryCm = new ConfusionMatrix(numClasses);
      const minedCm = new ConfusionMatrix(numClasses);
      const ids = shardIds(data.ids, ctx.shard);
      for (const [i, id] of ids.entries()) {
        const sample = await data.get(id);
        const { width, height } = sample.image;
        const pixels = width * height;
        const values = channelValues(data, sample.labels);
        let shares: Float32Array = new Float32Array(0);
        let confident: Uint8Array = new Uint8Array(pixels).fill(255);
        let unaryLabels = confident;
        if (values.length) {
          if (net) shares = unaryFromNetwork(net, sample.image, values, config);
          else {
            const cams = await readCamFile(join(stageDir(ctx, 'cams'), 'cams', `${id}.cam`));
            shares = unaryFromCams(cams.data, cams.classValues.length, {
              background: background !== null,
              alpha: config.unary.backgroundAlpha,
            });
          }
          const source = refinedDir
            ? transpose((await readCamFile(join(refinedDir, `${id}.cam`))).data, pixels, values.length)
            : shares;
          const agreement = config.mining.crfAgreement
            ? (await denseCrf(sample.image, { probabilities: source }, 'psa')).labels
            : undefined;
          confident = mineConfidentRegions(source, values, {
            thresholds: config.mining.thresholds,
            agreement,
          });
          unaryLabels = toValues(argmaxLabels(shares, values.length), values);
        }
        await writeCamFile(join(ctx.dir, 'unary', `${id}.cam`), {
          width,
          height,
          classValues: values,
          data: transpose(shares, values.length, pixels),
        });
        const confidentMap = { width, height, data: confident };
        await writeLabelPng(join(ctx.dir, 'confident', `${id}.png`), confidentMap, data.palette);
        if (sample.mask) {
          unaryCm.update(sample.mask.data, unaryLabels);
          minedCm.update(sample.mask.data, confident);
        }
        if (i < config.evaluation.overlays) {
          const unaryMap = { width, height, data: unaryLabels };
          await writeOverlay(ctx, id, sample.image, [unaryMap, confidentMap, sample.mask], data.palette);
        }
        ctx.progress({ label: `round ${round} unary`, done: i + 1, total: ids.length });
      }
      net?.dispose();
      return minedValues({
        outputs: { dir: ownDir(ctx), unary: 'unary', confident: 'confident', overlays: 'overlays' },
        scores: data.hasMasks
          ? {
              'unary (train)': segmentationScores(unaryCm, data.classNames, data.backgroundIndex),
              'confident regions (train)': segmentationScores(minedCm, data.classNames, data.backgroundIndex),
            }
          : undefined,
      });
    },
    finishMerge: (merged) => minedValues(merged),
  };
}

/** How much of the images the confident regions cover and how often they are right, from their confusion counts. */
function minedValues(result: StageResult): StageResult {
  const scores = result.scores?.['confident regions (train)'];
  if (!scores) return result;
  const cm = confusionFromJson(scores.confusion);
  let labelled = 0;
  let correct = 0;
  let missed = 0;
  for (let g = 0; g < cm.numClasses; g++) {
    for (let p = 0; p < cm.numClasses; p++) labelled += cm.at(g, p);
    correct += cm.at(g, g);
    missed += cm.missedPredictions[g];
  }
  return {
    ...result,
    values: {
      'confident pixels %': Number(((100 * labelled) / Math.max(1, labelled + missed)).toFixed(2)),
      'confident pixels right %': Number(((100 * correct) / Math.max(1, labelled)).toFixed(2)),
    },
  };
}

/** Affinity labels use 0 for the background; without one every class is shifted up so that all pairs are foreground. */
function affinityClasses(labels: Uint8Array, background: 0 | null): Uint8Array {
  return background === null ? labels.map((v) => (v === 255 ? 255 : v + 1)) : labels;
}

/** Round r's pairwise branch: AffinityNet on the confident regions (psa's pair labels and loss). */
function trainAffinityStage(round: number): Stage<IalConfig> {
  return {
    name: stageName(round, 'train-affinity'),
    description: `round ${round}: train the affinity network (MobileNetV2 + AffinityNet head) on the confident regions`,
    async run(ctx) {
      const { config } = ctx;
      const { affinity } = config;
      const base = await openDataset(config.dataset, 'train');
      const background = backgroundOf(base);
      const confidentDir = join(stageDir(ctx, stageName(round, 'unary')), 'confident');
      const data = withMapFolders(base, { labelMaps: { confident: confidentDir } });
      const net = await affinityNetwork(config, true);
      if (!affinity.finetune && config.backbone.weights) {
        for (const name of net.backbone.params.variables.keys()) net.backbone.params.frozen.add(name);
      }
      const loader = new BatchLoader(data, {
        batchSize: affinity.batchSize,
        seed: 5 + round,
        augment: {
          scaleRange: [0.8 * affinity.inputScale, 1.2 * affinity.inputScale],
          cropSize: affinity.cropSize,
        },
        normalization: net.backbone.normalization,
      });
      const grid = Math.ceil(affinity.cropSize / AFFINITY_STRIDE);
      const pairs = pairIndices(grid, grid, affinity.radius);
      const { steps } = affinity;
      const perEpoch = Math.min(loader.length, steps);
      const report = trainingReport(ctx, `round ${round} affinity`);
      const result = await trainLoop({
        parameters: net.parameterSets(),
        loss: (batch: Batch) => {
          const maps = batch.labelMaps.confident;
          const [b, h, w] = maps.shape;
          const all = maps.dataSync();
          const labels = Array.from({ length: b }, (_, k) => {
            const cells = labelsAtStride(all.subarray(k * h * w, (k + 1) * h * w), h, w, AFFINITY_STRIDE);
            return affinityLabels(affinityClasses(cells.labels, background), pairs);
          });
          return affinityNetLoss(pairAffinity(net.features(batch.images, true), pairs), labels);
        },
        batches: (epoch, from) => loader.epoch(epoch, from),
        batchesPerEpoch: perEpoch,
        epochs: Math.ceil(steps / perEpoch),
        totalSteps: steps,
        optimizer: {
          kind: 'sgd',
          learningRate: affinity.learningRate,
          momentum: 0.9,
          weightDecay: affinity.weightDecay,
        },
        checkpointDir: join(ctx.dir, 'checkpoint'),
        checkpointEvery: affinity.checkpointEvery,
        metadata: { config },
        onStep: report.onStep,
      });
      net.dispose();
      return report.result(result);
    },
  };
}

/** The pair affinities of an image at the affinity network's input scale: [offsets x from], and the pairs' grid. */
async function imageAffinity(
  net: Awaited<ReturnType<typeof trainedAffinityNetwork>>,
  image: RgbImage,
  config: IalConfig,
  pairsOf: (h: number, w: number) => PairIndices,
) {
  const input = scaledInput(image, net.backbone.normalization, config.affinity.inputScale);
  const size: [number, number] = [input.shape[1], input.shape[2]];
  const features = net.features(input);
  input.dispose();
  const pairs = pairsOf(features.shape[1], features.shape[2]);
  const affinity = pairAffinity(features, pairs);
  const values = (await affinity.data()) as Float32Array;
  tf.dispose([features, affinity]);
  return { affinity: values, pairs, inputSize: size };
}

/**
 * Round r's refinement: the unary shares, average-pooled to the affinity network's grid, propagated by psa's random
 * walk over the learned affinities, upsampled to the image; their argmax are the round's pseudo labels. Logs the
 * energy of the unary's own labelling and of the walk's (see labellingEnergy).
 */
function randomWalkStage(round: number): Stage<IalConfig> {
  return {
    name: stageName(round, 'random-walk'),
    perImage: true,
    description: `round ${round}: refine the unary by a random walk over the learned affinities -> pseudo labels`,
    async run(ctx) {
      const { config } = ctx;
      const data = await openDataset(config.dataset, 'train');
      const { numClasses } = classLayout(data);
      const net = await trainedAffinityNetwork(
        config,
        join(stageDir(ctx, stageName(round, 'train-affinity')), 'checkpoint'),
      );
      const unaryDir = join(stageDir(ctx, stageName(round, 'unary')), 'unary');
      const pairCache = new Map<string, PairIndices>();
      const pairsOf = (h: number, w: number) => {
        const key = `${h}x${w}`;
        if (!pairCache.has(key)) pairCache.set(key, pairIndices(h, w, config.affinity.radius));
        return pairCache.get(key)!;
      };
      const cm = new ConfusionMatrix(numClasses);
      const sums = {
        before: { unary: 0, pairwise: 0, total: 0 },
        after: { unary: 0, pairwise: 0, total: 0 },
      };
      let steps = 0;
      let walked = 0;
      const ids = shardIds(data.ids, ctx.shard);
      for (const [i, id] of ids.entries()) {
        const sample = await data.get(id);
        const { width, height } = sample.image;
        const unary = await readCamFile(join(unaryDir, `${id}.cam`));
        const values = unary.classValues;
        const c = values.length;
        let labels: Uint8Array = new Uint8Array(width * height).fill(255);
        let refined: Float32Array = new Float32Array(0);
        if (c) {
          const { affinity, pairs, inputSize } = await imageAffinity(net, sample.image, config, pairsOf);
          const gridPixels = pairs.height * pairs.width;
          const pooled = tf.tidy(() => {
            const maps = tf.tensor4d(unary.data, [1, height, width, c]);
            const resized = tf.image.resizeBilinear(maps, inputSize);
            const cells = tf.avgPool(resized, AFFINITY_STRIDE, AFFINITY_STRIDE, 'same');
            return cells.dataSync() as Float32Array;
          });
          const grid = sharesPerPixel(transpose(pooled, gridPixels, c), c);
          const walk = refineByRandomWalk(grid, c, affinity, pairs, {
            ...config.randomWalk,
            pairwiseWeight: config.energy.pairwiseWeight,
          });
          steps += walk.steps;
          walked++;
          for (const [key, energy] of [
            ['before', walk.energy.unary],
            ['after', walk.energy.walk],
          ] as const) {
            for (const term of ['unary', 'pairwise', 'total'] as const) sums[key][term] += energy[term];
          }
          const upsampled = tf.tidy(() => {
            const maps = tf.tensor4d(transpose(walk.scores, c, gridPixels), [
              1,
              pairs.height,
              pairs.width,
              c,
            ]);
            const full = tf.image.resizeBilinear(maps, [
              pairs.height * AFFINITY_STRIDE,
              pairs.width * AFFINITY_STRIDE,
            ]);
            const cropped = tf.slice(full, [0, 0, 0, 0], [1, inputSize[0], inputSize[1], c]);
            return tf.image.resizeBilinear(cropped, [height, width]).dataSync() as Float32Array;
          });
          refined = sharesPerPixel(transpose(upsampled, width * height, c), c);
          labels = toValues(argmaxLabels(refined, c), values);
        }
        const map = { width, height, data: labels };
        await writeLabelPng(join(ctx.dir, 'labels', `${id}.png`), map, data.palette);
        await writeCamFile(join(ctx.dir, 'scores', `${id}.cam`), {
          width,
          height,
          classValues: values,
          data: transpose(refined, c, width * height),
        });
        if (sample.mask) cm.update(sample.mask.data, labels);
        if (i < config.evaluation.overlays) {
          const before = {
            width,
            height,
            data: toValues(argmaxLabels(transpose(unary.data, width * height, c), c), values),
          };
          await writeOverlay(ctx, id, sample.image, [before, map, sample.mask], data.palette);
        }
        ctx.progress({ label: `round ${round} random walk`, done: i + 1, total: ids.length });
      }
      net.dispose();
      const mean = (v: number) => Number((v / Math.max(1, walked)).toFixed(4));
      return {
        outputs: { dir: ownDir(ctx), labels: 'labels', scores: 'scores', overlays: 'overlays' },
        scores: data.hasMasks
          ? { 'pseudo labels (train)': segmentationScores(cm, data.classNames, data.backgroundIndex) }
          : undefined,
        values: {
          'energy of the unary labels': mean(sums.before.total),
          'energy of the walk labels': mean(sums.after.total),
          'unary term (walk labels)': mean(sums.after.unary),
          'pairwise term (walk labels)': mean(sums.after.pairwise),
          'pairwise term (unary labels)': mean(sums.before.pairwise),
          'mean walk steps': mean(steps),
        },
      };
    },
  };
}

/** Round r's unary network: the segmentation network trained on the walk's pseudo labels. */
function trainSegmentationStage(round: number): Stage<IalConfig> {
  return {
    name: stageName(round, 'train-segmentation'),
    description: `round ${round}: train the unary segmentation network (MobileNetV2 + ASPP) on the refined labels`,
    run: (ctx) =>
      trainSegmentationOn(
        ctx,
        join(stageDir(ctx, stageName(round, 'random-walk')), 'labels'),
        ctx.config.iterations.warmStart && round > 1
          ? join(stageDir(ctx, stageName(round - 1, 'train-segmentation')), 'checkpoint')
          : undefined,
      ),
  };
}

/** Every round's unary network on the held-out images (the last one's predictions written): mIoU per round. */
const evaluateStage: Stage<IalConfig> = {
  name: 'evaluate',
  perImage: true,
  description: "predict the held-out images with every round's segmentation network and score them",
  async run(ctx) {
    const { rounds } = ctx.config.iterations;
    const data = await openDataset(ctx.config.dataset, 'eval');
    const scores: NonNullable<StageResult['scores']> = {};
    for (let round = 1; round <= rounds; round++) {
      const checkpoint = join(stageDir(ctx, stageName(round, 'train-segmentation')), 'checkpoint');
      const last = round === rounds;
      const cm = await evaluateCheckpoint(
        ctx,
        checkpoint,
        last ? 'predictions' : undefined,
        `evaluate round ${round}`,
      );
      const name = last ? 'final network (held out)' : `round ${round} network (held out)`;
      scores[name] = segmentationScores(cm, data.classNames, data.backgroundIndex);
    }
    return {
      outputs: { dir: ownDir(ctx), predictions: 'predictions', overlays: 'overlays' },
      scores: data.hasMasks ? scores : undefined,
    };
  },
};

/** The IAL-style pipeline's stages for `rounds` rounds. */
export function ialStages(config: Pick<IalConfig, 'iterations'>): Stage<IalConfig>[] {
  const rounds = stageCount('iterations.rounds', config.iterations.rounds);
  const perRound = Array.from({ length: rounds }, (_, k) => [
    unaryStage(k + 1),
    trainAffinityStage(k + 1),
    randomWalkStage(k + 1),
    trainSegmentationStage(k + 1),
  ]).flat();
  return [trainClassifierStage, camsStage, ...perRound, evaluateStage] as Stage<IalConfig>[];
}

/** The stage that trains round `round`'s unary network (the last one's is the pipeline's final network). */
export const segmentationStageName = (round: number) => stageName(round, 'train-segmentation');
