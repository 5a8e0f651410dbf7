/**
 * The CAM stage of weakly supervised segmentation, end to end: train a MobileNetV2 multi-label classifier from
 * image-level labels only, turn its multi-scale class activation maps into pseudo labels, and score them against
 * masks the network never saw.
 *
 *   pnpm quickstart                             # built-in synthetic dataset, no download
 *   pnpm quickstart --dataset camvid            # CamVid from the shared data folder (val split scored)
 *   pnpm quickstart --steps 300 --lr 0.002 --os 16 --finetune --scales 2,3 --out out/quickstart --weights <dir> --fresh
 *
 * ImageNet weights are used when found (../shared or --weights), else training starts from random weights.
 * Checkpoints go to <out>/checkpoint; running again resumes (pass --fresh to start over).
 */
import { rm } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { camLabels, camOverlay, multiScaleCam, resizeBicubic } from '@wsss/cam';
import { numberOption, parseCommandLine, stringOption } from '@wsss/cli';
import {
  ConfusionMatrix,
  imageToInput,
  MOBILENET_NORMALIZATION,
  Progress,
  type RgbImage,
  selectBackend,
  tf,
  writeLabelPng,
  writePng,
} from '@wsss/core';
import { sharedPath } from '@wsss/core/testing';
import {
  type AugmentOptions,
  BatchLoader,
  createSyntheticDataset,
  loadCamVid,
  type SegmentationDataset,
} from '@wsss/datasets';
import { ClassifierHead, MobileNetV2, trainClassifier } from '@wsss/models';

const { values: args } = parseCommandLine(
  process.argv.slice(2),
  Object.fromEntries(
    [
      [
        'dataset',
        'size',
        'eval',
        'bg',
        'camvid',
        'out',
        'steps',
        'batch',
        'weights',
        'os',
        'lr',
        'scales',
      ].map((name) => [name, { type: 'string' as const }]),
      ['finetune', 'fresh'].map((name) => [name, { type: 'boolean' as const }]),
    ].flat(),
  ),
  'quickstart',
);
const arg = (name: string, fallback: string) => stringOption(args, name, fallback);
const numberArg = (name: string, fallback: number) => numberOption(args, name, fallback);

interface Setup {
  train: SegmentationDataset;
  test: SegmentationDataset;
  augment: AugmentOptions;
  /** Factor applied to evaluation images before the CAM network (CAMs are scored at full resolution). */
  evalScale: number;
  /** CAM background threshold, or null for datasets without a background class. */
  background: { threshold: number } | null;
  /**
   * CAM input scales. The synthetic images are small (96 px) next to MobileNetV2's receptive field: CAMs of the
   * same classifier localise far better on 2-3x enlarged inputs (measured: 11 vs 32 mIoU).
   */
  scales: string;
}

async function setup(dataset: string): Promise<Setup> {
  if (dataset === 'synthetic') {
    const size = numberArg('size', 96);
    const options = { numClasses: 6, height: size, width: size };
    return {
      train: createSyntheticDataset({ ...options, size: 2000, seed: 1 }),
      test: createSyntheticDataset({ ...options, size: numberArg('eval', 100), seed: 2 }),
      augment: { scaleRange: [0.9, 1.1], cropSize: size },
      evalScale: 1,
      background: { threshold: numberArg('bg', 0.25) },
      scales: '2,2.5,3',
    };
  }
  if (dataset === 'camvid') {
    const root = arg('camvid', sharedPath('data/camvid') ?? '');
    if (!root) throw new Error('--dataset camvid: CamVid not found; pass --camvid <folder> or set WSSS_DATA');
    const test = await loadCamVid({ root, split: 'val' });
    const n = numberArg('eval', test.ids.length);
    return {
      train: await loadCamVid({ root, split: 'train' }),
      test: { ...test, ids: test.ids.slice(0, n) },
      // Half resolution (240x180) for speed; random crops of 176x176.
      augment: { scaleRange: [0.45, 0.55], cropSize: 176 },
      evalScale: 0.5,
      background: null,
      scales: '1,1.5,2',
    };
  }
  throw new Error(`--dataset: expected synthetic or camvid, got ${dataset}`);
}

const dataset = arg('dataset', 'synthetic');
const outDir = resolve(arg('out', `out/quickstart-${dataset}`));
const steps = numberArg('steps', 240);
const batchSize = numberArg('batch', 8);
const weightsDir = arg('weights', sharedPath('weights/mobilenet_v2_1.0_224') ?? '');
const outputStride = numberArg('os', 8) as 8 | 16 | 32;

await selectBackend();
const { train, test, augment, evalScale, background, scales: defaultScales } = await setup(dataset);
const numClasses = train.labelClasses.length;
const backbone = weightsDir
  ? await MobileNetV2.fromWeights(weightsDir, { outputStride })
  : new MobileNetV2({ outputStride, seed: 1 });
const head = new ClassifierHead(backbone.featureChannels, numClasses, { seed: 1 });
// With ImageNet weights only the classifier trains unless --finetune is given: CAMs then come from the ImageNet
// features as they are, which localise better on these small images than fine-tuned ones (and train 6x faster).
const finetune = !weightsDir || args.finetune === true;
if (!finetune) for (const name of backbone.params.variables.keys()) backbone.params.frozen.add(name);
console.log(
  `${train.name}: MobileNetV2 (output stride ${outputStride}) ${weightsDir ? 'from ImageNet weights' : 'from random weights'}, ` +
    `${finetune ? 'all layers' : 'classifier only (--finetune trains all)'}, ${steps} steps of batch ${batchSize}, ` +
    `${numClasses} classes`,
);

const loader = new BatchLoader(train, {
  batchSize,
  seed: 1,
  augment,
  normalization: MOBILENET_NORMALIZATION,
});
const checkpointDir = join(outDir, 'checkpoint');
if (args.fresh === true) await rm(checkpointDir, { recursive: true, force: true });
const perEpoch = Math.min(loader.length, steps);
const result = await trainClassifier(
  { backbone, head },
  {
    batches: (epoch, from) => loader.epoch(epoch, from),
    batchesPerEpoch: perEpoch,
    epochs: Math.ceil(steps / perEpoch),
    optimizer: weightsDir
      ? { kind: 'sgd', learningRate: numberArg('lr', 0.002), momentum: 0.9, weightDecay: 1e-4 }
      : { kind: 'adam', learningRate: numberArg('lr', 0.001), weightDecay: 1e-5, headLrMultiplier: 1 },
    checkpointDir,
    checkpointEvery: 40,
    progress: { label: 'train' },
  },
);
if (result.resumedFrom) console.log(`resumed from step ${result.resumedFrom}`);

// Pseudo labels from multi-scale + flip CAMs with the ground-truth image labels (as WSSS methods do on train data).
const network = (x: tf.Tensor4D) => head.activationMaps(backbone.forward(x).features);
const classValues = [...train.labelClasses];
const scales = arg('scales', defaultScales).split(',').map(Number);
const cm = new ConfusionMatrix(train.classNames.length);
// IRN evaluates CAMs over a sweep of background thresholds (cam_eval_thres); report the sweep next to the default.
const sweep = background ? [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7] : [];
const sweepCms = sweep.map(() => new ConfusionMatrix(train.classNames.length));
let exact = 0;
const scaled = (image: RgbImage) =>
  evalScale === 1
    ? image
    : resizeBicubic(image, Math.round(image.width * evalScale), Math.round(image.height * evalScale));
const camProgress = new Progress(test.ids.length, { label: 'CAM pseudo labels' });
for (let i = 0; i < test.ids.length; i++) {
  const sample = await test.get(test.ids[i]);
  const small = scaled(sample.image);
  const cams = tf.tidy(() => {
    const c = multiScaleCam(small, sample.labels, network, {
      scales,
      normalization: MOBILENET_NORMALIZATION,
    });
    return tf.image.resizeBilinear(c, [sample.image.height, sample.image.width], false, true) as tf.Tensor3D;
  });
  const labels = camLabels(cams, classValues, background);
  cm.update(sample.mask!.data, labels.data);
  sweep.forEach((threshold, k) => {
    sweepCms[k].update(sample.mask!.data, camLabels(cams, classValues, { threshold }).data);
  });
  const logits = tf.tidy(() =>
    head.forward(backbone.forward(imageToInput(small, MOBILENET_NORMALIZATION)).features).dataSync(),
  );
  if (logits.every((l, c) => (l > 0 ? 1 : 0) === sample.labels[c])) exact++;
  if (i < 6) {
    const top = tf.tidy(() => tf.max(cams, 2).dataSync());
    await writePng(join(outDir, `${sample.id}_cam.png`), camOverlay(sample.image, top));
    await writeLabelPng(join(outDir, `${sample.id}_pseudo.png`), labels, train.palette);
    await writeLabelPng(join(outDir, `${sample.id}_truth.png`), sample.mask!, train.palette);
  }
  cams.dispose();
  camProgress.tick();
}
camProgress.done();

const iou = cm.perClassIoU();
console.log(`\nclassification: ${exact}/${test.ids.length} held-out images with every label right`);
console.log(`CAM pseudo-label IoU on ${test.name} (${test.ids.length} images, against the real masks):`);
console.log(train.classNames.map((n, c) => `  ${n.padEnd(11)} ${(100 * iou[c]).toFixed(1)}`).join('\n'));
console.log(`  mIoU        ${(100 * cm.meanIoU()).toFixed(1)}`);
if (sweep.length) {
  console.log(
    `background threshold sweep: ${sweep.map((t, k) => `${t}: ${(100 * sweepCms[k].meanIoU()).toFixed(1)}`).join(', ')}`,
  );
}
console.log(`overlays and label maps in ${outDir}`);
backbone.dispose();
head.dispose();
