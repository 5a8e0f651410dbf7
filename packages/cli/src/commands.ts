import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { camOverlay, resizeBicubic } from '@wsss/cam';
import { ConfusionMatrix, readImage, readLabelPng, selectBackend, writeLabelPng, writePng } from '@wsss/core';
import { CRF_PRESETS, denseCrf, unaryFromLabels } from '@wsss/crf';
import {
  type ConfigSources,
  getPipeline,
  listPipelines,
  mergeShards,
  type RunReport,
  readRunRecord,
  reportMarkdown,
  resolveConfig,
  runPipeline,
  segmentationScores,
} from '@wsss/pipelines';
import { parse as parseYaml } from 'yaml';
import { checkDatasetLayout, type DatasetCheck, describeDatasetCheck } from './datasets_check';
import { progressPrinter } from './progress';

/** Where a command writes: injected so that tests read it. */
export interface Io {
  stdout: { write(text: string): unknown; isTTY?: boolean };
  stderr: { write(text: string): unknown; isTTY?: boolean };
}

/** A user error: printed as one line `wsss: <message>`; exit code 1, or 2 for a malformed command line. */
export class UsageError extends Error {
  constructor(
    message: string,
    readonly exitCode = 1,
  ) {
    super(message);
  }
}

export interface RunArgs {
  pipeline: string;
  preset?: string;
  config?: string;
  dataset?: string;
  dataRoot?: string;
  weights?: string;
  out: string;
  name?: string;
  sets: string[];
  seed: number;
  until?: string;
  backend?: string;
  shard?: string;
}

/** `--shard k/n` (k from 0). */
function parseShard(text: string | undefined): { index: number; count: number } | undefined {
  if (text === undefined) return undefined;
  const match = text.match(/^(\d+)\/(\d+)$/);
  const [index, count] = match ? [Number(match[1]), Number(match[2])] : [Number.NaN, Number.NaN];
  if (!match || count < 1 || index >= count) {
    throw new UsageError(`--shard: expected k/n with 0 <= k < n (e.g. 0/4), got '${text}'`);
  }
  return { index, count };
}

function configSources(args: RunArgs): ConfigSources {
  const sets = [...args.sets];
  if (args.dataset) sets.unshift(`dataset.name=${args.dataset}`);
  if (args.dataRoot) {
    if (!existsSync(args.dataRoot)) throw new UsageError(`--data-root: ${args.dataRoot} does not exist`);
    sets.unshift(`dataset.root=${resolve(args.dataRoot)}`);
  }
  if (args.weights) {
    if (!existsSync(args.weights)) throw new UsageError(`--weights: ${args.weights} does not exist`);
    sets.unshift(`backbone.weights=${resolve(args.weights)}`);
  }
  let file: ConfigSources['file'];
  if (args.config) {
    if (!existsSync(args.config)) throw new UsageError(`--config: ${args.config} does not exist`);
    const yaml = /\.ya?ml$/i.test(args.config);
    try {
      const text = readFileSync(args.config, 'utf8');
      file = { path: args.config, contents: yaml ? parseYaml(text) : JSON.parse(text) };
    } catch (err) {
      const message = (err as Error).message.split('\n')[0];
      throw new UsageError(`--config: ${args.config} is not valid ${yaml ? 'YAML' : 'JSON'} (${message})`);
    }
  }
  return { preset: args.preset, file, sets };
}

function printSummary(io: Io, runDir: string): void {
  const report = JSON.parse(readFileSync(join(runDir, 'report.json'), 'utf8')) as RunReport;
  const markdown = reportMarkdown(report);
  io.stdout.write(
    `${markdown.slice(0, markdown.indexOf('\n## ') > 0 ? markdown.indexOf('\n## ') : undefined).trimEnd()}\n`,
  );
  io.stdout.write(`\nrun folder: ${runDir} (report.md holds per-class scores)\n`);
}

/** `wsss run <pipeline>`: resolves the config, then runs (or resumes) it in `<out>/<name>`. */
export async function runCommand(args: RunArgs, io: Io): Promise<void> {
  let pipeline: ReturnType<typeof getPipeline>;
  let config: object;
  try {
    pipeline = getPipeline(args.pipeline);
    config = resolveConfig(pipeline.defaults, pipeline.presets, configSources(args));
  } catch (err) {
    throw err instanceof UsageError ? err : new UsageError((err as Error).message);
  }
  const runDir = resolve(args.out, args.name ?? `${pipeline.name}-${args.preset ?? 'quick'}`);
  const shard = parseShard(args.shard);
  await startBackend(args.backend, io);
  await runPipeline(pipeline, config, {
    runDir,
    preset: args.preset,
    seed: args.seed,
    until: args.until,
    shard,
    onProgress: progressPrinter(io.stderr),
    log: (line) => io.stderr.write(`${line}\n`),
  });
  if (shard) io.stdout.write(`shard ${shard.index}/${shard.count} done in ${runDir}\n`);
  else printSummary(io, runDir);
}

/** `wsss resume <run-dir>`: runs a recorded run again from its first incomplete stage. */
export async function resumeCommand(runDir: string, backend: string | undefined, io: Io): Promise<void> {
  let record: ReturnType<typeof readRunRecord>;
  try {
    record = readRunRecord(runDir);
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  const pipeline = getPipeline(record.pipeline);
  await startBackend(backend, io);
  await runPipeline(pipeline, record.config, {
    runDir: resolve(runDir),
    preset: record.preset ?? undefined,
    seed: record.seed,
    onProgress: progressPrinter(io.stderr),
    log: (line) => io.stderr.write(`${line}\n`),
  });
  printSummary(io, resolve(runDir));
}

async function startBackend(backend: string | undefined, io: Io): Promise<void> {
  await selectBackend({
    preference: backend ? (backend.split(',') as never) : undefined,
    log: (line) => io.stderr.write(`${line}\n`),
  });
}

export interface EvalArgs {
  pred: string;
  gt: string;
  classes?: string;
  ignore: number;
  background: number | null;
}

/**
 * `wsss eval --pred <dir> --gt <dir>`: scores every label PNG of `pred` against the PNG of the same name in `gt`
 * (palette or grey indices): mIoU with and without background, per-class IoU, precision and recall.
 */
export async function evalCommand(args: EvalArgs, io: Io): Promise<void> {
  for (const [flag, dir] of [
    ['--pred', args.pred],
    ['--gt', args.gt],
  ] as const) {
    if (!existsSync(dir) || !statSync(dir).isDirectory())
      throw new UsageError(`${flag}: ${dir} is not a folder`);
  }
  const files = readdirSync(args.pred)
    .filter((f) => f.endsWith('.png'))
    .sort();
  if (files.length === 0) throw new UsageError(`--pred: ${args.pred} holds no .png label maps`);
  const names = classNames(args.classes);
  const pairs: { gt: Uint8Array; pred: Uint8Array }[] = [];
  let maxLabel = 0;
  for (const file of files) {
    const gtPath = join(args.gt, file);
    if (!existsSync(gtPath))
      throw new UsageError(`--gt: no ${file} in ${args.gt} (every prediction needs its ground truth)`);
    const [pred, gt] = [await readLabelPng(join(args.pred, file)), await readLabelPng(gtPath)];
    if (pred.width !== gt.width || pred.height !== gt.height) {
      throw new UsageError(
        `${file}: the prediction is ${pred.width}x${pred.height}, the ground truth ${gt.width}x${gt.height}`,
      );
    }
    for (const v of gt.data) if (v !== args.ignore && v > maxLabel) maxLabel = v;
    pairs.push({ gt: gt.data, pred: pred.data });
  }
  const numClasses = names?.length ?? maxLabel + 1;
  const cm = new ConfusionMatrix(numClasses, { ignoreIndex: args.ignore });
  for (const { gt, pred } of pairs) cm.update(gt, pred);
  const scores = segmentationScores(
    cm,
    names ?? Array.from({ length: numClasses }, (_, k) => String(k)),
    args.background,
  );
  const pct = (v: number | null) => (v === null ? '   -' : (100 * v).toFixed(1).padStart(5));
  io.stdout.write(`${files.length} label maps, ${numClasses} classes\n`);
  io.stdout.write(
    `mIoU ${pct(scores.mIoU)}   mIoU without background ${pct(scores.mIoUWithoutBackground)}   pixel accuracy ${pct(scores.pixelAccuracy)}\n`,
  );
  io.stdout.write('class                  IoU  precision  recall\n');
  for (const c of scores.classes) {
    io.stdout.write(`${c.name.padEnd(20)} ${pct(c.iou)}      ${pct(c.precision)}   ${pct(c.recall)}\n`);
  }
}

/** `--classes`: a number of classes, a comma-separated list of names, or a file with one name per line. */
function classNames(classes: string | undefined): string[] | undefined {
  if (classes === undefined) return undefined;
  if (/^\d+$/.test(classes)) return Array.from({ length: Number(classes) }, (_, k) => String(k));
  if (existsSync(classes))
    return readFileSync(classes, 'utf8')
      .split(/\r?\n/)
      .map((l) => l.trim())
      .filter(Boolean);
  return classes.split(',').map((s) => s.trim());
}

export function pipelinesCommand(io: Io): void {
  for (const { name, description } of listPipelines()) io.stdout.write(`${name.padEnd(12)} ${description}\n`);
}

/** `wsss merge <run-dir>`: completes the per-image stages whose shards have all finished. */
export async function mergeCommand(runDir: string, io: Io): Promise<void> {
  let record: ReturnType<typeof readRunRecord>;
  try {
    record = readRunRecord(runDir);
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  const merged = await mergeShards(getPipeline(record.pipeline), resolve(runDir));
  io.stdout.write(
    merged.length ? `merged the shards of ${merged.join(', ')}\n` : 'no stage had shards to merge\n',
  );
}

/**
 * `wsss infer --run <run-dir> <images...>`: segments images with the network a finished run trained and writes one
 * palette PNG of labels per image (same name, `.png`) into `out` (default `<run-dir>/infer`).
 */
export async function inferCommand(
  args: { run: string; images: string[]; out?: string; backend?: string },
  io: Io,
): Promise<void> {
  let record: ReturnType<typeof readRunRecord>;
  try {
    record = readRunRecord(args.run);
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  if (args.images.length === 0) throw new UsageError('infer: name at least one image');
  for (const image of args.images)
    if (!existsSync(image)) throw new UsageError(`infer: ${image} does not exist`);
  const pipeline = getPipeline(record.pipeline);
  if (!pipeline.predictor)
    throw new UsageError(`infer: the ${pipeline.name} pipeline trains no network to infer with`);
  await startBackend(args.backend, io);
  let predictor: Awaited<ReturnType<NonNullable<typeof pipeline.predictor>>>;
  try {
    predictor = await pipeline.predictor(resolve(args.run), record.config);
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  const out = resolve(args.out ?? join(args.run, 'infer'));
  try {
    for (const path of args.images) {
      let image: Awaited<ReturnType<typeof readImage>>;
      try {
        image = await readImage(path);
      } catch (err) {
        throw new UsageError((err as Error).message);
      }
      const labels = await predictor.predict(image);
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

/** `wsss datasets check <root>`: prints the layout check; exit code 1 when something is missing. */
export function datasetsCheckCommand(root: string, layout: string | undefined, io: Io): number {
  if (!existsSync(root)) throw new UsageError(`datasets check: ${root} does not exist`);
  if (layout !== undefined && layout !== 'voc' && layout !== 'camvid') {
    throw new UsageError(`datasets check: --dataset must be voc or camvid, got '${layout}'`);
  }
  let check: DatasetCheck;
  try {
    check = checkDatasetLayout(root, layout);
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  const { lines, complete } = describeDatasetCheck(check);
  io.stdout.write(`${lines.join('\n')}\n`);
  return complete ? 0 : 1;
}

/**
 * `wsss crf --images <dir> --labels <dir> --out <dir>`: refines label maps with the dense CRF on their images (IRN's
 * CRF on hard labels: each pixel's label has probability `gtProb`, the ignore value is unsure), one PNG per label PNG.
 */
export async function crfCommand(
  args: {
    images: string;
    labels: string;
    out: string;
    classes?: number;
    gtProb: number;
    preset: string;
    ignore: number;
  },
  io: Io,
): Promise<void> {
  for (const [flag, dir] of [
    ['--images', args.images],
    ['--labels', args.labels],
  ] as const) {
    if (!existsSync(dir) || !statSync(dir).isDirectory())
      throw new UsageError(`${flag}: ${dir} is not a folder`);
  }
  if (!(args.gtProb > 0 && args.gtProb < 1))
    throw new UsageError(`--gt-prob must be in (0, 1), got ${args.gtProb}`);
  if (!(args.preset in CRF_PRESETS)) {
    throw new UsageError(
      `--preset: unknown CRF preset '${args.preset}'; expected one of ${Object.keys(CRF_PRESETS).join(', ')}`,
    );
  }
  const files = readdirSync(args.labels)
    .filter((f) => f.endsWith('.png'))
    .sort();
  if (files.length === 0) throw new UsageError(`--labels: ${args.labels} holds no .png label maps`);
  const images = new Map(readdirSync(args.images).map((f) => [f.replace(/\.[^.]+$/, ''), f]));
  for (const file of files) {
    const stem = file.replace(/\.png$/, '');
    const imageFile = images.get(stem);
    if (!imageFile) throw new UsageError(`--images: no image named ${stem}.* in ${args.images} for ${file}`);
    const [image, labels] = [
      await readImage(join(args.images, imageFile)),
      await readLabelPng(join(args.labels, file)),
    ];
    if (image.width !== labels.width || image.height !== labels.height) {
      throw new UsageError(
        `${file}: the labels are ${labels.width}x${labels.height}, the image ${image.width}x${image.height}`,
      );
    }
    let numClasses = args.classes ?? 0;
    if (!numClasses)
      for (const v of labels.data) if (v !== args.ignore && v + 1 > numClasses) numClasses = v + 1;
    numClasses = Math.max(numClasses, 2);
    // 0 = unsure (the ignore value), class c -> c + 1, as pydensecrf's zero_unsure
    const shifted = Uint8Array.from(labels.data, (v) => (v === args.ignore || v >= numClasses ? 0 : v + 1));
    const unary = unaryFromLabels(shifted, numClasses, { gtProb: args.gtProb });
    const result = await denseCrf(image, { unary }, args.preset as keyof typeof CRF_PRESETS);
    await writeLabelPng(join(args.out, file), {
      width: image.width,
      height: image.height,
      data: result.labels,
    });
    const changed = result.labels.reduce((n, v, i) => n + (v !== labels.data[i] ? 1 : 0), 0);
    io.stdout.write(
      `${join(args.out, file)}: ${((100 * changed) / labels.data.length).toFixed(1)}% of pixels changed\n`,
    );
  }
}

/**
 * `wsss cam --run <run-dir> <images...>`: the classes the run's classifier finds in each image and their CAMs, as a
 * heat map over the image per present class (`<name>_<class>.png` in `out`, default `<run-dir>/cam`).
 */
export async function camCommand(
  args: { run: string; images: string[]; out?: string; threshold: number; maxSide: number; backend?: string },
  io: Io,
): Promise<void> {
  if (!(args.maxSide >= 8)) throw new UsageError(`--max-side must be at least 8, got ${args.maxSide}`);
  let record: ReturnType<typeof readRunRecord>;
  try {
    record = readRunRecord(args.run);
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  if (args.images.length === 0) throw new UsageError('cam: name at least one image');
  for (const image of args.images)
    if (!existsSync(image)) throw new UsageError(`cam: ${image} does not exist`);
  const pipeline = getPipeline(record.pipeline);
  if (!pipeline.camPredictor)
    throw new UsageError(`cam: the ${pipeline.name} pipeline trains no CAM classifier`);
  await startBackend(args.backend, io);
  let predictor: Awaited<ReturnType<NonNullable<typeof pipeline.camPredictor>>>;
  try {
    predictor = await pipeline.camPredictor(resolve(args.run), record.config);
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  const out = resolve(args.out ?? join(args.run, 'cam'));
  try {
    for (const path of args.images) {
      let image: Awaited<ReturnType<typeof readImage>>;
      try {
        image = await readImage(path);
      } catch (err) {
        throw new UsageError((err as Error).message);
      }
      // the run's CAM scales enlarge the image further: large photos are shrunk first
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
