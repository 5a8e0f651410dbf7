import { AffinityNetHead } from '@wsss/affinity';
import { tf } from '@wsss/core';
import { loadCheckpointParameters } from '@wsss/models';
import { backboneOf } from '../baseline/networks';
import type { IalConfig } from './config';

/** The backbone levels the affinity head reads (MobileNetV2 at output stride 8: all at stride 8), then its features. */
const TAPS = ['block_5', 'block_12'] as const;

/** Output stride of the affinity network (psa's AffinityNet: 8). */
export const AFFINITY_STRIDE = 8;

/** The pairwise branch: a MobileNetV2 at output stride 8 and psa's AffinityNet head on three of its levels. */
export interface AffinityNetwork {
  backbone: Awaited<ReturnType<typeof backboneOf>>;
  head: AffinityNetHead;
  /** AffinityNet features of normalised images [B, H, W, 3] -> [B, ceil(H / 8), ceil(W / 8), outChannels]. */
  features(images: tf.Tensor4D, training?: boolean): tf.Tensor4D;
  parameterSets(): { name: string; params: AffinityNetHead['params']; lrMultiplier: number }[];
  dispose(): void;
}

/** The config's affinity network; `pretrained` starts its backbone from the ImageNet weights when given. */
export async function affinityNetwork(
  config: Pick<IalConfig, 'backbone' | 'affinity'>,
  pretrained: boolean,
): Promise<AffinityNetwork> {
  const backbone = await backboneOf(config, AFFINITY_STRIDE, pretrained, 4);
  const channels = tf.tidy(() => {
    const { features, taps } = backbone.forward(tf.zeros([1, 16, 16, 3]), { taps: TAPS });
    const out = [...TAPS.map((t) => taps[t].shape[3]), features.shape[3]];
    tf.dispose(Object.values(taps));
    return out;
  });
  const head = new AffinityNetHead(channels, {
    levelChannels: config.affinity.levelChannels,
    outChannels: config.affinity.outChannels,
    seed: 4,
  });
  return {
    backbone,
    head,
    features(images, training = false) {
      return tf.tidy(() => {
        const { features, taps } = backbone.forward(images, { training, taps: TAPS });
        return head.forward([...TAPS.map((t) => taps[t]), features]);
      });
    },
    parameterSets: () => [
      // psa: the new layers at 10x the backbone's learning rate
      { name: 'backbone', params: backbone.params, lrMultiplier: 0.1 },
      { name: 'head', params: head.params, lrMultiplier: 1 },
    ],
    dispose() {
      backbone.dispose();
      head.dispose();
    },
  };
}

/** The affinity network trained in `checkpoint` (a train-affinity stage's). */
export async function trainedAffinityNetwork(
  config: Pick<IalConfig, 'backbone' | 'affinity'>,
  checkpoint: string,
): Promise<AffinityNetwork> {
  const net = await affinityNetwork(config, false);
  await loadCheckpointParameters(checkpoint, [
    { name: 'backbone', params: net.backbone.params },
    { name: 'head', params: net.head.params },
  ]);
  return net;
}
