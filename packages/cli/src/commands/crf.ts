import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { readImage, readLabelPng, writeLabelPng } from '@wsss/core';
import { CRF_PRESETS, denseCrf, unaryFromLabels } from '@wsss/crf';
import { type Io, requireFolder, UsageError } from '../io';

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
  requireFolder('--images', args.images);
  requireFolder('--labels', args.labels);
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
