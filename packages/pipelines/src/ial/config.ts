import { BASELINE_DEFAULTS, BASELINE_PRESETS, type BaselineConfig } from '../baseline/config';
import type { ConfigOverrides } from '../config';
import type { PresetName } from '../pipeline';

/**
 * Everything the IAL-style pipeline does (Wang, Liu, Ma, Yang, IJCV 2020; no public code: every choice the paper
 * leaves open is an option here, with the `quick` preset's values). The classifier, CAM, segmentation and evaluation
 * sections are the baseline's.
 */
export interface IalConfig
  extends Pick<
    BaselineConfig,
    'dataset' | 'backbone' | 'classifier' | 'cams' | 'segmentation' | 'evaluation'
  > {
  iterations: {
    /** Rounds K of (mine confident regions -> train affinity -> random walk -> train unary network). */
    rounds: number;
    /** Start each round's unary network from the previous round's weights (false: from ImageNet / random). */
    warmStart: boolean;
  };
  unary: {
    /**
     * Background score of round 1's unary, from the CAMs: `(1 - max_c CAM_c)^alpha` (psa's random walk: 16; a lower
     * power gives more background). Later rounds' unaries are the previous unary network's probabilities.
     */
    backgroundAlpha: number;
  };
  mining: {
    /**
     * What round r > 1 mines its confident regions from: 'refined' (round r-1's random-walk scores, the issue's
     * reading of IAL) or 'unary' (round r-1's unary network). Round 1 mines the CAM unary.
     */
    source: 'refined' | 'unary';
    /**
     * A pixel is confident when its best class holds at least this share of its scores (normalised per pixel):
     * one value for every class, or one per mask class (background first where the dataset has one).
     */
    thresholds: number[];
    /** Keep only confident pixels where a dense CRF (psa preset) on the scores agrees with their label. */
    crfAgreement: boolean;
  };
  affinity: {
    steps: number;
    batchSize: number;
    /** Learning rate of the head (SGD, momentum 0.9, poly decay; psa: 0.1 on ResNet-38); the backbone's is 1/10. */
    learningRate: number;
    weightDecay: number;
    /** Train the backbone too (always, without ImageNet weights). */
    finetune: boolean;
    /** Input scale relative to the images, in training (0.8-1.2 times it) and in the random walk. */
    inputScale: number;
    cropSize: number;
    /** Pair radius (psa: 5, 34 offsets). */
    radius: number;
    /** Output channels of the head's level projections (block_5, block_12, last features) and of its last layer. */
    levelChannels: number[];
    outChannels: number;
    checkpointEvery: number;
  };
  randomWalk: {
    /** Exponent of the affinities (psa: 8). */
    beta: number;
    /** log2 of the number of steps (psa: 8, i.e. 256). */
    logSteps: number;
  };
  energy: {
    /** Weight lambda of the pairwise (Potts, affinity-weighted) term of the logged energy. */
    pairwiseWeight: number;
  };
}

export const IAL_DEFAULTS: IalConfig = {
  dataset: BASELINE_DEFAULTS.dataset,
  backbone: BASELINE_DEFAULTS.backbone,
  classifier: BASELINE_DEFAULTS.classifier,
  cams: BASELINE_DEFAULTS.cams,
  segmentation: { ...BASELINE_DEFAULTS.segmentation, steps: 200 },
  evaluation: BASELINE_DEFAULTS.evaluation,
  iterations: { rounds: 3, warmStart: true },
  unary: { backgroundAlpha: 4 },
  mining: { source: 'refined', thresholds: [0.7], crfAgreement: false },
  affinity: {
    steps: 120,
    batchSize: 8,
    learningRate: 0.01,
    weightDecay: 5e-4,
    finetune: false,
    inputScale: 2,
    cropSize: 160,
    radius: 5,
    levelChannels: [64, 128, 256],
    outChannels: 448,
    checkpointEvery: 40,
  },
  randomWalk: { beta: 8, logSteps: 8 },
  energy: { pairwiseWeight: 1 },
};

// the baseline's paper settings, less its CRF pseudo-label section (IAL's pseudo labels come from the random walk)
const { pseudoLabels: _, ...BASELINE_PAPER } = BASELINE_PRESETS.paper;

export const IAL_PRESETS: Record<PresetName, ConfigOverrides<IalConfig>> = {
  smoke: {
    ...BASELINE_PRESETS.smoke,
    iterations: { rounds: 2 },
    affinity: {
      steps: 3,
      batchSize: 4,
      inputScale: 1,
      cropSize: 48,
      radius: 3,
      levelChannels: [8, 8, 16],
      outChannels: 16,
      checkpointEvery: 2,
    },
    randomWalk: { logSteps: 4 },
  },
  quick: {},
  paper: {
    ...BASELINE_PAPER,
    // psa's AffinityNet training (digest section 3.3) and random walk (section 4.1)
    unary: { backgroundAlpha: 16 },
    mining: { crfAgreement: true },
    affinity: {
      steps: 8000,
      batchSize: 8,
      learningRate: 0.1,
      finetune: true,
      inputScale: 1,
      cropSize: 448,
      checkpointEvery: 500,
    },
  },
};
