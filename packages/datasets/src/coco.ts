import { type LabelMap, readImage, readLabelPng, vocPalette } from '@wsss/core';
import { rasterizeSegmentation, type Segmentation } from './coco_masks';
import { exists, joinPath, readText, requirePath } from './files';
import { resolveId, type Sample, type SegmentationDataset } from './types';

export type CocoSplit = 'train2014' | 'val2014' | 'train2017' | 'val2017';

export interface CocoOptions {
  /** Folder with `annotations/instances_<split>.json` and `<split>/` images. */
  root: string;
  split: CocoSplit;
  /** Default `<root>/annotations/instances_<split>.json`. */
  annotationFile?: string;
  /** Default `<root>/<split>`. */
  imageDir?: string;
  /**
   * `'annotations'` (default): masks rasterised from the instance polygons / RLE. `'prerendered'`: read
   * `<maskDir>/<id>.png` (0 = background, 1..80 = classes, 255 = ignore), the community `coco_seg_anno` format.
   */
  maskSource?: 'annotations' | 'prerendered';
  /** Default `<root>/coco_seg_anno`. */
  maskDir?: string;
}

interface CocoJson {
  images: { id: number; file_name: string; height: number; width: number }[];
  annotations: {
    image_id: number;
    category_id: number;
    segmentation: Segmentation;
    area?: number;
    iscrowd?: number;
  }[];
  categories: { id: number; name: string }[];
}

/**
 * MS COCO (2014 or 2017) as a WSSS dataset: 80 object classes + background in the usual contiguous order (category
 * ids sorted ascending -> 1..80). Masks come from the instance annotations: objects are painted largest first, so
 * a smaller object lying on a larger one stays visible; crowd regions become 255 (ignore) where no object covers
 * them. Image-level labels are the categories annotated in the image (crowd annotations included).
 *
 * ```ts
 * const coco = await loadCoco({ root: 'data/coco', split: 'val2014' });
 * const { image, mask, labels } = await coco.get(0); // labels: 80 values
 * ```
 */
export async function loadCoco(options: CocoOptions): Promise<SegmentationDataset> {
  const { root, split } = options;
  const name = `COCO ${split}`;
  const annotationFile = options.annotationFile ?? joinPath(root, 'annotations', `instances_${split}.json`);
  await requirePath(name, 'annotation file', annotationFile);
  let json: CocoJson;
  try {
    json = JSON.parse(await readText(annotationFile)) as CocoJson;
  } catch (err) {
    throw new Error(`${name}: cannot parse ${annotationFile}: ${(err as Error).message}`);
  }
  if (!Array.isArray(json.images) || !Array.isArray(json.annotations) || !Array.isArray(json.categories)) {
    throw new Error(`${name}: ${annotationFile} lacks the images, annotations or categories arrays`);
  }
  const categories = [...json.categories].sort((a, b) => a.id - b.id);
  const classOf = new Map(categories.map((c, i) => [c.id, i + 1]));
  const byImage = new Map<number, CocoJson['annotations']>();
  for (const a of json.annotations) {
    if (!classOf.has(a.category_id))
      throw new Error(`${name}: annotation with unknown category_id ${a.category_id}`);
    const list = byImage.get(a.image_id) ?? [];
    list.push(a);
    byImage.set(a.image_id, list);
  }
  const images = new Map(json.images.map((img) => [stem(img.file_name), img]));
  const ids = json.images.map((img) => stem(img.file_name));
  const imageDir = options.imageDir ?? joinPath(root, split);
  const maskSource = options.maskSource ?? 'annotations';
  const maskDir = options.maskDir ?? joinPath(root, 'coco_seg_anno');
  if (maskSource === 'prerendered') await requirePath(name, 'pre-rendered mask folder', maskDir);
  const numClasses = categories.length;
  const labelClasses = categories.map((_, i) => i + 1);

  const labelsOf = (id: string): Uint8Array => {
    const img = images.get(id);
    if (!img) throw new Error(`${name}: unknown id ${id}`);
    const labels = new Uint8Array(numClasses);
    for (const a of byImage.get(img.id) ?? []) labels[classOf.get(a.category_id)! - 1] = 1;
    return labels;
  };

  const maskOf = async (id: string): Promise<LabelMap> => {
    const img = images.get(id)!;
    if (maskSource === 'prerendered') return readLabelPng(await prerenderedPath(maskDir, id, img.id, name));
    return {
      width: img.width,
      height: img.height,
      data: cocoSemanticMask(img, byImage.get(img.id) ?? [], classOf, name),
    };
  };

  return {
    name,
    classNames: ['background', ...categories.map((c) => c.name)],
    labelClasses,
    backgroundIndex: 0,
    ignoreIndex: 255,
    palette: vocPalette(),
    ids,
    hasMasks: true,
    async imageLabels(id) {
      return labelsOf(id);
    },
    async get(idOrIndex): Promise<Sample> {
      const id = resolveId({ name, ids }, idOrIndex);
      const labels = labelsOf(id);
      const image = await readImage(joinPath(imageDir, images.get(id)!.file_name));
      const mask = await maskOf(id);
      if (mask.width !== image.width || mask.height !== image.height) {
        throw new Error(
          `${name}: mask of ${id} is ${mask.width}x${mask.height} but its image is ${image.width}x${image.height}`,
        );
      }
      return { id, image, mask, labels };
    },
  };
}

/** Semantic mask of one image: objects largest first (smaller ones on top), then crowd -> 255 where still 0. */
export function cocoSemanticMask(
  image: { height: number; width: number; file_name?: string },
  annotations: CocoJson['annotations'],
  classOf: Map<number, number>,
  where = 'COCO',
): Uint8Array {
  const { height, width } = image;
  const out = new Uint8Array(height * width);
  const rasters = annotations.map((a, i) => {
    const raster = rasterizeSegmentation(
      a.segmentation,
      height,
      width,
      `${where} ${image.file_name ?? ''} annotation ${i}`,
    );
    let area = 0;
    for (let p = 0; p < raster.length; p++) area += raster[p];
    return { a, raster, area };
  });
  const objects = rasters.filter((r) => !r.a.iscrowd).sort((x, y) => y.area - x.area);
  for (const { a, raster } of objects) {
    const cls = classOf.get(a.category_id)!;
    for (let p = 0; p < raster.length; p++) if (raster[p]) out[p] = cls;
  }
  for (const { raster } of rasters.filter((r) => r.a.iscrowd)) {
    for (let p = 0; p < raster.length; p++) if (raster[p] && out[p] === 0) out[p] = 255;
  }
  return out;
}

function stem(fileName: string): string {
  return fileName.replace(/\.[^.]+$/, '');
}

/** `coco_seg_anno/<id>.png`, or the 12-digit numeric image id that some repos use. */
async function prerenderedPath(dir: string, id: string, numericId: number, name: string): Promise<string> {
  const candidates = [
    joinPath(dir, `${id}.png`),
    joinPath(dir, `${String(numericId).padStart(12, '0')}.png`),
  ];
  for (const c of candidates) if (await exists(c)) return c;
  throw new Error(`${name}: no pre-rendered mask for ${id} (looked for ${candidates.join(' and ')})`);
}
