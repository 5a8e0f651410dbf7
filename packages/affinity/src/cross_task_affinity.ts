import { Rng, tf } from '@wsss/core';
import { Parameters } from '@wsss/models';

export type Task = 'seg' | 'sal';

/**
 * AuxSegNet's cross-task affinity (ICCV 2021, anchors digest section 10.1) as a layer with its weights:
 *
 *   A_t  = softmax_row(theta_t(F_t)^T phi_t(F_t))                       per task t in {seg, sal}, [B, N, N]
 *   Wc   = softmax_channel(conv1x1(relu(conv3x3([A_seg, A_sal]))))       the two N x N maps as a 2-channel image
 *   A_ct = Wc_0 * A_seg + Wc_1 * A_sal                                   (entry-wise; rows need not sum to 1)
 *   refined = A_ct · prediction                                          (predictions flattened over N = h w)
 *
 * theta, phi: 1x1 convolutions C -> K with bias; conv3x3 2 -> 2 without bias (zero padding), conv1x1 2 -> 2 with bias.
 *
 * Shape: features [B, h, w, C] per task; predictions [B, h, w, K'] -> refined [B, h, w, K'].
 *
 * @example
 * ```ts
 * const layer = new CrossTaskAffinity(128);
 * const { crossTask } = layer.forward(segFeatures, salFeatures);
 * const refinedSeg = layer.refine(crossTask, initialSeg); // [B, 41, 41, 21]
 * ```
 */
export class CrossTaskAffinity {
  readonly params = new Parameters();
  readonly keyChannels: number;
  readonly scale: number;

  constructor(
    readonly channels: number,
    options: { keyChannels?: number; scale?: number; seed?: number } = {},
  ) {
    this.keyChannels = options.keyChannels ?? channels;
    this.scale = options.scale ?? 1;
    const rng = new Rng(options.seed ?? 0);
    for (const task of ['seg', 'sal'] as const) {
      for (const name of ['theta', 'phi']) {
        this.params.create(`${task}/${name}/kernel`, [channels, this.keyChannels], {
          std: Math.sqrt(1 / channels),
          rng,
        });
        this.params.create(`${task}/${name}/bias`, [this.keyChannels], { value: 0 });
      }
    }
    this.params.create('mix/conv3x3/kernel', [3, 3, 2, 2], { std: Math.sqrt(2 / 18), rng });
    this.params.create('mix/conv1x1/kernel', [1, 1, 2, 2], { std: Math.sqrt(1 / 2), rng });
    this.params.create('mix/conv1x1/bias', [2], { value: 0 });
  }

  /** A_t = softmax_row(scale * theta(F) phi(F)^T), [B, N, N]. */
  taskAffinity(features: tf.Tensor4D, task: Task): tf.Tensor3D {
    const [b, h, w, c] = features.shape;
    if (features.rank !== 4 || c !== this.channels) {
      throw new Error(
        `CrossTaskAffinity.taskAffinity: features must be [B, h, w, ${this.channels}], got [${features.shape}]`,
      );
    }
    return tf.tidy(() => {
      const flat = tf.reshape(features, [b * h * w, c]);
      const project = (name: string) =>
        tf.reshape(
          tf.add(
            tf.matMul(flat, this.params.get(`${task}/${name}/kernel`)),
            this.params.get(`${task}/${name}/bias`),
          ),
          [b, h * w, this.keyChannels],
        );
      // the scale applied to theta [B, N, C'] rather than to the logits [B, N, N]: N / C' times fewer products,
      // forward and backward
      const theta = project('theta');
      const logits = tf.matMul(
        this.scale === 1 ? theta : tf.mul(theta, this.scale),
        project('phi'),
        false,
        true,
      );
      return tf.softmax(logits) as tf.Tensor3D;
    });
  }

  /** A_ct from the two task affinities [B, N, N]. */
  mix(segAffinity: tf.Tensor3D, salAffinity: tf.Tensor3D): tf.Tensor3D {
    if (segAffinity.shape.join() !== salAffinity.shape.join()) {
      throw new Error(
        `CrossTaskAffinity.mix: affinities must have the same shape, got [${segAffinity.shape}] and [${salAffinity.shape}]`,
      );
    }
    return tf.tidy(() => {
      const stacked = tf.stack([segAffinity, salAffinity], 3) as tf.Tensor4D;
      const hidden = tf.relu(
        tf.conv2d(stacked, this.params.get('mix/conv3x3/kernel') as tf.Tensor4D, 1, 'same'),
      );
      const logits = tf.add(
        tf.conv2d(hidden, this.params.get('mix/conv1x1/kernel') as tf.Tensor4D, 1, 'valid'),
        this.params.get('mix/conv1x1/bias'),
      );
      const weights = tf.softmax(logits);
      return tf.sum(tf.mul(weights, stacked), 3) as tf.Tensor3D;
    });
  }

  /** Both task affinities and their mix. */
  forward(
    segFeatures: tf.Tensor4D,
    salFeatures: tf.Tensor4D,
  ): { seg: tf.Tensor3D; sal: tf.Tensor3D; crossTask: tf.Tensor3D } {
    const seg = this.taskAffinity(segFeatures, 'seg');
    const sal = this.taskAffinity(salFeatures, 'sal');
    return { seg, sal, crossTask: this.mix(seg, sal) };
  }

  /** refined = affinity · prediction over the flattened positions: [B, N, N] x [B, h, w, K'] -> [B, h, w, K']. */
  refine(affinity: tf.Tensor3D, prediction: tf.Tensor4D): tf.Tensor4D {
    const [b, h, w, k] = prediction.shape;
    if (
      affinity.rank !== 3 ||
      affinity.shape[0] !== b ||
      affinity.shape[1] !== h * w ||
      affinity.shape[2] !== h * w
    ) {
      throw new Error(
        `CrossTaskAffinity.refine: affinity must be [${b}, ${h * w}, ${h * w}] for a [${prediction.shape}] prediction, got [${affinity.shape}]`,
      );
    }
    return tf.tidy(
      () =>
        tf.reshape(tf.matMul(affinity, tf.reshape(prediction, [b, h * w, k])), [b, h, w, k]) as tf.Tensor4D,
    );
  }
}
