import { type LabelMap, readImage, readLabelPng } from '@wsss/core';
import { exists, joinPath, readIdList, readText, requirePath } from './files';
import { labelsFromMask, resolveId, type Sample, type SegmentationDataset } from './types';

export type CamVidSplit = 'train' | 'val' | 'test';

export interface CamVidOptions {
  /** Folder with `<split>.txt`, `<split>/<id>.jpg|png`, `<split>annot/<id>.png` and `classes.txt` (SegNet layout). */
  root: string;
  split: CamVidSplit;
}

/** The 11 CamVid classes of the SegNet tutorial, in mask-value order; value 11 ("void") becomes 255 (ignore). */
export const CAMVID_CLASSES = [
  'sky',
  'building',
  'pole',
  'road',
  'pavement',
  'tree',
  'signsymbol',
  'fence',
  'car',
  'pedestrian',
  'bicyclist',
] as const;

const CAMVID_VOID = 11;

/**
 * CamVid street scenes (367 train / 101 val / 233 test, 480x360, 11 classes). There is no background class and no
 * image-level annotation: labels are the classes present in the mask, over all 11 classes.
 *
 * ```ts
 * const camvid = await loadCamVid({ root: 'data/camvid', split: 'train' });
 * const { image, mask, labels } = await camvid.get(0); // mask values 0..10, 255 = void
 * ```
 */
export async function loadCamVid(options: CamVidOptions): Promise<SegmentationDataset> {
  const { root, split } = options;
  const name = `CamVid ${split}`;
  await requirePath(name, 'root folder', root);
  const ids = await readIdList(name, joinPath(root, `${split}.txt`));
  await requirePath(name, 'image folder', joinPath(root, split));
  await requirePath(name, 'mask folder', joinPath(root, `${split}annot`));
  const palette = await readPalette(name, joinPath(root, 'classes.txt'));
  const labelClasses = CAMVID_CLASSES.map((_, i) => i);
  const known = new Set(ids);
  const cache = new Map<string, Uint8Array>();

  const readMask = async (id: string): Promise<LabelMap> => {
    const mask = await readLabelPng(joinPath(root, `${split}annot`, `${id}.png`), palette);
    for (let i = 0; i < mask.data.length; i++) {
      const v = mask.data[i];
      if (v === CAMVID_VOID) mask.data[i] = 255;
      else if (v > CAMVID_VOID) throw new Error(`${name}: mask of ${id} has value ${v}; expected 0..11`);
    }
    return mask;
  };

  return {
    name,
    classNames: CAMVID_CLASSES,
    labelClasses,
    backgroundIndex: null,
    ignoreIndex: 255,
    palette,
    ids,
    hasMasks: true,
    async imageLabels(id) {
      if (!known.has(id)) throw new Error(`${name}: unknown id ${id}`);
      let labels = cache.get(id);
      if (!labels) {
        labels = labelsFromMask((await readMask(id)).data, labelClasses);
        cache.set(id, labels);
      }
      return labels;
    },
    async get(idOrIndex): Promise<Sample> {
      const id = resolveId({ name, ids }, idOrIndex);
      if (!known.has(id)) throw new Error(`${name}: unknown id ${id}`);
      const image = await readImage(await imagePath(root, split, id));
      const mask = await readMask(id);
      if (mask.width !== image.width || mask.height !== image.height) {
        throw new Error(
          `${name}: mask of ${id} is ${mask.width}x${mask.height} but its image is ${image.width}x${image.height}`,
        );
      }
      const labels = labelsFromMask(mask.data, labelClasses);
      cache.set(id, labels);
      return { id, image, mask, labels };
    },
  };
}

async function imagePath(root: string, split: string, id: string): Promise<string> {
  for (const ext of ['jpg', 'png']) {
    const p = joinPath(root, split, `${id}.${ext}`);
    if (await exists(p)) return p;
  }
  throw new Error(`CamVid ${split}: no image for id ${id} (${joinPath(root, split, id)}.jpg or .png)`);
}

/** classes.txt lines "0 Sky 128,128,128" -> a 256-entry palette (void and unlisted values black). */
async function readPalette(name: string, path: string): Promise<Uint8Array> {
  const palette = new Uint8Array(256 * 3);
  let text: string;
  try {
    text = await readText(path);
  } catch {
    // Fall back to the SegNet colours when classes.txt is absent.
    text = SEGNET_COLOURS.map((c, i) => `${i} x ${c.join(',')}`).join('\n');
  }
  for (const line of text.split(/\r?\n/)) {
    const m = /^(\d+)\s+\S+\s+(\d+),(\d+),(\d+)/.exec(line.trim());
    if (!m) continue;
    const index = Number(m[1]);
    if (index > 255) throw new Error(`${name}: ${path} lists class index ${index} > 255`);
    palette.set([Number(m[2]), Number(m[3]), Number(m[4])], index * 3);
  }
  return palette;
}

const SEGNET_COLOURS = [
  [128, 128, 128],
  [128, 0, 0],
  [192, 192, 128],
  [128, 64, 128],
  [60, 40, 222],
  [128, 128, 0],
  [192, 128, 128],
  [64, 64, 128],
  [64, 0, 128],
  [64, 64, 0],
  [0, 128, 192],
];
