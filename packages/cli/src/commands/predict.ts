import { basename, join, resolve } from 'node:path';
import { camOverlay, resizeBicubic } from '@wsss/cam';
import { writeLabelPng, writePng } from '@wsss/core';
import { getPipeline, type Pipeline, type RunRecord } from '@wsss/pipelines';
import { type Io, readInputImage, readRun, startBackend, UsageError } from '../io';

/** The run and its pipeline for a command that applies a trained network to images, the images checked first. */
async function runForImages(
  command: string,
  runDir: string,
  images: string[],
): Promise<{ record: RunRecord; pipeline: Pipeline<object> }> {
  const record = readRun(runDir);
  if (images.length === 0) throw new UsageError(`${command}: name at least one image`);
  for (const image of images) await readInputImage(image);
  return { record, pipeline: getPipeline(record.pipeline) };
}

/** Loads a trained model of a run; a run that has not trained it yet is a usage error. */
async function loadModel<M>(load: () => Promise<M>): Promise<M> {
  try {
    return await load();
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
}

/**
 * `wsss infer --run <run-dir> <images...>`: segments images with the network a finished run trained and writes one
 * palette PNG of labels per image (same name, `.png`) into `out` (default `<run-dir>/infer`).
 */
export async function inferCommand(
  args: { run: string; images: string[]; out?: string; backend?: string },
  io: Io,
): Promise<void> {
  const { record, pipeline } = await runForImages('infer', args.run, args.images);
  const { predictor: load } = pipeline;
  if (!load) throw new UsageError(`infer: the ${pipeline.name} pipeline trains no network to infer with`);
  await startBackend(args.backend, io);
  const predictor = await loadModel(() => load(resolve(args.run), record.config));
  const out = resolve(args.out ?? join(args.run, 'infer'));
  try {
    for (const path of args.images) {
      const labels = await predictor.predict(await readInputImage(path));
      const target = join(out, `${basename(path).replace(/\.[^.]+$/, '')}.png`);
      await writeLabelPng(target, labels, predictor.palette);
      const counts = new Map<number, number>();
      for (const v of labels.data) counts.set(v, (counts.get(v) ?? 0) + 1);
      const top = [...counts.entries()]
        .sort((a, b) => b[1] - a[1])
        .slice(0, 4)
        .map(([v, n]) => `${predictor.classNames[v] ?? v} ${((100 * n) / labels.data.length).toFixed(0)}%`);
      io.stdout.write(`${target}: ${top.join(', ')}\n`);
    }
  } finally {
    predictor.dispose();
  }
}

/**
 * `wsss cam --run <run-dir> <images...>`: the classes the run's classifier finds in each image and their CAMs, as a
 * heat map over the image per present class (`<name>_<class>.png` in `out`, default `<run-dir>/cam`). Images larger
 * than `maxSide` are shrunk first (the run's CAM scales enlarge them further).
 */
export async function camCommand(
  args: { run: string; images: string[]; out?: string; threshold: number; maxSide: number; backend?: string },
  io: Io,
): Promise<void> {
  if (!(args.maxSide >= 8)) throw new UsageError(`--max-side must be at least 8, got ${args.maxSide}`);
  const { record, pipeline } = await runForImages('cam', args.run, args.images);
  const { camPredictor: load } = pipeline;
  if (!load) throw new UsageError(`cam: the ${pipeline.name} pipeline trains no CAM classifier`);
  await startBackend(args.backend, io);
  const predictor = await loadModel(() => load(resolve(args.run), record.config));
  const out = resolve(args.out ?? join(args.run, 'cam'));
  try {
    for (const path of args.images) {
      let image = await readInputImage(path);
      const shrink = Math.min(1, args.maxSide / Math.max(image.width, image.height));
      if (shrink < 1) {
        image = resizeBicubic(
          image,
          Math.max(1, Math.round(image.width * shrink)),
          Math.max(1, Math.round(image.height * shrink)),
        );
      }
      const { scores, present, cams } = await predictor.cams(image, args.threshold);
      const stem = basename(path).replace(/\.[^.]+$/, '');
      const found: string[] = [];
      const channels = predictor.labelNames.length;
      for (let c = 0; c < channels; c++) {
        if (!present[c]) continue;
        const name = predictor.labelNames[c];
        const map = Float32Array.from(
          { length: image.width * image.height },
          (_, i) => cams[i * channels + c],
        );
        await writePng(join(out, `${stem}_${name}.png`), camOverlay(image, map));
        found.push(`${name} ${scores[c].toFixed(2)}`);
      }
      io.stdout.write(`${path}: ${found.length ? found.join(', ') : `no class above ${args.threshold}`}\n`);
    }
  } finally {
    predictor.dispose();
  }
}
