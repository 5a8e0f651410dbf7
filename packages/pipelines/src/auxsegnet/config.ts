import { BASELINE_DEFAULTS, BASELINE_PRESETS, type BaselineConfig } from '../baseline/config';
import type { ConfigOverrides } from '../config';
import type { PresetName } from '../pipeline';

/**
 * Everything the AuxSegNet pipeline does (Xu, Wang, Zhang, Tao, ICCV 2021; anchors digest section 10), with the
 * `quick` preset's values except `iterations.stages` (4 as AuxSegNet; `quick` runs 3). The classifier, CAM and
 * evaluation sections are the baseline's (the initial CAMs come from a separately trained classifier, as AuxSegNet's
 * from psa's). Ablation rows of the supplementary table 3:
 * baseline = `network.multiTask` and `network.crossTask` off, one stage; +MT, +CT switch them on; +IL = more stages.
 */
export interface AuxSegNetConfig
  extends Pick<BaselineConfig, 'dataset' | 'backbone' | 'classifier' | 'cams' | 'evaluation'> {
  saliency: {
    /**
     * Folder of off-the-shelf saliency maps `<id>.png` (0..255, any size, resized to the image), e.g. the DSS maps
     * AuxSegNet releases for VOC; null: frequency-tuned saliency (@wsss/cam), computed here, no download.
     */
    folder: string | null;
  };
  fusion: {
    /** Heuristic fusion: object by CAM where max CAM > this (AuxSegNet: 0.2). */
    camThreshold: number;
    /**
     * Object by saliency where saliency > this. AuxSegNet: 0.06, for its DSS maps (near-binary, background ~0): set it
     * with `saliency.folder`. Default 0.5 for the computed frequency-tuned maps, scaled so that 0.5 is their paper's
     * adaptive threshold for salient regions (on them 0.06 would call almost every pixel salient).
     */
    saliencyThreshold: number;
  };
  network: {
    outputStride: 8 | 16;
    /** Channels of each task branch (AuxSegNet: 128). */
    channels: number;
    /** Dilations of each branch's three 3x3 convolutions (AuxSegNet, stride 8, 321 crops: 6, 12, 18). */
    dilations: number[];
    /** +MT: the saliency branch and its losses. */
    multiTask: boolean;
    /** +CT: the cross-task affinity and the refined predictions (needs multiTask). */
    crossTask: boolean;
    /**
     * Scale of the task affinities' logits, `A_t = softmax(scale theta(F)^T phi(F))`: 1 as the reference; 1/sqrt(channels)
     * for scaled dot-product attention.
     */
    affinityScale: number;
  };
  training: {
    /** Steps of each stage. */
    steps: number;
    batchSize: number;
    optimizer: 'sgd' | 'adam';
    /** Learning rate of the backbone; the classifier and branches train at `headLrMultiplier` times it. */
    learningRate: number;
    headLrMultiplier: number;
    /** The affinity layer's multiplier (the reference trains its `cross_att` at 1x, not 10x). */
    affinityLrMultiplier: number;
    weightDecay: number;
    /** Train the backbone too (always, without ImageNet weights). */
    finetune: boolean;
    cropSize: number;
    /** Input scale relative to the images, in training (0.7-1.3 times it), label updates and evaluation. */
    inputScale: number;
    /** What crops are padded with in the pseudo labels: 'ignore' (255) or 'background' (0, the reference's quirk). */
    labelPadding: 'ignore' | 'background';
    checkpointEvery: number;
  };
  iterations: {
    /** S training stages (AuxSegNet, default: 4); after each but the last the labels are updated (+IL when S > 1). */
    stages: number;
  };
  update: {
    /** Divide the A_ct-refined CAMs by their maximum again (the reference does not). */
    renormaliseRefinedCam: boolean;
    /** Refine the fused saliency with the 2-label saliency CRF (crf's `saliencyCrf`, 1 iteration), as the reference. */
    saliencyCrf: boolean;
  };
}

export const AUXSEGNET_DEFAULTS: AuxSegNetConfig = {
  dataset: BASELINE_DEFAULTS.dataset,
  backbone: BASELINE_DEFAULTS.backbone,
  classifier: BASELINE_DEFAULTS.classifier,
  cams: BASELINE_DEFAULTS.cams,
  evaluation: BASELINE_DEFAULTS.evaluation,
  saliency: { folder: null },
  fusion: { camThreshold: 0.2, saliencyThreshold: 0.5 },
  network: {
    outputStride: 16,
    channels: 64,
    dilations: [1, 2, 3],
    multiTask: true,
    crossTask: true,
    affinityScale: 1,
  },
  training: {
    steps: 150,
    batchSize: 8,
    optimizer: 'adam',
    learningRate: 0.0001,
    headLrMultiplier: 10,
    affinityLrMultiplier: 1,
    weightDecay: 1e-5,
    finetune: false,
    cropSize: 160,
    inputScale: 2,
    labelPadding: 'background',
    checkpointEvery: 50,
  },
  iterations: { stages: 4 },
  update: { renormaliseRefinedCam: false, saliencyCrf: true },
};

// the baseline's paper settings, less its CRF pseudo-label and segmentation sections (AuxSegNet has its own)
const { pseudoLabels: _p, segmentation: _s, ...BASELINE_PAPER } = BASELINE_PRESETS.paper;
const { segmentation: _smokeSegmentation, ...BASELINE_SMOKE } = BASELINE_PRESETS.smoke;

export const AUXSEGNET_PRESETS: Record<PresetName, ConfigOverrides<AuxSegNetConfig>> = {
  smoke: {
    ...BASELINE_SMOKE,
    network: { channels: 8 },
    training: { steps: 3, batchSize: 4, cropSize: 48, inputScale: 1, checkpointEvery: 2 },
    iterations: { stages: 2 },
  },
  // three stages instead of AuxSegNet's four keep the quick run on this machine under half an hour
  quick: { iterations: { stages: 3 } },
  paper: {
    ...BASELINE_PAPER,
    // digest section 10.2: batch 4, 15 epochs of train_aug (39,675 steps), lr 7e-4 (10x heads), crop 321
    // AuxSegNet's thresholds for its DSS maps (give them with saliency.folder)
    fusion: { camThreshold: 0.2, saliencyThreshold: 0.06 },
    network: { outputStride: 8, channels: 128, dilations: [6, 12, 18] },
    training: {
      steps: 39675,
      batchSize: 4,
      optimizer: 'sgd',
      learningRate: 0.0007,
      weightDecay: 1e-5,
      finetune: true,
      cropSize: 321,
      inputScale: 1,
      checkpointEvery: 1000,
    },
    iterations: { stages: 4 },
    evaluation: { scales: [1], flip: false, crf: true },
  },
};
