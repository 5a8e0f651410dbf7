/** @wsss/datasets: VOC 2012 (+SBD), COCO, CamVid and a synthetic WSSS dataset behind one interface. */

/** Re-exported from @wsss/core, where input normalisation is defined once. */
export { IMAGENET_NORMALIZATION, MOBILENET_NORMALIZATION, type Normalization } from '@wsss/core';
export {
  type Augmentable,
  type AugmentOptions,
  applyGeometry,
  augment,
  type ColorJitter,
  type Geometry,
  IMAGENET_MEAN_RGB,
  sampleGeometry,
} from './augment';
export { type Batch, BatchLoader, type BatchOptions, disposeBatch } from './batches';
export { CAMVID_CLASSES, type CamVidOptions, type CamVidSplit, loadCamVid } from './camvid';
export { type CocoOptions, type CocoSplit, cocoSemanticMask, loadCoco } from './coco';
export {
  decodeRleString,
  encodeRleString,
  type Rle,
  rasterizeSegmentation,
  type Segmentation,
} from './coco_masks';
export { type CropOptions, cropDataset } from './crops';
export { type MapFolders, resizeFloatMap, withMapFolders } from './map_folders';
export { type NpyArray, type NpyValue, parseNpy } from './npy';
export { createSyntheticDataset, SYNTHETIC_SHAPES, type SyntheticOptions } from './synthetic';
export type { FloatMap, Sample, SegmentationDataset } from './types';
export { labelsFromMask } from './types';
export {
  loadVoc,
  readClsLabels,
  VOC_CLASSES,
  type VocLabelSource,
  type VocOptions,
  type VocSplit,
} from './voc';
