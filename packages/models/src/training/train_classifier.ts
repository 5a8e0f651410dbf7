import type { tf } from '@wsss/core';
import type { Backbone } from '../backbone';
import type { ClassifierHead } from '../heads';
import { multilabelSoftMarginLoss } from '../heads';
import type { OptimizerOptions } from './optimizer';
import { type TrainLoopOptions, type TrainLoopResult, trainLoop } from './train_loop';

/** A backbone with a GAP classifier: what CAM methods train. */
export interface CamClassifier {
  backbone: Pick<Backbone, 'params' | 'forward'>;
  head: ClassifierHead;
}

export interface ClassifierBatch {
  images: tf.Tensor4D;
  labels: tf.Tensor2D;
}

export interface TrainClassifierOptions
  extends Pick<
    TrainLoopOptions<ClassifierBatch>,
    | 'batches'
    | 'batchesPerEpoch'
    | 'epochs'
    | 'totalSteps'
    | 'checkpointDir'
    | 'checkpointEvery'
    | 'resume'
    | 'metadata'
    | 'onStep'
    | 'progress'
  > {
  /** Poly decay over all steps is applied unless `maxSteps` is given explicitly. */
  optimizer: OptimizerOptions & {
    /** Learning-rate multiplier of the (new) head relative to the (pretrained) backbone. psa/RRM: 10. */
    headLrMultiplier?: number;
  };
}

export type TrainClassifierResult = TrainLoopResult;

/**
 * Fine-tunes a CAM classifier with the multi-label soft-margin loss ({@link trainLoop} with that loss): SGD
 * (momentum) or Adam, poly decay, a higher learning rate for the head, the backbone in training mode, checkpoints
 * with the full optimiser state and exact resume. Runs on any backend, including wasm (see @wsss/core's training
 * kernels). Reports progress only through `onStep` (or an opt-in `progress` bar).
 *
 * ```ts
 * await trainClassifier({ backbone, head }, {
 *   batches: (e, from) => loader.epoch(e, from), batchesPerEpoch: loader.length, epochs: 5,
 *   optimizer: { kind: 'sgd', learningRate: 0.01, weightDecay: 5e-4 }, checkpointDir: 'runs/cls',
 * });
 * ```
 */
export function trainClassifier(
  model: CamClassifier,
  options: TrainClassifierOptions,
): Promise<TrainClassifierResult> {
  const { headLrMultiplier = 10, ...optimizer } = options.optimizer;
  return trainLoop<ClassifierBatch>({
    ...options,
    optimizer,
    parameters: [
      { name: 'backbone', params: model.backbone.params },
      { name: 'head', params: model.head.params, lrMultiplier: headLrMultiplier },
    ],
    loss: (batch) =>
      multilabelSoftMarginLoss(
        model.head.forward(model.backbone.forward(batch.images, { training: true }).features),
        batch.labels,
      ),
  });
}
