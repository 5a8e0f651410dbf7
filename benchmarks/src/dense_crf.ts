/**
 * Dense CRF end to end (unary from softmax + both lattices + 10 mean-field iterations + argmax) with psa's
 * parameters and 21 labels at 321x321, 500x375 and 1000x750, on one thread and on all cores, against pydensecrf's
 * end-to-end times on this machine kind (../shared/reference/peer-anchors.md). The image is a real photo (VOC
 * 2007_000333 when ../shared is present, else a synthetic one) resized bilinearly, as the peer resizes its photo;
 * the softmax comes from smooth random logits.
 * Run: pnpm --filter @wsss/benchmarks bench:crf [--runs N]
 */
import { type RgbImage, Rng, readImage } from '@wsss/core';
import { sharedPath } from '@wsss/core/testing';
import { CRF_PRESETS, DenseCrf } from '@wsss/crf';
import { benchmarkOption, markdownTable, ms, type Timing, time } from './timing';

/** pydensecrf end to end, median ms (peer-anchors.md, rows "end-to-end: unary+build+inference(10)+argmax", run B). */
const PYDENSECRF_MS: Record<string, number> = { '321x321': 300, '500x375': 653, '1000x750': 3314 };
const LABELS = 21;

/** Bilinear resize with half-pixel centres (the peer resizes its photo with skimage, also interpolating). */
function resizeBilinear(image: RgbImage, width: number, height: number): RgbImage {
  const data = new Uint8Array(width * height * 3);
  const sample = (v: number, size: number, scale: number) => {
    const at = Math.min(Math.max((v + 0.5) * scale - 0.5, 0), size - 1);
    const low = Math.floor(at);
    return [low, Math.min(low + 1, size - 1), at - low];
  };
  for (let y = 0; y < height; y++) {
    const [y0, y1, fy] = sample(y, image.height, image.height / height);
    for (let x = 0; x < width; x++) {
      const [x0, x1, fx] = sample(x, image.width, image.width / width);
      for (let c = 0; c < 3; c++) {
        const at = (yy: number, xx: number) => image.data[3 * (yy * image.width + xx) + c];
        const top = (1 - fx) * at(y0, x0) + fx * at(y0, x1);
        const bottom = (1 - fx) * at(y1, x0) + fx * at(y1, x1);
        data[3 * (y * width + x) + c] = Math.round((1 - fy) * top + fy * bottom);
      }
    }
  }
  return { width, height, channels: 3, data };
}

/** Softmax of N(0, 3^2) logits on a 1/16 grid, bilinearly upsampled (as the peer's benchmark). */
function smoothSoftmax(width: number, height: number, rng: Rng): Float32Array {
  const gw = Math.ceil(width / 16) + 1;
  const gh = Math.ceil(height / 16) + 1;
  const grid = Float32Array.from({ length: LABELS * gw * gh }, () => 3 * rng.normal());
  const pixels = width * height;
  const out = new Float32Array(LABELS * pixels);
  const logits = new Float32Array(LABELS);
  for (let y = 0, i = 0; y < height; y++) {
    for (let x = 0; x < width; x++, i++) {
      const gx = x / 16;
      const gy = y / 16;
      const x0 = Math.floor(gx);
      const y0 = Math.floor(gy);
      const fx = gx - x0;
      const fy = gy - y0;
      let max = -Infinity;
      for (let l = 0; l < LABELS; l++) {
        const g = (yy: number, xx: number) => grid[(l * gh + yy) * gw + xx];
        logits[l] =
          (1 - fy) * ((1 - fx) * g(y0, x0) + fx * g(y0, x0 + 1)) +
          fy * ((1 - fx) * g(y0 + 1, x0) + fx * g(y0 + 1, x0 + 1));
        max = Math.max(max, logits[l]);
      }
      let sum = 0;
      for (let l = 0; l < LABELS; l++) sum += logits[l] = Math.exp(logits[l] - max);
      for (let l = 0; l < LABELS; l++) out[l * pixels + i] = logits[l] / sum;
    }
  }
  return out;
}

async function sourceImage(): Promise<RgbImage> {
  const path = sharedPath('data/voc2012/VOC2012/JPEGImages/2007_000333.jpg');
  if (path) return readImage(path);
  const rng = new Rng(3);
  const data = new Uint8Array(500 * 375 * 3);
  for (let i = 0; i < 500 * 375; i++)
    data.set([((i % 500) / 2) | 0, (i / 1500) | 0, rng.int(0, 40) + 100], 3 * i);
  return { width: 500, height: 375, channels: 3, data };
}

async function endToEnd(image: RgbImage, softmax: Float32Array, threads: number): Promise<void> {
  const { gaussian, bilateral, iterations } = CRF_PRESETS.psa;
  const crf = new DenseCrf(image.width, image.height, LABELS).setUnaryFromSoftmax(softmax);
  crf.addPairwiseGaussian(gaussian).addPairwiseBilateral({ ...bilateral, image });
  await crf.inferenceWithLabels(iterations, { threads });
}

async function main(): Promise<void> {
  const runs = benchmarkOption('runs', 7);
  const photo = await sourceImage();
  const rows: (string | number)[][] = [];
  const perMegapixel: number[] = [];
  for (const [width, height] of [
    [321, 321],
    [500, 375],
    [1000, 750],
  ]) {
    const size = `${width}x${height}`;
    const image = resizeBilinear(photo, width, height);
    const softmax = smoothSoftmax(width, height, new Rng(width));
    const timings: Timing[] = [];
    for (const threads of [1, 2]) timings.push(await time(() => endToEnd(image, softmax, threads), runs, 1));
    const peer = PYDENSECRF_MS[size];
    const best = Math.min(...timings.map((t) => t.medianMs));
    perMegapixel.push(best / ((width * height) / 1e6));
    rows.push([
      size,
      ms(timings[0]),
      ms(timings[1]),
      peer,
      (peer / timings[0].medianMs).toFixed(2),
      (peer / timings[1].medianMs).toFixed(2),
    ]);
  }
  console.log(
    `dense CRF, psa parameters, ${LABELS} labels, 10 iterations, end to end; median (min-max) of ${runs} runs, ms\n`,
  );
  console.log(
    markdownTable(
      ['image', 'ours 1 thread', 'ours 2 threads', 'pydensecrf', 'speed-up 1 thread', 'speed-up 2 threads'],
      rows,
    ),
  );
  console.log(
    `\nms per megapixel (best): ${perMegapixel.map((v) => v.toFixed(0)).join(' / ')} (linear scaling = equal)`,
  );
}

await main();
