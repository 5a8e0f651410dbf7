import type { LabelMap, RgbImage } from '@wsss/core';

/** A single-channel float map that travels with the image (saliency, CAM, confidence). */
export interface FloatMap {
  width: number;
  height: number;
  data: Float32Array;
}

/** One image of a dataset, with its image-level labels and, when the split has them, its pixel labels. */
export interface Sample {
  id: string;
  image: RgbImage;
  /** Class index per pixel (`ignoreIndex` = ignore); absent for splits without masks (VOC test). */
  mask?: LabelMap;
  /** Multi-hot image-level labels over `labelClasses` (VOC: 20 values in aeroplane..tvmonitor order). */
  labels: Uint8Array;
  /**
   * Further per-pixel label maps of the image's size by name (e.g. `pseudo`: pseudo labels of an earlier stage),
   * resampled like the mask (nearest) by augmentation and stacked by `BatchLoader` into `batch.labelMaps`.
   */
  labelMaps?: Record<string, LabelMap>;
  /** Per-pixel float maps of the image's size by name (e.g. `saliency`), resampled bilinearly; `batch.floatMaps`. */
  floatMaps?: Record<string, FloatMap>;
}

/**
 * The interface every loader implements: VOC, COCO, CamVid and the synthetic dataset are interchangeable in
 * pipelines.
 */
export interface SegmentationDataset {
  readonly name: string;
  /** Names of the mask values 0..numClasses-1 (VOC: 'background', 'aeroplane', ..., 'tvmonitor'). */
  readonly classNames: readonly string[];
  /**
   * Mask values that image-level labels speak about, in label-vector order (VOC: 1..20; CamVid, which has no
   * background class: 0..10).
   */
  readonly labelClasses: readonly number[];
  /** Mask value of the background class, or `null` when there is none (CamVid). */
  readonly backgroundIndex: number | null;
  /** Mask value that marks pixels to ignore (255). */
  readonly ignoreIndex: number;
  /** Colour per class for label PNGs, 256 RGB triples. */
  readonly palette: Uint8Array;
  readonly ids: readonly string[];
  /** True when `get` returns masks. */
  readonly hasMasks: boolean;
  /** Image-level labels of one id without reading its image. */
  imageLabels(id: string): Promise<Uint8Array>;
  /** Loads one sample by id or index. */
  get(idOrIndex: string | number): Promise<Sample>;
}

/** Resolves an id-or-index argument, with an error naming the dataset when it is unknown. */
export function resolveId(
  dataset: { name: string; ids: readonly string[] },
  idOrIndex: string | number,
): string {
  if (typeof idOrIndex === 'number') {
    const id = dataset.ids[idOrIndex];
    if (id === undefined) {
      throw new Error(`${dataset.name}: index ${idOrIndex} is out of range (0..${dataset.ids.length - 1})`);
    }
    return id;
  }
  return idOrIndex;
}

/** Multi-hot labels from the values present in a mask: unique values minus background and ignore. */
export function labelsFromMask(
  mask: Uint8Array,
  labelClasses: readonly number[],
  numValues = 256,
): Uint8Array {
  const seen = new Uint8Array(numValues);
  for (let i = 0; i < mask.length; i++) seen[mask[i]] = 1;
  return Uint8Array.from(labelClasses, (c) => seen[c]);
}
