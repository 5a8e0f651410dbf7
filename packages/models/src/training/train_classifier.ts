import { Progress, type ProgressOptions, tf } from '@wsss/core';
import type { ClassifierHead } from '../heads';
import { multilabelSoftMarginLoss } from '../heads';
import type { Parameters } from '../parameters';
import { loadWeights, saveWeights } from '../weights_io';
import { Optimizer, type OptimizerOptions } from './optimizer';

/** A backbone with a GAP classifier: what CAM methods train. */
export interface CamClassifier {
  backbone: { params: Parameters; forward(images: tf.Tensor4D): { features: tf.Tensor4D } };
  head: ClassifierHead;
}

export interface ClassifierBatch {
  images: tf.Tensor4D;
  labels: tf.Tensor2D;
}

export interface TrainClassifierOptions {
  /** Batches of epoch `epoch` from batch `from` on (e.g. `(e, from) => loader.epoch(e, from)`); disposed here. */
  batches: (epoch: number, from: number) => AsyncIterable<ClassifierBatch>;
  batchesPerEpoch: number;
  epochs: number;
  /** Poly decay over all steps is applied unless `maxSteps` is given explicitly. */
  optimizer: OptimizerOptions & {
    /** Learning-rate multiplier of the (new) head relative to the (pretrained) backbone. psa/RRM: 10. */
    headLrMultiplier?: number;
  };
  /** Folder for checkpoints (weights manifest + optimiser state + position). */
  checkpointDir?: string;
  /** Save every this many steps (and always at the end). Default: every epoch. */
  checkpointEvery?: number;
  /** Continue from the checkpoint in `checkpointDir` if there is one. Default true. */
  resume?: boolean;
  /** Progress bar / lines; `false` for silence. */
  progress?: boolean | ProgressOptions;
  onStep?: (info: { step: number; epoch: number; loss: number; learningRate: number }) => void;
}

export interface TrainClassifierResult {
  steps: number;
  /** Step the run resumed from (0 for a fresh run). */
  resumedFrom: number;
  /** Mean loss of each epoch run in this call. */
  epochLosses: number[];
}

/**
 * Fine-tunes a CAM classifier with the multi-label soft-margin loss: SGD (momentum) or Adam, poly decay, a higher
 * learning rate for the head, checkpoints with the full optimiser state, exact resume, and a progress bar.
 * Runs on any backend, including wasm (see @wsss/core's training kernels).
 *
 * ```ts
 * await trainClassifier({ backbone, head }, {
 *   batches: (e, from) => loader.epoch(e, from), batchesPerEpoch: loader.length, epochs: 5,
 *   optimizer: { kind: 'sgd', learningRate: 0.01, weightDecay: 5e-4 }, checkpointDir: 'runs/cls',
 * });
 * ```
 */
export async function trainClassifier(
  model: CamClassifier,
  options: TrainClassifierOptions,
): Promise<TrainClassifierResult> {
  const { batchesPerEpoch, epochs } = options;
  if (!(batchesPerEpoch > 0) || !(epochs > 0)) {
    throw new Error(
      `trainClassifier: batchesPerEpoch and epochs must be > 0, got ${batchesPerEpoch} and ${epochs}`,
    );
  }
  const totalSteps = batchesPerEpoch * epochs;
  const names = new Map<tf.Variable, string>();
  for (const [n, v] of model.backbone.params.variables) names.set(v, `backbone/${n}`);
  for (const [n, v] of model.head.params.variables) names.set(v, `head/${n}`);
  const nameOf = (v: tf.Variable) => names.get(v)!;
  const optimizer = new Optimizer(
    [
      { variables: model.backbone.params.trainable() },
      { variables: model.head.params.trainable(), lrMultiplier: options.optimizer.headLrMultiplier ?? 10 },
    ],
    { maxSteps: totalSteps, ...options.optimizer },
  );

  let step = 0;
  if (options.checkpointDir && (options.resume ?? true))
    step = await restore(options.checkpointDir, model, optimizer, nameOf);
  const resumedFrom = step;
  const save = async () => {
    if (!options.checkpointDir) return;
    const tensors: tf.NamedTensorMap = { ...optimizer.state(nameOf) };
    for (const [v, n] of names) tensors[n] = v;
    await saveWeights(options.checkpointDir, tensors, {
      step,
      totalSteps,
      kind: 'wsss-classifier-checkpoint',
    });
  };

  const progressOptions = typeof options.progress === 'object' ? options.progress : { label: 'train' };
  const progress = options.progress === false ? undefined : new Progress(totalSteps, progressOptions, step);
  const epochLosses: number[] = [];
  const every = options.checkpointEvery ?? batchesPerEpoch;
  for (let epoch = Math.floor(step / batchesPerEpoch); epoch < epochs; epoch++) {
    let sum = 0;
    let count = 0;
    for await (const batch of options.batches(epoch, step % batchesPerEpoch)) {
      const learningRate = optimizer.learningRate();
      let loss: number;
      try {
        loss = optimizer.minimize(() =>
          multilabelSoftMarginLoss(
            model.head.forward(model.backbone.forward(batch.images).features),
            batch.labels,
          ),
        );
      } finally {
        tf.dispose(Object.values(batch).filter((t) => t instanceof tf.Tensor));
      }
      step++;
      sum += loss;
      count++;
      options.onStep?.({ step, epoch, loss, learningRate });
      progress?.tick({ loss, lr: learningRate });
      if (step % every === 0 || step === totalSteps) await save();
      if (step >= totalSteps || step % batchesPerEpoch === 0) break;
    }
    if (count) epochLosses.push(sum / count);
  }
  progress?.done();
  optimizer.dispose();
  return { steps: step, resumedFrom, epochLosses };
}

async function restore(
  dir: string,
  model: CamClassifier,
  optimizer: Optimizer,
  nameOf: (v: tf.Variable) => string,
): Promise<number> {
  const { existsSync } = await import('node:fs');
  const { join } = await import('node:path');
  if (!existsSync(join(dir, 'model.json'))) return 0;
  const { tensors, metadata } = await loadWeights(dir);
  try {
    if (metadata.kind !== 'wsss-classifier-checkpoint')
      throw new Error(`trainClassifier: ${dir} is not a classifier checkpoint`);
    const strip = (prefix: string) =>
      Object.fromEntries(
        Object.entries(tensors)
          .filter(([n]) => n.startsWith(prefix))
          .map(([n, t]) => [n.slice(prefix.length), t]),
      );
    model.backbone.params.load(strip('backbone/'));
    model.head.params.load(strip('head/'));
    const step = Number(metadata.step);
    optimizer.restore(tensors, step, nameOf);
    return step;
  } finally {
    tf.dispose(Object.values(tensors));
  }
}
