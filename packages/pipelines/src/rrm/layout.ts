import type { SegmentationDataset } from '@wsss/datasets';

/** How a dataset's labels map to RRM's channels. */
export interface RrmLayout {
  /** Mask value of each image-level label, in label order. */
  classValues: readonly number[];
  /** Number of mask classes (the segmentation branch's channels; background included when there is one). */
  numClasses: number;
  /** Number of image-level labels (the classification branch's outputs). */
  numLabels: number;
  /**
   * Mask value of the background class (RRM: 0), or null for a dataset where every pixel has a class (CamVid): then
   * one CRF over the class CAMs and `rrmPseudoLabelsWithoutBackground` make the pseudo labels, and the losses have
   * no background to average apart.
   */
  background: 0 | null;
}

/** The dataset's layout for RRM; the background, when there is one, must be mask value 0 (RRM's rule). */
export function rrmLayout(data: SegmentationDataset): RrmLayout {
  if (data.backgroundIndex !== 0 && data.backgroundIndex !== null) {
    throw new Error(
      `rrm-aa-lr: the dataset's background class must have mask value 0 (RRM's pseudo labels put it in channel 0) or be absent; ${data.name ?? 'this dataset'} has background ${data.backgroundIndex}`,
    );
  }
  return {
    classValues: [...data.labelClasses],
    numClasses: data.classNames.length,
    numLabels: data.labelClasses.length,
    background: data.backgroundIndex,
  };
}
