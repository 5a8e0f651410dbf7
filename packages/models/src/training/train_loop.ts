import { Progress, type ProgressOptions, tf } from '@wsss/core';
import { joinPath, readTextIfExists } from '../files';
import type { Parameters } from '../parameters';
import { loadWeights, saveWeights } from '../weights_io';
import { Optimizer, type OptimizerOptions } from './optimizer';

/** Where a training run is: what a progress callback receives after every step. */
export interface TrainStepInfo {
  /** Steps done, 1-based after the step. */
  step: number;
  totalSteps: number;
  epoch: number;
  loss: number;
  learningRate: number;
}

/** A set of parameters trained together at one learning-rate multiplier, saved under `name/` in checkpoints. */
export interface TrainedParameters {
  name: string;
  params: Parameters;
  /** Multiplies the base learning rate (psa/RRM: 10 for new heads, 1 for the backbone). Default 1. */
  lrMultiplier?: number;
}

export interface TrainLoopOptions<B> {
  /** What is trained: every trainable variable of each set gets a gradient. */
  parameters: readonly TrainedParameters[];
  /**
   * The loss of one batch, computed under the gradient tape. The network should run in training mode
   * (`backbone.forward(x, { training: true })`).
   */
  loss: (batch: B, info: { step: number; epoch: number }) => tf.Scalar;
  /**
   * Batches of epoch `epoch` from batch `from` on (e.g. `(e, from) => loader.epoch(e, from)`); their tensors (fields,
   * and values of record fields such as `labelMaps`) are disposed after the step.
   */
  batches: (epoch: number, from: number) => AsyncIterable<B>;
  batchesPerEpoch: number;
  epochs: number;
  /** Stop after this many steps, part-way through the last epoch. Default: batchesPerEpoch x epochs. */
  totalSteps?: number;
  /** Poly decay over all steps unless `maxSteps` is given. */
  optimizer: OptimizerOptions;
  /** Folder for checkpoints (weights, optimiser state, position, `metadata`). */
  checkpointDir?: string;
  /** Save every this many steps (and always at the end). Default: every epoch. */
  checkpointEvery?: number;
  /** Continue from the checkpoint in `checkpointDir` if there is one. Default true. */
  resume?: boolean;
  /** Recorded in every checkpoint (e.g. the resolved config of the run), next to the step and data position. */
  metadata?: Record<string, unknown>;
  /** Called after every step. Library code reports progress only through this (or `progress`). */
  onStep?: (info: TrainStepInfo) => void;
  /** A progress bar / plain lines (opt-in; `true` writes to stderr). Default: none. */
  progress?: boolean | ProgressOptions;
}

export interface TrainLoopResult {
  steps: number;
  /** Step the run resumed from (0 for a fresh run). */
  resumedFrom: number;
  /** Mean loss of each epoch run in this call. */
  epochLosses: number[];
}

/** Metadata `kind` of the checkpoints written by {@link trainLoop}. */
export const TRAIN_CHECKPOINT_KIND = 'wsss-train-checkpoint';

/**
 * The training loop every stage uses: any loss over a batch, SGD (momentum) or Adam with poly decay and per-set
 * learning-rate multipliers, gradients of all trainable variables, checkpoints that hold the weights, the optimiser
 * state, the step and data position (epoch, batch) and caller metadata, and exact resume from them: a run stopped
 * after any checkpoint and started again ends with the weights of an uninterrupted run (given deterministic batches).
 *
 * ```ts
 * await trainLoop({
 *   parameters: [{ name: 'backbone', params: backbone.params }, { name: 'head', params: head.params, lrMultiplier: 10 }],
 *   loss: (b) => multilabelSoftMarginLoss(head.forward(backbone.forward(b.images, { training: true }).features), b.labels),
 *   batches: (e, from) => loader.epoch(e, from), batchesPerEpoch: loader.length, epochs: 5,
 *   optimizer: { kind: 'sgd', learningRate: 0.01 }, checkpointDir: 'runs/cls', onStep: (s) => log(s),
 * });
 * ```
 */
export async function trainLoop<B>(options: TrainLoopOptions<B>): Promise<TrainLoopResult> {
  const { batchesPerEpoch, epochs } = options;
  if (
    !(Number.isInteger(batchesPerEpoch) && batchesPerEpoch > 0) ||
    !(Number.isInteger(epochs) && epochs > 0)
  ) {
    throw new Error(
      `trainLoop: batchesPerEpoch and epochs must be positive integers, got ${batchesPerEpoch} and ${epochs}`,
    );
  }
  const totalSteps = options.totalSteps ?? batchesPerEpoch * epochs;
  if (!(Number.isInteger(totalSteps) && totalSteps > 0 && totalSteps <= batchesPerEpoch * epochs)) {
    throw new Error(
      `trainLoop: totalSteps must be a positive integer of at most batchesPerEpoch x epochs = ${batchesPerEpoch * epochs}, got ${totalSteps}`,
    );
  }
  const names = new Map<tf.Variable, string>();
  for (const set of options.parameters) {
    for (const [n, v] of set.params.variables) names.set(v, `${set.name}/${n}`);
  }
  const nameOf = (v: tf.Variable) => names.get(v)!;
  const optimizer = new Optimizer(
    options.parameters.map((set) => ({ variables: set.params.trainable(), lrMultiplier: set.lrMultiplier })),
    { maxSteps: totalSteps, ...options.optimizer },
  );

  let step = 0;
  if (options.checkpointDir && (options.resume ?? true))
    step = await restoreCheckpoint(options.checkpointDir, options.parameters, optimizer, nameOf);
  const resumedFrom = step;
  const save = async (epoch: number) => {
    if (!options.checkpointDir) return;
    const tensors: tf.NamedTensorMap = { ...optimizer.state(nameOf) };
    for (const [v, n] of names) tensors[n] = v;
    await saveWeights(options.checkpointDir, tensors, {
      ...options.metadata,
      kind: TRAIN_CHECKPOINT_KIND,
      step,
      totalSteps,
      position: {
        epoch: Math.floor(step / batchesPerEpoch),
        batch: step % batchesPerEpoch,
        lastEpoch: epoch,
      },
    });
  };

  const bar =
    options.progress === undefined || options.progress === false
      ? undefined
      : new Progress(totalSteps, options.progress === true ? { label: 'train' } : options.progress, step);
  const epochLosses: number[] = [];
  const every = options.checkpointEvery ?? batchesPerEpoch;
  try {
    for (let epoch = Math.floor(step / batchesPerEpoch); epoch < epochs; epoch++) {
      let sum = 0;
      let count = 0;
      for await (const batch of options.batches(epoch, step % batchesPerEpoch)) {
        const learningRate = optimizer.learningRate();
        let loss: number;
        try {
          loss = optimizer.minimize(() => options.loss(batch, { step, epoch }));
        } finally {
          disposeTensorsOf(batch);
        }
        step++;
        sum += loss;
        count++;
        options.onStep?.({ step, totalSteps, epoch, loss, learningRate });
        bar?.tick({ loss, lr: learningRate });
        if (step % every === 0 || step === totalSteps) await save(epoch);
        if (step >= totalSteps || step % batchesPerEpoch === 0) break;
      }
      if (count) epochLosses.push(sum / count);
    }
  } finally {
    bar?.done();
    optimizer.dispose();
  }
  return { steps: step, resumedFrom, epochLosses };
}

/** Disposes the tensors in a batch: its fields and the values of records among them (e.g. `labelMaps`). */
function disposeTensorsOf(value: unknown, depth = 0): void {
  if (value instanceof tf.Tensor) value.dispose();
  else if (
    depth < 2 &&
    value &&
    typeof value === 'object' &&
    !Array.isArray(value) &&
    !ArrayBuffer.isView(value)
  ) {
    for (const field of Object.values(value)) disposeTensorsOf(field, depth + 1);
  }
}

/** Metadata of the checkpoint in `dir` without loading its weights, or undefined when there is none. */
export async function readCheckpointMetadata(dir: string): Promise<Record<string, unknown> | undefined> {
  const text = readTextIfExists(joinPath(dir, 'model.json'));
  if (text === undefined) return undefined;
  const { weightsManifest: _, ...metadata } = JSON.parse(text);
  return metadata;
}

async function restoreCheckpoint(
  dir: string,
  sets: readonly TrainedParameters[],
  optimizer: Optimizer,
  nameOf: (v: tf.Variable) => string,
): Promise<number> {
  if (readTextIfExists(joinPath(dir, 'model.json')) === undefined) return 0;
  const { tensors, metadata } = await loadWeights(dir);
  try {
    // 'wsss-classifier-checkpoint': trainClassifier's checkpoints before trainLoop, same layout
    if (metadata.kind !== TRAIN_CHECKPOINT_KIND && metadata.kind !== 'wsss-classifier-checkpoint')
      throw new Error(`trainLoop: ${dir} holds no training checkpoint (kind '${metadata.kind}')`);
    loadSets(tensors, sets);
    const step = Number(metadata.step);
    optimizer.restore(tensors, step, nameOf);
    return step;
  } finally {
    tf.dispose(Object.values(tensors));
  }
}

function loadSets(
  tensors: tf.NamedTensorMap,
  sets: readonly Pick<TrainedParameters, 'name' | 'params'>[],
): void {
  for (const set of sets) {
    const prefix = `${set.name}/`;
    set.params.load(
      Object.fromEntries(
        Object.entries(tensors)
          .filter(([n]) => n.startsWith(prefix))
          .map(([n, t]) => [n.slice(prefix.length), t]),
      ),
    );
  }
}

/**
 * Loads the weights of a {@link trainLoop} checkpoint into parameter sets of the same names (e.g. a trained network
 * for inference in a later stage); the optimiser state is left out.
 */
export async function loadCheckpointParameters(
  dir: string,
  sets: readonly Pick<TrainedParameters, 'name' | 'params'>[],
): Promise<Record<string, unknown>> {
  const { tensors, metadata } = await loadWeights(dir);
  try {
    if (metadata.kind !== TRAIN_CHECKPOINT_KIND && metadata.kind !== 'wsss-classifier-checkpoint')
      throw new Error(
        `loadCheckpointParameters: ${dir} holds no training checkpoint (kind '${metadata.kind}')`,
      );
    loadSets(tensors, sets);
    return metadata;
  } finally {
    tf.dispose(Object.values(tensors));
  }
}
