import type { ConfigOverrides } from '../config';
import { type DatasetConfig, SYNTHETIC_QUICK_DATASET } from '../data';
import type { PresetName } from '../pipeline';

/** Everything the baseline pipeline does, with the `quick` preset's values (this 2-core machine, minutes). */
export interface BaselineConfig {
  dataset: DatasetConfig;
  backbone: {
    /** MobileNetV2 ImageNet weights (a TF.js manifest folder or URL); null trains from random weights. */
    weights: string | null;
    /** Width multiplier of a randomly initialised MobileNetV2 (the ImageNet weights are 1.0). */
    widthMultiplier: number;
  };
  classifier: {
    steps: number;
    batchSize: number;
    learningRate: number;
    /** Output stride of the CAM backbone (8: denser CAMs). */
    outputStride: 8 | 16;
    /** Train every layer; false trains the classifier only (the ImageNet features as they are). */
    finetune: boolean;
    checkpointEvery: number;
  };
  cams: {
    /** Input scales of the multi-scale CAMs (small synthetic images localise better enlarged). */
    scales: number[];
    flip: boolean;
    /** Background score of the seed labels (psa's quick labels: 0.2). */
    backgroundThreshold: number;
    /** Thresholds of the seed sweep reported next to it. */
    sweep: number[];
  };
  pseudoLabels: {
    /** 'crf': dense CRF over [(1 - max)^alpha, present CAMs] (psa, RRM); 'threshold': the seed labels as they are. */
    method: 'crf' | 'threshold';
    /** Background power alpha of the CRF scores (psa: 4 low / 32 high confidence). */
    alpha: number;
  };
  segmentation: {
    steps: number;
    batchSize: number;
    /** Adam's learning rate of the backbone; the head's is `headLrMultiplier` times it. */
    learningRate: number;
    headLrMultiplier: number;
    /** Train the backbone too; false trains the head on the (ImageNet) features as they are. */
    finetune: boolean;
    outputStride: 8 | 16;
    /**
     * Scale of the network's input relative to the images, in training (rescale range 0.8-1.2 times it) and at
     * evaluation (times `evaluation.scales`): small images segment better enlarged, as their CAMs do.
     */
    inputScale: number;
    cropSize: number;
    checkpointEvery: number;
    /** ASPP head: channels of its branches, and the dilations of its 3x3 branches ([] for DeepLab's mobile head: 1x1 + image pooling). */
    head: { channels: number; rates: number[] };
  };
  evaluation: {
    scales: number[];
    flip: boolean;
    /** Dense CRF (psa preset) on the network's probabilities before the argmax. */
    crf: boolean;
    /**
     * Overlay PNGs for this many images: training images (image | seeds | pseudo label | ground truth) in the
     * pseudo-labels stage, held-out ones (image | prediction | ground truth) in the evaluation.
     */
    overlays: number;
  };
}

export const BASELINE_DEFAULTS: BaselineConfig = {
  dataset: SYNTHETIC_QUICK_DATASET,
  backbone: { weights: null, widthMultiplier: 1 },
  classifier: {
    steps: 160,
    batchSize: 8,
    learningRate: 0.002,
    outputStride: 8,
    finetune: false,
    checkpointEvery: 40,
  },
  cams: { scales: [2, 2.5], flip: true, backgroundThreshold: 0.25, sweep: [0.1, 0.2, 0.3, 0.4, 0.5, 0.6] },
  pseudoLabels: { method: 'crf', alpha: 4 },
  segmentation: {
    steps: 300,
    batchSize: 8,
    learningRate: 0.0001,
    headLrMultiplier: 10,
    finetune: false,
    outputStride: 16,
    inputScale: 2,
    cropSize: 160,
    checkpointEvery: 50,
    head: { channels: 128, rates: [] },
  },
  evaluation: { scales: [1], flip: true, crf: false, overlays: 4 },
};

export const BASELINE_PRESETS: Record<PresetName, ConfigOverrides<BaselineConfig>> = {
  smoke: {
    dataset: { trainSize: 8, evalSize: 4, imageSize: 48 },
    backbone: { weights: null, widthMultiplier: 0.35 },
    classifier: { steps: 4, batchSize: 4, learningRate: 0.001, finetune: true, checkpointEvery: 2 },
    cams: { scales: [1], flip: false, sweep: [0.2, 0.4] },
    segmentation: {
      steps: 4,
      batchSize: 4,
      cropSize: 48,
      checkpointEvery: 2,
      head: { channels: 16, rates: [] },
    },
    evaluation: { overlays: 1 },
  },
  quick: {},
  paper: {
    dataset: { name: 'voc', trainSize: 0, evalSize: 0 },
    classifier: { steps: 8000, batchSize: 16, learningRate: 0.01, finetune: true, checkpointEvery: 500 },
    cams: { scales: [0.5, 1, 1.5, 2], flip: true, backgroundThreshold: 0.2 },
    pseudoLabels: { method: 'crf', alpha: 4 },
    segmentation: {
      steps: 20000,
      batchSize: 16,
      learningRate: 0.0001,
      finetune: true,
      outputStride: 16,
      inputScale: 1,
      cropSize: 321,
      checkpointEvery: 1000,
      head: { channels: 256, rates: [6, 12, 18] },
    },
    evaluation: { scales: [0.5, 0.75, 1, 1.25, 1.5], flip: true, crf: true },
  },
};
