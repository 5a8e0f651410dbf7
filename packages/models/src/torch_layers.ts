import { type Rng, tf } from '@wsss/core';
import type { Parameters } from './parameters';

/**
 * Layers with PyTorch semantics, for networks whose weights come from PyTorch state_dicts (converted to NHWC /
 * HWIO by `scripts/torch_to_manifest.py`): symmetric explicit padding (TF 'same' pads stride-2 layers
 * asymmetrically), state_dict parameter names, BatchNorm with running statistics (eps 1e-5, momentum 0.1).
 */

/** Creates a bias-free conv kernel `<name>.weight` [k, k, cin, cout] with He-normal values. */
export function createConv(
  params: Parameters,
  name: string,
  k: number,
  cin: number,
  cout: number,
  rng: Rng,
): void {
  params.create(`${name}.weight`, [k, k, cin, cout], { std: Math.sqrt(2 / (k * k * cin)), rng });
}

/** Conv with torch's symmetric `padding = dilation * (k - 1) / 2`. */
export function torchConv(
  x: tf.Tensor4D,
  params: Parameters,
  name: string,
  stride = 1,
  dilation = 1,
): tf.Tensor4D {
  const w = params.get(`${name}.weight`) as tf.Tensor4D;
  const p = (dilation * (w.shape[0] - 1)) / 2;
  const pad: [[number, number], [number, number], [number, number], [number, number]] = [
    [0, 0],
    [p, p],
    [p, p],
    [0, 0],
  ];
  return tf.conv2d(x, w, stride, p === 0 ? 'valid' : pad, 'NHWC', dilation);
}

/** Creates `<name>.weight` (1), `.bias` (0), `.running_mean` (0) and `.running_var` (1); the running ones are frozen. */
export function createBatchNorm(params: Parameters, name: string, channels: number): void {
  params.create(`${name}.weight`, [channels], { value: 1 });
  params.create(`${name}.bias`, [channels], { value: 0 });
  params.create(`${name}.running_mean`, [channels], { value: 0 });
  params.create(`${name}.running_var`, [channels], { value: 1 });
  params.frozen.add(`${name}.running_mean`);
  params.frozen.add(`${name}.running_var`);
}

export interface BatchNormMode {
  /** Normalise with batch statistics (and update the running ones) instead of the running statistics. */
  training: boolean;
  /**
   * Frozen batch norm (psa, RRM, AuxSegNet): always the running statistics, and `freezeBatchNorm` also keeps the
   * affine parameters fixed. Set on the network; `training` is then ignored.
   */
  frozen: boolean;
}

/** BatchNorm2d over NHWC. In training mode the running statistics move by 0.1 towards the batch's (unbiased var). */
export function torchBatchNorm(
  x: tf.Tensor4D,
  params: Parameters,
  name: string,
  mode: BatchNormMode,
): tf.Tensor4D {
  const gamma = params.get(`${name}.weight`) as tf.Tensor1D;
  const beta = params.get(`${name}.bias`) as tf.Tensor1D;
  const runningMean = params.get(`${name}.running_mean`);
  const runningVar = params.get(`${name}.running_var`);
  if (mode.frozen || !mode.training) {
    return tf.batchNorm4d(x, runningMean as tf.Tensor1D, runningVar as tf.Tensor1D, beta, gamma, 1e-5);
  }
  const { mean, variance } = tf.moments(x, [0, 1, 2]);
  const n = x.shape[0] * x.shape[1] * x.shape[2];
  tf.tidy(() => {
    const unbiased = tf.mul(variance, n / Math.max(1, n - 1));
    runningMean.assign(tf.add(tf.mul(runningMean, 0.9), tf.mul(mean, 0.1)));
    runningVar.assign(tf.add(tf.mul(runningVar, 0.9), tf.mul(unbiased, 0.1)));
  });
  return tf.batchNorm4d(x, mean as tf.Tensor1D, variance as tf.Tensor1D, beta, gamma, 1e-5);
}

/** Marks every BatchNorm's affine parameters frozen too (psa's `not_training` treatment of BN). */
export function freezeBatchNormAffine(params: Parameters): void {
  for (const name of params.variables.keys()) {
    if (/\.(running_mean)$/.test(name)) {
      const base = name.slice(0, -'.running_mean'.length);
      params.frozen.add(`${base}.weight`);
      params.frozen.add(`${base}.bias`);
    }
  }
}

/** Dropout2d: zeroes whole channels with probability `rate` during training (scaled by 1/(1-rate)). */
export function dropout2d(x: tf.Tensor4D, rate: number, training: boolean, seed?: number): tf.Tensor4D {
  if (!training || rate === 0) return x;
  return tf.dropout(x, rate, [x.shape[0], 1, 1, x.shape[3]], seed) as tf.Tensor4D;
}
