import { readImage, readLabelPng } from '@wsss/core';
import { exists, joinPath } from './files';
import type { FloatMap, Sample, SegmentationDataset } from './types';

/** Folders of per-image maps to attach to a dataset's samples, each file named `<id>.png`. */
export interface MapFolders {
  /**
   * Label PNGs by name (palette or grey indices, e.g. the pseudo labels an earlier stage wrote), exactly the image's
   * size: they become `sample.labelMaps[name]`.
   */
  labelMaps?: Record<string, string>;
  /**
   * Greyscale (or RGB: the first channel) PNG / JPEG maps by name with values 0..255, e.g. AuxSegNet's DSS saliency
   * maps: scaled to 0..1 and, when their size differs from the image's, resized bilinearly to it
   * (`sample.floatMaps[name]`). A `.jpg` is used when no `.png` exists.
   */
  floatMaps?: Record<string, string>;
  /** An id without a file: 'error' (default) or 'skip' (that sample lacks the map). */
  missing?: 'error' | 'skip';
}

/**
 * The dataset with maps read from folders added to every sample: pseudo labels or saliency maps that a stage wrote
 * (or that came with a method, as AuxSegNet's saliency), carried through augmentation and batches with the image.
 *
 * ```ts
 * const train = withMapFolders(voc, { labelMaps: { pseudo: 'runs/a/03-pseudo-labels/labels' } });
 * (await train.get(0)).labelMaps?.pseudo; // LabelMap of the image's size
 * ```
 */
export function withMapFolders(dataset: SegmentationDataset, folders: MapFolders): SegmentationDataset {
  const missing = folders.missing ?? 'error';
  const name = `${dataset.name}+maps`;
  const path = async (dir: string, id: string, extensions: string[]) => {
    for (const ext of extensions) {
      const file = joinPath(dir, `${id}${ext}`);
      if (await exists(file)) return file;
    }
    if (missing === 'skip') return undefined;
    throw new Error(`withMapFolders: no ${extensions.join(' or ')} for ${id} in ${dir}`);
  };
  return {
    name,
    classNames: dataset.classNames,
    labelClasses: dataset.labelClasses,
    backgroundIndex: dataset.backgroundIndex,
    ignoreIndex: dataset.ignoreIndex,
    palette: dataset.palette,
    ids: dataset.ids,
    hasMasks: dataset.hasMasks,
    imageLabels: (id) => dataset.imageLabels(id),
    async get(idOrIndex): Promise<Sample> {
      const sample = await dataset.get(idOrIndex);
      const { width, height } = sample.image;
      const labelMaps = { ...sample.labelMaps };
      for (const [key, dir] of Object.entries(folders.labelMaps ?? {})) {
        const file = await path(dir, sample.id, ['.png']);
        if (!file) continue;
        const map = await readLabelPng(file, dataset.palette);
        if (map.width !== width || map.height !== height) {
          throw new Error(
            `withMapFolders: ${file} is ${map.width}x${map.height}, but image ${sample.id} is ${width}x${height}`,
          );
        }
        labelMaps[key] = map;
      }
      const floatMaps = { ...sample.floatMaps };
      for (const [key, dir] of Object.entries(folders.floatMaps ?? {})) {
        const file = await path(dir, sample.id, ['.png', '.jpg']);
        if (!file) continue;
        const grey = await readImage(file);
        const map: FloatMap = {
          width: grey.width,
          height: grey.height,
          data: Float32Array.from({ length: grey.width * grey.height }, (_, i) => grey.data[3 * i] / 255),
        };
        floatMaps[key] = resizeFloatMap(map, width, height);
      }
      return {
        ...sample,
        ...(Object.keys(labelMaps).length ? { labelMaps } : {}),
        ...(Object.keys(floatMaps).length ? { floatMaps } : {}),
      };
    },
  };
}

/** Bilinear resize with half-pixel centres (cv2.resize / align_corners=False); the map itself when sizes match. */
export function resizeFloatMap(map: FloatMap, width: number, height: number): FloatMap {
  if (map.width === width && map.height === height) return map;
  const out = new Float32Array(width * height);
  const sy = map.height / height;
  const sx = map.width / width;
  for (let y = 0; y < height; y++) {
    const fy = Math.min(Math.max((y + 0.5) * sy - 0.5, 0), map.height - 1);
    const y0 = Math.floor(fy);
    const y1 = Math.min(y0 + 1, map.height - 1);
    const wy = fy - y0;
    for (let x = 0; x < width; x++) {
      const fx = Math.min(Math.max((x + 0.5) * sx - 0.5, 0), map.width - 1);
      const x0 = Math.floor(fx);
      const x1 = Math.min(x0 + 1, map.width - 1);
      const wx = fx - x0;
      const top = map.data[y0 * map.width + x0] * (1 - wx) + map.data[y0 * map.width + x1] * wx;
      const bottom = map.data[y1 * map.width + x0] * (1 - wx) + map.data[y1 * map.width + x1] * wx;
      out[y * width + x] = top * (1 - wy) + bottom * wy;
    }
  }
  return { width, height, data: out };
}
