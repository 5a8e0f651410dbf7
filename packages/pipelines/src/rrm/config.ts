import type { Connection } from '@wsss/affinity';
import type { ConfigOverrides } from '../config';
import { type DatasetConfig, SYNTHETIC_QUICK_DATASET } from '../data';
import type { PresetName } from '../pipeline';

/**
 * Everything the RRM + AA/LR pipeline does, with the `quick` preset's values (this 2-core machine, minutes). The
 * paper's settings are the `paper` preset; the ablation rows of its tables are `losses.*` switches.
 */
export interface RrmConfig {
  dataset: DatasetConfig;
  backbone: {
    /** MobileNetV2 ImageNet weights (a TF.js manifest folder or URL); null trains from random weights. */
    weights: string | null;
    /** Width multiplier of a randomly initialised MobileNetV2 (the ImageNet weights are 1.0). */
    widthMultiplier: number;
    outputStride: 8 | 16;
    /** Train the backbone too; false trains the heads on the (ImageNet) features as they are. */
    finetune: boolean;
  };
  network: {
    /** Channels C1 of the segmentation branch's embedding F^s (paper: 512). */
    embeddingChannels: number;
    /** Dilation of the segmentation branch's two 3x3 convolutions (RRM: 12 at output stride 8 on 321 crops). */
    dilation: number;
  };
  training: {
    steps: number;
    /** The first steps train the classification branch only (RRM's train_from_init: the first half). */
    classificationSteps: number;
    batchSize: number;
    /** Adam's learning rate of the backbone; the heads' is `headLrMultiplier` times it (paper: 1e-4). */
    learningRate: number;
    headLrMultiplier: number;
    /** Paper: 5e-4. */
    weightDecay: number;
    /** Side of the square training crops. */
    cropSize: number;
    /**
     * Scale of the network's input relative to the images, in training (rescale range 0.7-1.3 times it, one scale
     * per batch as RRM) and at evaluation: small images segment better enlarged.
     */
    inputScale: number;
    checkpointEvery: number;
  };
  cams: {
    /** Scales of the online CAMs relative to the training crop, averaged (RRM: 1, 0.5, 1.5, 2; no flip). */
    scales: number[];
    /** Classes the classifier scores below this (sigmoid) get no mask (paper section 4.1: 0.1). */
    minClassScore: number;
  };
  pseudoLabels: {
    /**
     * Run the CRFs on a worker thread while the network trains on the batch before (the next batch's CAMs come from
     * the weights before the current step's update: one step older than RRM's). Resuming such a run recomputes the
     * first batch's labels from the checkpoint's weights, so it is close to, not bit-identical with, an uninterrupted
     * run. false: RRM's order on the calling thread, exact resume.
     */
    overlap: boolean;
    /** Background powers of the two CRFs (RRM: 4 and 32). */
    lowAlpha: number;
    highAlpha: number;
    camPercentile: number;
    backgroundSure: number;
    crfSure: number;
  };
  losses: {
    /** RRM's cross-entropy on the pseudo labels, background and foreground pixels averaged separately. */
    crossEntropy: boolean;
    /**
     * The pairwise affinity loss: 'adaptive' (AA, eqs. 7-12), 'standard' (SA, eqs. 1-6; table 2's comparison) or
     * 'none' (table 1's first row).
     */
    affinity: 'adaptive' | 'standard' | 'none';
    /** lambda_1 (paper: 0.1). */
    affinityWeight: number;
    /** Dilations of the affinity kernels (paper section 4.1: 4-8-16-24 in the text, 4-8-12-24 in tables 2-3). */
    dilations: number[];
    /** Margin m (paper: 3). */
    margin: number;
    /** Omega_ij (table 3): max (eq. 7), min or mean of V_i, V_j. */
    connection: Connection;
    /**
     * Where V comes from (the paper leaves it open): 'prediction', the segmentation branch's max class probability
     * (not differentiated); or 'pseudo-label', the low-power CRF's marginal of the pixel's pseudo label.
     */
    confidence: 'prediction' | 'pseudo-label';
    /** The label-reassign loss (eqs. 13-17). */
    labelReassign: boolean;
    /** lambda_2 (paper: 0.1). */
    labelReassignWeight: number;
    /** Margin n (paper: 1). */
    labelReassignMargin: number;
    /** Concentration gamma (table 4; paper: 2). */
    gamma: number;
    /** LR is on in the last this many epochs (paper: 2). */
    labelReassignEpochs: number;
  };
  evaluation: {
    scales: number[];
    flip: boolean;
    /** Dense CRF (rrmInference preset) on the network's probabilities before the argmax. */
    crf: boolean;
    /** Background score of the CAM seeds reported next to the pseudo labels (psa's quick labels: 0.2). */
    seedThreshold: number;
    /** Overlay PNGs (image | seeds | pseudo label | prediction | ground truth) for this many images. */
    overlays: number;
  };
}

export const RRM_DEFAULTS: RrmConfig = {
  dataset: SYNTHETIC_QUICK_DATASET,
  backbone: { weights: null, widthMultiplier: 1, outputStride: 16, finetune: false },
  network: { embeddingChannels: 128, dilation: 2 },
  training: {
    steps: 300,
    classificationSteps: 120,
    batchSize: 8,
    learningRate: 0.0002,
    headLrMultiplier: 10,
    weightDecay: 5e-4,
    cropSize: 160,
    inputScale: 2,
    checkpointEvery: 30,
  },
  cams: { scales: [1], minClassScore: 0.1 },
  pseudoLabels: {
    overlap: true,
    lowAlpha: 4,
    highAlpha: 32,
    camPercentile: 0.6,
    backgroundSure: 0.8,
    crfSure: 0.8,
  },
  losses: {
    crossEntropy: true,
    affinity: 'adaptive',
    affinityWeight: 0.1,
    dilations: [4, 8, 12, 24],
    margin: 3,
    connection: 'max',
    confidence: 'prediction',
    labelReassign: true,
    labelReassignWeight: 0.1,
    labelReassignMargin: 1,
    gamma: 2,
    labelReassignEpochs: 3,
  },
  evaluation: { scales: [1], flip: true, crf: false, seedThreshold: 0.25, overlays: 4 },
};

export const RRM_PRESETS: Record<PresetName, ConfigOverrides<RrmConfig>> = {
  smoke: {
    dataset: { trainSize: 8, evalSize: 4, imageSize: 48 },
    backbone: { weights: null, widthMultiplier: 0.35, finetune: true },
    network: { embeddingChannels: 16 },
    training: {
      steps: 6,
      classificationSteps: 2,
      batchSize: 4,
      learningRate: 0.001,
      cropSize: 48,
      inputScale: 1,
      checkpointEvery: 2,
    },
    cams: { scales: [1, 0.5] },
    losses: { labelReassignEpochs: 1 },
    evaluation: { overlays: 1 },
  },
  quick: {},
  paper: {
    dataset: { name: 'voc', trainSize: 0, evalSize: 0 },
    backbone: { outputStride: 8, finetune: true },
    network: { embeddingChannels: 512, dilation: 12 },
    training: {
      steps: 20000,
      classificationSteps: 10000,
      batchSize: 4,
      learningRate: 1e-4,
      headLrMultiplier: 10,
      weightDecay: 5e-4,
      cropSize: 321,
      inputScale: 1,
      checkpointEvery: 1000,
    },
    cams: { scales: [1, 0.5, 1.5, 2] },
    losses: { labelReassignEpochs: 2 },
    evaluation: { scales: [1], flip: false, crf: false },
  },
};
