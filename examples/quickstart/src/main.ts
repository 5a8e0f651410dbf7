/**
 * The CAM stage of weakly supervised segmentation, end to end on the built-in synthetic dataset (no download):
 * train a MobileNetV2 multi-label classifier from image-level labels only, turn its class activation maps into
 * pseudo labels, and score them against the exact masks the labels never showed the network.
 *
 *   pnpm demo                      # from the repository root
 *   pnpm demo --steps 300 --out out/quickstart --weights <dir with model.json>   # ImageNet init when available
 *
 * Checkpoints go to <out>/checkpoint; running again resumes (pass --fresh to start over).
 */
import { rm } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { camLabels, camOverlay, multiScaleCam } from '@wsss/cam';
import { ConfusionMatrix, selectBackend, tf, writeLabelPng, writePng } from '@wsss/core';
import { sharedPath } from '@wsss/core/testing';
import { BatchLoader, createSyntheticDataset, MOBILENET_NORMALIZATION } from '@wsss/datasets';
import { ClassifierHead, MobileNetV2, trainClassifier } from '@wsss/models';

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] !== undefined ? process.argv[i + 1] : fallback;
}

const outDir = resolve(arg('out', 'out/quickstart'));
const steps = Number(arg('steps', '240'));
const batchSize = Number(arg('batch', '8'));
const size = Number(arg('size', '96'));
const numClasses = 6;
const weightsDir = arg('weights', sharedPath('weights/mobilenet_v2_1.0_224') ?? '');

await selectBackend();
const train = createSyntheticDataset({ size: 2000, seed: 1, numClasses, height: size, width: size });
const test = createSyntheticDataset({
  size: Number(arg('eval', '100')),
  seed: 2,
  numClasses,
  height: size,
  width: size,
});

const backbone = weightsDir
  ? await MobileNetV2.fromWeights(weightsDir, { outputStride: 8 })
  : new MobileNetV2({ outputStride: 8, seed: 1 });
const head = new ClassifierHead(backbone.featureChannels, numClasses, { seed: 1 });
console.log(
  `MobileNetV2 (output stride 8) ${weightsDir ? `from ImageNet weights in ${weightsDir}` : 'from random initialisation'}; ` +
    `${steps} steps of batch ${batchSize} on ${size}x${size} synthetic images, ${numClasses} classes`,
);

const loader = new BatchLoader(train, {
  batchSize,
  seed: 1,
  augment: { scaleRange: [0.9, 1.1], cropSize: size },
  normalization: MOBILENET_NORMALIZATION,
});
const checkpointDir = join(outDir, 'checkpoint');
if (process.argv.includes('--fresh')) await rm(checkpointDir, { recursive: true, force: true });
const result = await trainClassifier(
  { backbone, head },
  {
    batches: (epoch, from) => loader.epoch(epoch, from),
    batchesPerEpoch: Math.min(loader.length, steps),
    epochs: Math.ceil(steps / Math.min(loader.length, steps)),
    optimizer: weightsDir
      ? { kind: 'sgd', learningRate: Number(arg('lr', '0.001')), momentum: 0.9, weightDecay: 1e-4 }
      : { kind: 'adam', learningRate: Number(arg('lr', '0.001')), weightDecay: 1e-5, headLrMultiplier: 1 },
    checkpointDir,
    checkpointEvery: 40,
  },
);
if (result.resumedFrom) console.log(`resumed from step ${result.resumedFrom}`);

// Pseudo labels from multi-scale + flip CAMs with the ground-truth image labels (as WSSS methods do on train data).
const network = (x: tf.Tensor4D) => head.activationMaps(backbone.forward(x).features);
const classValues = Array.from({ length: numClasses }, (_, c) => c + 1);
const cm = new ConfusionMatrix(numClasses + 1);
let correct = 0;
for (let i = 0; i < test.ids.length; i++) {
  const sample = test.generate(i);
  const cams = multiScaleCam(sample.image, sample.labels, network, {
    scales: [1, 0.75, 1.25],
    normalization: MOBILENET_NORMALIZATION,
  });
  const labels = camLabels(cams, classValues, { threshold: 0.25 });
  cm.update(sample.mask!.data, labels.data);
  const logits = tf.tidy(() => {
    const x = tf.tensor4d(
      Float32Array.from(sample.image.data, (v) => v / 127.5 - 1),
      [1, size, size, 3],
    );
    return head.forward(backbone.forward(x).features).dataSync();
  });
  if (logits.every((l, c) => (l > 0 ? 1 : 0) === sample.labels[c])) correct++;
  if (i < 6) {
    const top = tf.tidy(() => tf.max(cams, 2).dataSync());
    await writePng(join(outDir, `${sample.id}_cam.png`), camOverlay(sample.image, top));
    await writeLabelPng(join(outDir, `${sample.id}_pseudo.png`), labels);
    await writeLabelPng(join(outDir, `${sample.id}_truth.png`), sample.mask!);
  }
  cams.dispose();
}

const iou = cm.perClassIoU();
console.log(`\nclassification: ${correct}/${test.ids.length} test images with every label right`);
console.log('CAM pseudo-label IoU on held-out synthetic images (against exact masks):');
console.log(train.classNames.map((n, c) => `  ${n.padEnd(10)} ${(100 * iou[c]).toFixed(1)}`).join('\n'));
console.log(`  mIoU       ${(100 * cm.meanIoU()).toFixed(1)}`);
console.log(`overlays and label maps in ${outDir}`);
backbone.dispose();
head.dispose();
