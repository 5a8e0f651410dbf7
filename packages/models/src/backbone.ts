import type { Normalization, tf } from '@wsss/core';
import type { Parameters } from './parameters';

/** What a backbone returns: the last stage's features and the intermediate outputs asked for by name. */
export interface BackboneOutput {
  /** Last-stage features (the CAM features), [B, H / outputStride, W / outputStride, featureChannels]. */
  features: tf.Tensor4D;
  /** Intermediate outputs by name (which names exist: the backbone's documentation). */
  taps: Record<string, tf.Tensor4D>;
}

export interface BackboneForwardOptions {
  /** Training mode: batch statistics where batch norm is not frozen, dropout on. Default false. */
  training?: boolean;
  /** Intermediate outputs to return in `taps` (backbones that always compute them may return more). */
  taps?: readonly string[];
}

/**
 * The contract every backbone keeps (MobileNetV2, ResNet-50, ResNet-38): a feature extractor with its parameters,
 * output stride, channel count and the input normalisation its weights expect, so that heads, training loops, CAMs
 * and pipelines work with any of them.
 *
 * ```ts
 * const backbone: Backbone = new MobileNetV2({ outputStride: 16 });
 * const x = normalizeImages(pixels, backbone.normalization); // pixels: [B, H, W, 3] in 0..255
 * const { features } = backbone.forward(x, { training: true });
 * ```
 */
export interface Backbone {
  /** e.g. 'mobilenet_v2', 'resnet50', 'resnet38'. */
  readonly name: string;
  readonly params: Parameters;
  readonly outputStride: number;
  readonly featureChannels: number;
  /** How 0..255 RGB must be scaled for this backbone's weights. */
  readonly normalization: Normalization;
  /** Features of normalised images [B, H, W, 3]. */
  forward(images: tf.Tensor4D, options?: BackboneForwardOptions): BackboneOutput;
  dispose(): void;
}
