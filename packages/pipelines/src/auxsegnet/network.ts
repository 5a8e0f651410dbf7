import { CrossTaskAffinity } from '@wsss/affinity';
import { Rng, tf } from '@wsss/core';
import {
  ClassifierHead,
  loadCheckpointParameters,
  type MobileNetV2,
  multilabelSoftMarginLoss,
  Parameters,
  segmentationCrossEntropy,
  type TrainedParameters,
} from '@wsss/models';
import { backboneOf } from '../baseline/networks';
import type { AuxSegNetConfig } from './config';

/** What one forward pass of AuxSegNet gives (at the features' resolution h x w, N = h w). */
export interface AuxSegNetOutputs {
  /** [B, L] classification logits (GAP of the activation maps). */
  classLogits: tf.Tensor2D;
  /** [B, h, w, L] raw class activation maps. */
  activationMaps: tf.Tensor4D;
  /** [B, h, w, C] the segmentation branch's initial logits. */
  initSeg: tf.Tensor4D;
  /** [B, h, w, 1] the saliency branch's initial logit (with the auxiliary tasks). */
  initSal?: tf.Tensor4D;
  /** [B, N, N] the cross-task affinity A_ct (with cross-task affinity). */
  crossTask?: tf.Tensor3D;
  /** A_ct · initSeg and A_ct · initSal (with cross-task affinity). */
  refinedSeg?: tf.Tensor4D;
  refinedSal?: tf.Tensor4D;
}

export interface AuxSegNetOptions {
  /** Channels of each task branch (AuxSegNet: 128). */
  channels: number;
  /** Dilations of the branch's three 3x3 convolutions (AuxSegNet at stride 8 on 321 crops: 6, 12, 18). */
  dilations: [number, number, number];
  /** The saliency branch and its losses (+MT). */
  multiTask: boolean;
  /** The learned cross-task affinity and the refined predictions (+CT; needs multiTask). */
  crossTask: boolean;
  /** Scale of the task affinities' logits (reference: 1). Default 1. */
  affinityScale?: number;
  seed?: number;
}

type Task = 'seg' | 'sal';

/**
 * AuxSegNet (Xu et al., ICCV 2021; anchors digest section 10.1) on a MobileNetV2: a classification head whose weights
 * give CAMs; a segmentation and a saliency branch (two dilated 3x3 convolutions + ReLU each), each refined by its own
 * affinity (`F <- F + W(A_t · g(F))`, A_t = softmax(theta(F)^T phi(F))), then a dilated 3x3 + ReLU and a bias-free
 * 1x1 to the initial predictions; the cross-task affinity A_ct mixes A_seg and A_sal and propagates both predictions.
 */
export class AuxSegNetNetwork {
  /** The two branches (convolutions, g and W of the self-affinity refinement, output layers). */
  readonly branches = new Parameters();
  readonly affinity: CrossTaskAffinity;
  readonly tasks: Task[];

  constructor(
    readonly backbone: MobileNetV2,
    readonly classifier: ClassifierHead,
    readonly numClasses: number,
    readonly options: AuxSegNetOptions,
  ) {
    if (options.crossTask && !options.multiTask)
      throw new Error('network.crossTask needs network.multiTask (the cross-task affinity mixes both tasks)');
    const { channels } = options;
    const rng = new Rng(options.seed ?? 3);
    this.tasks = options.multiTask ? ['seg', 'sal'] : ['seg'];
    for (const task of this.tasks) {
      this.branches.createConvolution(`${task}/conv1`, 3, backbone.featureChannels, channels, rng);
      this.branches.createConvolution(`${task}/conv2`, 3, channels, channels, rng);
      this.branches.createConvolution(`${task}/g`, 1, channels, channels, rng);
      this.branches.createConvolution(`${task}/w`, 1, channels, channels, rng);
      this.branches.createConvolution(`${task}/conv3`, 3, channels, channels, rng);
      const out = task === 'seg' ? numClasses : 1;
      this.branches.create(`${task}/out/kernel`, [1, 1, channels, out], {
        std: Math.sqrt(1 / channels),
        rng,
      });
    }
    this.affinity = new CrossTaskAffinity(channels, {
      seed: options.seed ?? 3,
      scale: options.affinityScale ?? 1,
    });
    // the parts a switched-off task or mix does not use are not trained
    for (const name of this.affinity.params.variables.keys()) {
      if ((!options.multiTask && name.startsWith('sal/')) || (!options.crossTask && name.startsWith('mix/')))
        this.affinity.params.frozen.add(name);
    }
  }

  private conv(x: tf.Tensor4D, name: string, dilation = 1): tf.Tensor4D {
    const kernel = this.branches.get(`${name}/kernel`) as tf.Tensor4D;
    return tf.add(tf.conv2d(x, kernel, 1, 'same', 'NHWC', dilation), this.branches.get(`${name}/bias`));
  }

  /** One task's branch: features, self-affinity refinement, initial prediction; and its affinity A_t. */
  private branch(features: tf.Tensor4D, task: Task): { init: tf.Tensor4D; affinity: tf.Tensor3D } {
    const [d1, d2, d3] = this.options.dilations;
    let f = tf.relu(this.conv(tf.relu(this.conv(features, `${task}/conv1`, d1)), `${task}/conv2`, d2));
    const affinity = this.affinity.taskAffinity(f, task);
    const propagated = this.affinity.refine(affinity, this.conv(f, `${task}/g`));
    f = tf.add(f, this.conv(propagated, `${task}/w`));
    f = tf.relu(this.conv(f, `${task}/conv3`, d3));
    const init = tf.conv2d(f, this.branches.get(`${task}/out/kernel`) as tf.Tensor4D, 1, 'valid');
    return { init, affinity };
  }

  forward(images: tf.Tensor4D, options: { training?: boolean } = {}): AuxSegNetOutputs {
    const outputs = tf.tidy(() => {
      const { features } = this.backbone.forward(images, options);
      const activationMaps = this.classifier.activationMaps(features);
      const seg = this.branch(features, 'seg');
      const out: AuxSegNetOutputs = {
        classLogits: tf.mean(activationMaps, [1, 2]) as tf.Tensor2D,
        activationMaps,
        initSeg: seg.init,
      };
      if (this.options.multiTask) {
        const sal = this.branch(features, 'sal');
        out.initSal = sal.init;
        if (this.options.crossTask) {
          out.crossTask = this.affinity.mix(seg.affinity, sal.affinity);
          out.refinedSeg = this.affinity.refine(out.crossTask, seg.init);
          out.refinedSal = this.affinity.refine(out.crossTask, sal.init);
        }
      }
      return out as unknown as tf.TensorContainerObject;
    });
    return outputs as unknown as AuxSegNetOutputs;
  }

  /**
   * The sets to train: the backbone at the base learning rate, the classifier and branches at `headLrMultiplier`
   * times it, the affinity layer at `affinityLrMultiplier` times it (the reference trains its cross_att at 1x).
   */
  parameterSets(headLrMultiplier: number, affinityLrMultiplier: number): TrainedParameters[] {
    return [
      { name: 'backbone', params: this.backbone.params },
      { name: 'classifier', params: this.classifier.params, lrMultiplier: headLrMultiplier },
      { name: 'branches', params: this.branches, lrMultiplier: headLrMultiplier },
      { name: 'affinity', params: this.affinity.params, lrMultiplier: affinityLrMultiplier },
    ];
  }

  dispose(): void {
    this.backbone.dispose();
    this.classifier.dispose();
    this.branches.dispose();
    this.affinity.params.dispose();
  }
}

/** The targets of one batch: image-level labels, segmentation pseudo labels and saliency maps at the crop's size. */
export interface AuxSegNetTargets {
  /** [B, L] 0/1. */
  labels: tf.Tensor2D;
  /** [B, H, W] int32, 255 ignored. */
  pseudoLabels: tf.Tensor3D;
  /** [B, H, W] saliency in [0, 1]; binarised at 0.5 as the reference does. */
  saliency: tf.Tensor3D;
}

/** The loss terms of a batch (each a scalar; absent where its switch is off). */
export interface AuxSegNetLossTerms {
  classification: tf.Scalar;
  initSeg: tf.Scalar;
  initSal?: tf.Scalar;
  refinedSeg?: tf.Scalar;
  refinedSal?: tf.Scalar;
  total: tf.Scalar;
}

/** Mean sigmoid cross-entropy of logits [B, h, w, 1] (upsampled bilinearly) against targets [B, H, W] in {0, 1}. */
function saliencyCrossEntropy(logits: tf.Tensor4D, target: tf.Tensor3D): tf.Scalar {
  return tf.tidy(() => {
    const [, height, width] = target.shape;
    const up = tf.squeeze(tf.image.resizeBilinear(logits, [height, width], false, true), [3]);
    // BCE with logits, stable: max(x, 0) - x y + log(1 + exp(-|x|))
    return tf.mean(
      tf.add(tf.sub(tf.relu(up), tf.mul(up, target)), tf.softplus(tf.neg(tf.abs(up)))),
    ) as tf.Scalar;
  });
}

/**
 * AuxSegNet's loss (digest section 10.2): `cls + BCE(init_sal, S) + BCE(refined_sal, S) + CE(init_seg, Y) +
 * CE(refined_seg, Y)`, every weight 1, predictions upsampled bilinearly to the crop, S binarised at 0.5, CE ignoring
 * 255. The saliency terms need the auxiliary task, the refined ones the cross-task affinity.
 *
 * Shape: outputs of {@link AuxSegNetNetwork.forward}; targets at the crop's size -> scalars.
 */
export function auxSegNetLoss(outputs: AuxSegNetOutputs, targets: AuxSegNetTargets): AuxSegNetLossTerms {
  const { labels, pseudoLabels, saliency } = targets;
  const classification = multilabelSoftMarginLoss(outputs.classLogits, labels);
  const initSeg = segmentationCrossEntropy(outputs.initSeg, pseudoLabels);
  const binary = outputs.initSal ? tf.tidy(() => tf.cast(tf.greater(saliency, 0.5), 'float32')) : undefined;
  const initSal = outputs.initSal && saliencyCrossEntropy(outputs.initSal, binary as tf.Tensor3D);
  const refinedSal = outputs.refinedSal && saliencyCrossEntropy(outputs.refinedSal, binary as tf.Tensor3D);
  const refinedSeg = outputs.refinedSeg && segmentationCrossEntropy(outputs.refinedSeg, pseudoLabels);
  binary?.dispose();
  const parts = [classification, initSeg, initSal, refinedSeg, refinedSal].filter(
    (t): t is tf.Scalar => t !== undefined,
  );
  return { classification, initSeg, initSal, refinedSeg, refinedSal, total: tf.addN(parts) as tf.Scalar };
}

/** The config's AuxSegNet for `numLabels` image-level classes and `numClasses` mask classes. */
export async function auxSegNetNetwork(
  config: Pick<AuxSegNetConfig, 'backbone' | 'network'>,
  numLabels: number,
  numClasses: number,
  pretrained: boolean,
): Promise<AuxSegNetNetwork> {
  const backbone = await backboneOf(config, config.network.outputStride, pretrained, 6);
  const classifier = new ClassifierHead(backbone.featureChannels, numLabels, { seed: 6 });
  const { channels, dilations, multiTask, crossTask, affinityScale } = config.network;
  if (dilations.length !== 3) throw new Error(`network.dilations: expected 3 dilations, got [${dilations}]`);
  return new AuxSegNetNetwork(backbone, classifier, numClasses, {
    channels,
    dilations: dilations as [number, number, number],
    multiTask,
    crossTask,
    affinityScale,
    seed: 6,
  });
}

/** The network trained in `checkpoint` (a training stage's). */
export async function trainedAuxSegNet(
  config: Pick<AuxSegNetConfig, 'backbone' | 'network'>,
  numLabels: number,
  numClasses: number,
  checkpoint: string,
): Promise<AuxSegNetNetwork> {
  const net = await auxSegNetNetwork(config, numLabels, numClasses, false);
  await loadCheckpointParameters(checkpoint, net.parameterSets(1, 1));
  return net;
}
