import {
  createSyntheticDataset,
  cropDataset,
  loadCamVid,
  loadVoc,
  type SegmentationDataset,
} from '@wsss/datasets';

/** Which data a pipeline runs on (the `dataset` section of every pipeline config). */
export interface DatasetConfig {
  /**
   * 'synthetic' (built in, no download), 'voc' (PASCAL VOC 2012 layout), 'camvid' (SegNet layout) or 'camvid-crops'
   * (CamVid at half resolution cut into square crops of `imageSize` whose labels come from their masks, so classes
   * come and go; see @wsss/datasets cropDataset).
   */
  name: 'synthetic' | 'voc' | 'camvid' | 'camvid-crops';
  /** Folder of VOC2012 / CamVid; unused for synthetic. */
  root: string | null;
  /** Split the weak labels train on (synthetic: ignored). VOC: 'train_aug'; CamVid: 'train'. */
  trainSplit: string;
  /** Held-out split the final network is scored on. VOC: 'val'; CamVid: 'val'. */
  evalSplit: string;
  /** Use at most this many training images (0: all; synthetic: how many to generate). */
  trainSize: number;
  /** Score at most this many held-out images (0: all; synthetic: how many to generate). */
  evalSize: number;
  /** Side of the synthetic images and of the CamVid crops. */
  imageSize: number;
}

/** The dataset section of the pipelines' `quick` presets: 160 synthetic training images of 96x96, 60 held out. */
export const SYNTHETIC_QUICK_DATASET: DatasetConfig = {
  name: 'synthetic',
  root: null,
  trainSplit: 'train_aug',
  evalSplit: 'val',
  trainSize: 160,
  evalSize: 60,
  imageSize: 96,
};

function firstIds(dataset: SegmentationDataset, count: number): SegmentationDataset {
  return count > 0 && count < dataset.ids.length ? { ...dataset, ids: dataset.ids.slice(0, count) } : dataset;
}

/** The training or held-out split of the configured dataset, cut to its configured size. */
export async function openDataset(
  config: DatasetConfig,
  which: 'train' | 'eval',
): Promise<SegmentationDataset> {
  const size = which === 'train' ? config.trainSize : config.evalSize;
  if (config.name === 'synthetic') {
    // disjoint seeds: held-out images are never trained on
    return createSyntheticDataset({
      size: size || 1000,
      seed: which === 'train' ? 1 : 2,
      height: config.imageSize,
      width: config.imageSize,
    });
  }
  if (!config.root)
    throw new Error(`dataset ${config.name}: dataset.root must name its folder (--data-root)`);
  const split = which === 'train' ? config.trainSplit : config.evalSplit;
  if (config.name === 'voc')
    return firstIds(await loadVoc({ root: config.root, split: split as never }), size);
  if (config.name === 'camvid')
    return firstIds(await loadCamVid({ root: config.root, split: split as never }), size);
  if (config.name === 'camvid-crops') {
    const camvid = await loadCamVid({ root: config.root, split: split as never });
    return firstIds(await cropDataset(camvid, { scale: 0.5, size: config.imageSize }), size);
  }
  throw new Error(`dataset.name: expected synthetic, voc, camvid or camvid-crops, got '${config.name}'`);
}
