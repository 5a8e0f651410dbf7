import { type LabelMap, readImage, readLabelPng, vocPalette } from '@wsss/core';
import { exists, joinPath, readBytes, readIdList, requirePath } from './files';
import { type NpyArray, parseNpy } from './npy';
import { labelsFromMask, resolveId, type Sample, type SegmentationDataset } from './types';

/** VOC class names; mask value = index (0 background, 1..20 objects), 255 = void border. */
export const VOC_CLASSES = [
  'background',
  'aeroplane',
  'bicycle',
  'bird',
  'boat',
  'bottle',
  'bus',
  'car',
  'cat',
  'chair',
  'cow',
  'diningtable',
  'dog',
  'horse',
  'motorbike',
  'person',
  'pottedplant',
  'sheep',
  'sofa',
  'train',
  'tvmonitor',
] as const;

export type VocSplit = 'train' | 'val' | 'trainval' | 'train_aug' | 'test';

/**
 * Where image-level labels come from:
 * - `'annotations'` (default): `cls_labels.npy`, built from the VOC XML object tags, as psa, IRN, RRM and AuxSegNet
 *   train with;
 * - `'masks'`: the classes present in the segmentation mask (1STAGE's choice).
 * The two disagree on 818 of the 12,031 train_aug + val ids (objects too small or occluded to be segmented, and
 * annotation differences), so published numbers depend on it.
 */
export type VocLabelSource = 'annotations' | 'masks';

export interface VocOptions {
  /** The `VOC2012` folder: `JPEGImages/`, `SegmentationClassAug/` or `SegmentationClass/`, `ImageSets/Segmentation/`. */
  root: string;
  split: VocSplit;
  /** Default `'annotations'`. */
  labelSource?: VocLabelSource;
  /** Default: `<root>/cls_labels.npy`, else `<root>/../labels/cls_labels.npy`. */
  clsLabelsPath?: string;
  /** Mask folder name under root. Default `SegmentationClassAug` when present, else `SegmentationClass`. */
  maskDir?: string;
  /** Id list. Default `<root>/ImageSets/Segmentation/<split>.txt`. */
  listPath?: string;
}

/**
 * PASCAL VOC 2012 segmentation, with the SBD augmentation ("SegmentationClassAug", train_aug = 10,582 ids).
 *
 * ```ts
 * const voc = await loadVoc({ root: 'data/VOCdevkit/VOC2012', split: 'train_aug' });
 * const { image, mask, labels } = await voc.get('2007_000032'); // labels: 20 values, aeroplane..tvmonitor
 * ```
 */
export async function loadVoc(options: VocOptions): Promise<SegmentationDataset> {
  const name = `VOC2012 ${options.split}`;
  const { root, split } = options;
  await requirePath(name, 'root folder', root);
  const ids = await readIdList(
    name,
    options.listPath ?? joinPath(root, 'ImageSets', 'Segmentation', `${split}.txt`),
  );
  const maskDir =
    options.maskDir ??
    ((await exists(joinPath(root, 'SegmentationClassAug'))) ? 'SegmentationClassAug' : 'SegmentationClass');
  const hasMasks = split !== 'test';
  if (hasMasks) await requirePath(name, 'mask folder', joinPath(root, maskDir));
  const labelSource = options.labelSource ?? 'annotations';
  if (labelSource === 'masks' && !hasMasks) {
    throw new Error(`${name}: labelSource 'masks' needs masks, which the test split does not have`);
  }
  // The test split has neither masks nor public image-level labels: its samples carry all-zero labels.
  const annotations =
    labelSource === 'annotations' && hasMasks
      ? await readClsLabels(name, root, options.clsLabelsPath)
      : undefined;
  if (annotations) {
    const missing = ids.find((id) => !annotations.has(id));
    if (missing !== undefined) throw new Error(`${name}: cls_labels.npy has no labels for id ${missing}`);
  }
  const labelClasses = VOC_CLASSES.map((_, i) => i).slice(1);
  const known = new Set(ids);
  const maskLabels = new Map<string, Uint8Array>();

  const readMask = async (id: string): Promise<LabelMap> =>
    readLabelPng(joinPath(root, maskDir, `${id}.png`));

  return {
    name,
    classNames: VOC_CLASSES,
    labelClasses,
    backgroundIndex: 0,
    ignoreIndex: 255,
    palette: vocPalette(),
    ids,
    hasMasks,
    async imageLabels(id: string) {
      if (!known.has(id)) throw new Error(`${name}: unknown id ${id}`);
      if (annotations) return annotations.get(id)!;
      if (!hasMasks) return new Uint8Array(20);
      let labels = maskLabels.get(id);
      if (!labels) {
        labels = labelsFromMask((await readMask(id)).data, labelClasses);
        maskLabels.set(id, labels);
      }
      return labels;
    },
    async get(idOrIndex: string | number): Promise<Sample> {
      const id = resolveId({ name, ids }, idOrIndex);
      if (!known.has(id)) throw new Error(`${name}: unknown id ${id}`);
      const image = await readImage(joinPath(root, 'JPEGImages', `${id}.jpg`));
      if (!hasMasks) return { id, image, labels: new Uint8Array(20) };
      const mask = await readMask(id);
      if (mask.width !== image.width || mask.height !== image.height) {
        throw new Error(
          `${name}: mask of ${id} is ${mask.width}x${mask.height} but its image is ${image.width}x${image.height}`,
        );
      }
      const labels = annotations ? annotations.get(id)! : labelsFromMask(mask.data, labelClasses);
      return { id, image, mask, labels };
    },
  };
}

/** Reads psa/IRN's `cls_labels.npy` (a pickled dict id -> float32[20]) into id -> multi-hot bytes. */
export async function readClsLabels(
  dataset: string,
  root: string,
  path?: string,
): Promise<Map<string, Uint8Array>> {
  const candidates = path
    ? [path]
    : [joinPath(root, 'cls_labels.npy'), joinPath(root, '..', 'labels', 'cls_labels.npy')];
  let found: string | undefined;
  for (const c of candidates) if (await exists(c)) found = found ?? c;
  if (!found) {
    throw new Error(
      `${dataset}: cls_labels.npy not found (looked in ${candidates.join(', ')}); pass clsLabelsPath, ` +
        `or labelSource: 'masks' to derive labels from the masks`,
    );
  }
  const parsed = parseNpy(await readBytes(found), found);
  if (!(parsed instanceof Map)) throw new Error(`${dataset}: ${found} does not hold a dict of label vectors`);
  const out = new Map<string, Uint8Array>();
  for (const [id, value] of parsed) {
    const arr = value as NpyArray | undefined;
    if (arr?.data?.length !== 20) {
      throw new Error(`${dataset}: ${found}: labels of ${String(id)} are not a vector of 20 values`);
    }
    out.set(
      String(id),
      Uint8Array.from(arr.data as Float32Array, (v) => (v > 0.5 ? 1 : 0)),
    );
  }
  return out;
}
