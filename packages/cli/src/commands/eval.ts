import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ConfusionMatrix, readLabelPng } from '@wsss/core';
import { segmentationScores } from '@wsss/pipelines';
import { type Io, requireFolder, UsageError } from '../io';

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
  requireFolder('--pred', args.pred);
  requireFolder('--gt', args.gt);
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
