/** @wsss/datasets: VOC 2012 (+SBD), COCO, CamVid and a synthetic WSSS dataset behind one interface. */
export type { Sample, SegmentationDataset } from './types';
export { labelsFromMask } from './types';
export { loadVoc, readClsLabels, VOC_CLASSES, type VocLabelSource, type VocOptions, type VocSplit } from './voc';
export { CAMVID_CLASSES, loadCamVid, type CamVidOptions, type CamVidSplit } from './camvid';
export { createSyntheticDataset, SYNTHETIC_SHAPES, type SyntheticOptions } from './synthetic';
export { parseNpy, type NpyArray, type NpyValue } from './npy';
export {
  augment,
  IMAGENET_MEAN_RGB,
  sampleGeometry,
  type Augmentable,
  type AugmentOptions,
  type ColorJitter,
  type FloatMap,
  type Geometry,
} from './augment';
export {
  type Batch,
  BatchLoader,
  type BatchOptions,
  IMAGENET_NORMALIZATION,
  MOBILENET_NORMALIZATION,
  type Normalization,
} from './batches';
