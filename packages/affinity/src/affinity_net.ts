import { Rng, tf } from '@wsss/core';
import { Parameters } from '@wsss/models';
import type { AffinityLabels } from './affinity_labels';
import type { PairIndices } from './neighbourhood';

/**
 * AffinityNet's pair affinities `a_ij = exp(-mean_c |f_i,c - f_j,c|)` for psa's sparse pairs (differentiable).
 *
 * Shape: features [B, H, W, C] -> [B, offsets, from] (pairs as {@link PairIndices}).
 *
 * @example
 * ```ts
 * const pairs = pairIndices(56, 56, 5);
 * const a = pairAffinity(features, pairs); // [B, 34, 2496]
 * ```
 */
export function pairAffinity(features: tf.Tensor4D, pairs: PairIndices): tf.Tensor3D {
  const [b, h, w, c] = features.shape;
  if (features.rank !== 4 || h !== pairs.height || w !== pairs.width) {
    throw new Error(
      `pairAffinity: features must be [B, ${pairs.height}, ${pairs.width}, C], got [${features.shape}]`,
    );
  }
  const rf = pairs.radius - 1;
  return tf.tidy(() => {
    const window = (dy: number, dx: number) =>
      tf.slice(features, [0, dy, rf + dx, 0], [b, pairs.fromHeight, pairs.fromWidth, c]);
    const from = window(0, 0);
    const maps = pairs.offsets.map(([dy, dx]) =>
      tf.exp(tf.neg(tf.mean(tf.abs(tf.sub(window(dy, dx), from)), 3))),
    );
    return tf.reshape(tf.stack(maps, 1), [b, pairs.offsets.length, pairs.from.length]) as tf.Tensor3D;
  });
}

/**
 * AffinityNet's loss (psa `train_aff.py`): `L = L_bg / 4 + L_fg / 4 + L_neg / 2` with
 * `L_bg = sum -bg log(a + 1e-5) / (sum bg + 1e-5)`, `L_fg` likewise and `L_neg = sum -neg log(1 + 1e-5 - a) / (sum neg + 1e-5)`.
 *
 * Shape: affinity [B, offsets, from]; one {@link AffinityLabels} per image -> scalar.
 */
export function affinityNetLoss(affinity: tf.Tensor3D, labels: readonly AffinityLabels[]): tf.Scalar {
  const [b, k, n] = affinity.shape;
  if (labels.length !== b || labels.some((l) => l.negative.length !== k * n)) {
    throw new Error(
      `affinityNetLoss: expected ${b} label sets of ${k} x ${n} pairs (one per image of affinity [${affinity.shape}])`,
    );
  }
  const mask = (pick: (l: AffinityLabels) => Uint8Array) => {
    const data = new Float32Array(b * k * n);
    labels.forEach((l, i) => {
      data.set(pick(l), i * k * n);
    });
    return tf.tensor3d(data, [b, k, n]);
  };
  return tf.tidy(() => {
    const term = (m: tf.Tensor, logOf: tf.Tensor) =>
      tf.div(tf.sum(tf.mul(tf.neg(m), tf.log(logOf))), tf.add(tf.sum(m), 1e-5));
    const positive = tf.add(affinity, 1e-5);
    const bg = term(
      mask((l) => l.bgPositive),
      positive,
    );
    const fg = term(
      mask((l) => l.fgPositive),
      positive,
    );
    const neg = term(
      mask((l) => l.negative),
      tf.sub(1 + 1e-5, affinity),
    );
    return tf.addN([tf.div(bg, 4), tf.div(fg, 4), tf.div(neg, 2)]) as tf.Scalar;
  });
}

export interface AffinityNetHeadOptions {
  /** Output channels of the 1x1 projection of each input level (psa: 64, 128, 256 on conv4, conv5, conv6). */
  levelChannels?: readonly number[];
  /** Channels of the final 1x1 layer, the features affinities are computed from (psa: 448). Default: their sum. */
  outChannels?: number;
  seed?: number;
}

/**
 * AffinityNet's head (psa `resnet38_aff.py`, anchors digest section 3.3): each backbone level gets a 1x1
 * convolution + ELU, the levels are resized to the first one's size (bilinear) and concatenated, and a last 1x1
 * convolution + ELU gives the features whose {@link pairAffinity} is `a_ij = exp(-mean_c |f_i,c - f_j,c|)`.
 * Initialisation as psa: He normal for the level projections, Xavier normal with gain 4 for the last layer.
 *
 * Shape: levels [B, h_k, w_k, C_k] (k = 0 .. L-1) -> [B, h_0, w_0, outChannels].
 *
 * @example
 * ```ts
 * const head = new AffinityNetHead([32, 96, 1280]); // MobileNetV2 block_5, block_12, features at output stride 8
 * const { features, taps } = backbone.forward(x, { taps: ['block_5', 'block_12'] });
 * const a = pairAffinity(head.forward([taps.block_5, taps.block_12, features]), pairs);
 * ```
 */
export class AffinityNetHead {
  readonly params = new Parameters();
  readonly levelChannels: readonly number[];
  readonly outChannels: number;

  constructor(
    readonly inChannels: readonly number[],
    options: AffinityNetHeadOptions = {},
  ) {
    const psa = [64, 128, 256];
    this.levelChannels = options.levelChannels ?? inChannels.map((_, k) => psa[Math.min(k, psa.length - 1)]);
    if (!inChannels.length || this.levelChannels.length !== inChannels.length) {
      throw new Error(
        `AffinityNetHead: levelChannels must give one value per input level (${inChannels.length}), got ${this.levelChannels.length}`,
      );
    }
    const concat = this.levelChannels.reduce((a, b) => a + b, 0);
    this.outChannels = options.outChannels ?? concat;
    const rng = new Rng(options.seed ?? 0);
    inChannels.forEach((cin, k) => {
      const cout = this.levelChannels[k];
      this.params.create(`level_${k}/kernel`, [1, 1, cin, cout], { std: Math.sqrt(2 / cin), rng });
      this.params.create(`level_${k}/bias`, [cout], { value: 0 });
    });
    this.params.create('out/kernel', [1, 1, concat, this.outChannels], {
      std: 4 * Math.sqrt(2 / (concat + this.outChannels)),
      rng,
    });
    this.params.create('out/bias', [this.outChannels], { value: 0 });
  }

  forward(levels: readonly tf.Tensor4D[]): tf.Tensor4D {
    if (
      levels.length !== this.inChannels.length ||
      levels.some(
        (l, k) => l.rank !== 4 || l.shape[3] !== this.inChannels[k] || l.shape[0] !== levels[0].shape[0],
      )
    ) {
      throw new Error(
        `AffinityNetHead.forward: expected ${this.inChannels.length} levels [B, h, w, C] with C = ${this.inChannels.join(', ')}, got ${levels.map((l) => `[${l.shape}]`).join(', ')}`,
      );
    }
    const [, h, w] = levels[0].shape;
    return tf.tidy(() => {
      const projected = levels.map((level, k) => {
        const y = tf.elu(
          tf.add(
            tf.conv2d(level, this.params.get(`level_${k}/kernel`) as tf.Tensor4D, 1, 'valid'),
            this.params.get(`level_${k}/bias`),
          ),
        ) as tf.Tensor4D;
        return y.shape[1] === h && y.shape[2] === w ? y : tf.image.resizeBilinear(y, [h, w]);
      });
      const joined = projected.length === 1 ? projected[0] : tf.concat(projected, 3);
      return tf.elu(
        tf.add(
          tf.conv2d(joined, this.params.get('out/kernel') as tf.Tensor4D, 1, 'valid'),
          this.params.get('out/bias'),
        ),
      ) as tf.Tensor4D;
    });
  }

  dispose(): void {
    this.params.dispose();
  }
}
