/**
 * CAMs from the pretrained ImageNet MobileNetV2, no training: ImageNet classes are mapped onto VOC classes
 * (IMAGENET_1001_TO_VOC), each VOC class's CAM uses the classifier column of its best-scoring ImageNet class, and
 * psa's multi-scale + flip recipe makes the maps. Writes heatmap overlays and VOC-palette label maps; for the VOC
 * images it prints the IoU against the real masks.
 *
 *   pnpm --filter @wsss/example-imagenet-cam start [--data ../shared] [--out out/imagenet-cam] [--os 16]
 */
import { readdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { camLabels, camOverlay, multiScaleCam, resizeBicubic } from '@wsss/cam';
import { numberOption, parseCommandLine, stringOption } from '@wsss/cli';
import {
  ConfusionMatrix,
  MOBILENET_NORMALIZATION,
  normalizeImages,
  type RgbImage,
  readImage,
  selectBackend,
  tf,
  writeLabelPng,
  writePng,
} from '@wsss/core';
import { sharedDataRoot } from '@wsss/core/testing';
import { loadVoc, VOC_CLASSES } from '@wsss/datasets';
import { bestImageNetClassPerVocClass, MobileNetV2, vocProbabilitiesFromImageNet } from '@wsss/models';

const { values: args } = parseCommandLine(
  process.argv.slice(2),
  { data: { type: 'string' }, out: { type: 'string' }, os: { type: 'string' } },
  'imagenet-cam',
);
const dataRoot = resolve(stringOption(args, 'data', sharedDataRoot() ?? '../shared'));
const outDir = resolve(stringOption(args, 'out', 'out/imagenet-cam'));
const outputStride = numberOption(args, 'os', 16) as 8 | 16 | 32;

await selectBackend();
const weights = join(dataRoot, 'weights/mobilenet_v2_1.0_224');
// The ImageNet classifier (stride 32, as trained) decides which classes are present; the dilated copy makes CAMs.
const classifier = await MobileNetV2.fromWeights(weights, { includeTop: true });
const net = await MobileNetV2.fromWeights(weights, { includeTop: true, outputStride });
const kernel = net.params.get('MobilenetV2/Logits/Conv2d_1c_1x1/kernel');

/** ImageNet logits of the whole image resized to 224x224. */
function imagenetLogits(image: RgbImage): Float32Array {
  return tf.tidy(() => {
    const x = tf.tensor4d(Float32Array.from(image.data), [1, image.height, image.width, 3]);
    const resized = tf.image.resizeBilinear(x, [224, 224], false, true);
    return classifier
      .forward(normalizeImages(resized, MOBILENET_NORMALIZATION))
      .logits!.dataSync() as Float32Array;
  });
}

/** CAMs over the 20 VOC classes for the given labels. */
function vocCams(image: RgbImage, labels: Uint8Array, logits: Float32Array): tf.Tensor3D {
  const best = bestImageNetClassPerVocClass(logits);
  return tf.tidy(() => {
    const columns = Array.from(best, (k) => Math.max(k, 0));
    const weights = tf.gather(kernel, columns, 3); // [1,1,1280,20]
    const mask = tf.tensor1d(Array.from(best, (k) => (k < 0 ? 0 : 1)));
    const network = (x: tf.Tensor4D) =>
      tf.mul(tf.conv2d(net.forward(x).features, weights as tf.Tensor4D, 1, 'valid'), mask) as tf.Tensor4D;
    return multiScaleCam(image, labels, network, { normalization: MOBILENET_NORMALIZATION });
  });
}

/** Shrinks images whose longer side exceeds `maxSide` (VOC images are at most 500 px; multi-scale goes to 2x). */
function limitSize(image: RgbImage, maxSide: number): RgbImage {
  const scale = maxSide / Math.max(image.width, image.height);
  if (scale >= 1) return image;
  return resizeBicubic(image, Math.round(image.width * scale), Math.round(image.height * scale));
}

async function process1(name: string, image: RgbImage, labels: Uint8Array, logits: Float32Array) {
  const cams = vocCams(image, labels, logits);
  const classValues = VOC_CLASSES.slice(1).map((_, c) => c + 1);
  const labelMap = camLabels(cams, classValues, { threshold: 0.2 });
  const top = tf.tidy(() => tf.max(cams, 2).dataSync());
  cams.dispose();
  await writePng(join(outDir, `${name}_cam.png`), camOverlay(image, top));
  await writeLabelPng(join(outDir, `${name}_labels.png`), labelMap);
  return labelMap;
}

const photos = join(dataRoot, 'images');
console.log(`real photos (${photos}): predicted VOC classes with p >= 0.1`);
for (const file of (await readdir(photos)).filter((f) => /\.(jpe?g|png|bmp)$/i.test(f)).sort()) {
  const image = limitSize(await readImage(join(photos, file)), 500);
  const logits = imagenetLogits(image);
  const probs = vocProbabilitiesFromImageNet(logits);
  const labels = Uint8Array.from(probs, (p) => (p >= 0.1 ? 1 : 0));
  const names = [...labels]
    .map((v, c) => (v ? `${VOC_CLASSES[c + 1]} ${probs[c].toFixed(2)}` : ''))
    .filter(Boolean);
  if (names.length === 0) {
    console.log(`  ${file}: no VOC class (not written)`);
    continue;
  }
  await process1(file.replace(/\.\w+$/, ''), image, labels, logits);
  console.log(`  ${file}: ${names.join(', ')}`);
}

const vocRoot = join(dataRoot, 'data/voc2012/VOC2012');
const voc = await loadVoc({ root: vocRoot, split: 'trainval' });
const jpegs = (await readdir(join(vocRoot, 'JPEGImages'))).map((f) => f.replace('.jpg', '')).sort();
const total = new ConfusionMatrix(21);
console.log('VOC images (ground-truth image labels; person has no ImageNet class):');
for (const id of jpegs) {
  const sample = await voc.get(id);
  const labelMap = await process1(id, sample.image, sample.labels, imagenetLogits(sample.image));
  const cm = new ConfusionMatrix(21).update(sample.mask!.data, labelMap.data);
  total.merge(cm);
  const present = [0, ...[...sample.labels].map((v, c) => (v ? c + 1 : -1)).filter((c) => c > 0)];
  const iou = cm.perClassIoU();
  console.log(`  ${id}: ${present.map((c) => `${VOC_CLASSES[c]} ${(100 * iou[c]).toFixed(1)}`).join(', ')}`);
}
console.log(
  `mIoU over the ${jpegs.length} VOC images (classes present): ${(100 * total.meanIoU()).toFixed(1)}`,
);
console.log(`overlays and label maps written to ${outDir}`);
net.dispose();
classifier.dispose();
