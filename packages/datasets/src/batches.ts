import { IMAGENET_NORMALIZATION, type Normalization, normalizePixels, Rng, tf } from '@wsss/core';
import { type AugmentOptions, augment } from './augment';
import type { Sample, SegmentationDataset } from './types';

export interface BatchOptions {
  batchSize: number;
  /** Shuffle ids every epoch (deterministically from `seed` and the epoch). Default true. */
  shuffle?: boolean;
  /** Default 0. The same seed gives the same order and the same augmentations. */
  seed?: number | string;
  /** Training augmentation; omit for evaluation batches (then all images of a batch must share a size). */
  augment?: AugmentOptions;
  /** One rescale factor per batch (RRM, AuxSegNet) instead of one per image. Default false. */
  scalePerBatch?: boolean;
  /** Default ImageNet. */
  normalization?: Normalization;
  /** Drop the last incomplete batch. Default false. */
  dropLast?: boolean;
  /** Batches prepared ahead while the current one is used. Default 2. */
  prefetch?: number;
  /** Restrict to these ids (e.g. a subset for a quick run). Default: all. */
  ids?: readonly string[];
}

/** The key the mask travels under through augmentation, next to the side maps. */
const MASK = '\u0000mask';

/** One batch; the caller owns the tensors (dispose them with {@link disposeBatch}, or use `tf.tidy`). */
export interface Batch {
  ids: string[];
  /** [B, H, W, 3] float32, normalised. */
  images: tf.Tensor4D;
  /** [B, H, W] int32 (255 = ignore), when the dataset has masks. */
  masks?: tf.Tensor3D;
  /** [B, L] float32 multi-hot image-level labels. */
  labels: tf.Tensor2D;
  /** [B, H, W] int32 per name of the samples' `labelMaps` (those every sample of the batch has). */
  labelMaps: Record<string, tf.Tensor3D>;
  /** [B, H, W] float32 per name of the samples' `floatMaps` (those every sample of the batch has). */
  floatMaps: Record<string, tf.Tensor3D>;
  /** The raw (augmented) samples, for CRFs and visualisation that need 0..255 pixels. */
  samples: Sample[];
}

/**
 * Streams batches of a dataset: deterministic order and augmentation for a seed, prefetching so that image
 * decoding (sharp decodes on libuv's worker threads, i.e. on the second core) and augmentation overlap the model's
 * work on the current batch.
 *
 * ```ts
 * const loader = new BatchLoader(voc, { batchSize: 8, augment: { cropSize: 321 }, seed: 1 });
 * for await (const batch of loader.epoch(0)) {
 *   const loss = trainStep(batch.images, batch.labels);
 *   tf.dispose([batch.images, batch.labels, batch.masks]);
 * }
 * ```
 */
export class BatchLoader {
  readonly ids: readonly string[];

  constructor(
    readonly dataset: SegmentationDataset,
    readonly options: BatchOptions,
  ) {
    if (!Number.isInteger(options.batchSize) || options.batchSize < 1) {
      throw new Error(`BatchLoader: batchSize must be a positive integer, got ${options.batchSize}`);
    }
    this.ids = options.ids ?? dataset.ids;
    const known = new Set(dataset.ids);
    const unknown = this.ids.find((id) => !known.has(id));
    if (unknown !== undefined) throw new Error(`BatchLoader: id ${unknown} is not in ${dataset.name}`);
  }

  /** Number of batches per epoch. */
  get length(): number {
    const n = this.ids.length / this.options.batchSize;
    return this.options.dropLast ? Math.floor(n) : Math.ceil(n);
  }

  /** The ids of every batch of an epoch, in order. */
  order(epoch: number): string[][] {
    const ids = [...this.ids];
    if (this.options.shuffle ?? true) new Rng(this.options.seed ?? 0).fork(`order/${epoch}`).shuffle(ids);
    const batches: string[][] = [];
    for (let i = 0; i < ids.length; i += this.options.batchSize)
      batches.push(ids.slice(i, i + this.options.batchSize));
    if (
      this.options.dropLast &&
      batches.length &&
      batches[batches.length - 1].length < this.options.batchSize
    ) {
      batches.pop();
    }
    return batches;
  }

  /** Yields the batches of epoch `epoch`, starting at batch `from` (to resume mid-epoch). */
  async *epoch(epoch: number, from = 0): AsyncGenerator<Batch> {
    const batches = this.order(epoch).slice(from);
    const ahead = Math.max(0, this.options.prefetch ?? 2);
    const pending: Promise<Sample[]>[] = [];
    const start = (i: number) => pending.push(this.prepare(epoch, from + i, batches[i]));
    for (let i = 0; i < Math.min(ahead + 1, batches.length); i++) start(i);
    for (let i = 0; i < batches.length; i++) {
      const samples = await pending.shift()!;
      if (i + ahead + 1 < batches.length) start(i + ahead + 1);
      yield this.toTensors(samples);
    }
  }

  private async prepare(epoch: number, index: number, ids: string[]): Promise<Sample[]> {
    const samples = await Promise.all(ids.map((id) => this.dataset.get(id)));
    const aug = this.options.augment;
    if (!aug) return samples;
    const root = new Rng(this.options.seed ?? 0).fork(`augment/${epoch}/${index}`);
    const range = aug.scaleRange === undefined ? [0.7, 1.3] : aug.scaleRange;
    const batchScale = this.options.scalePerBatch && range ? root.uniform(range[0], range[1]) : undefined;
    return samples.map((s, k) => {
      // the mask under a key no side map can take
      const labelMaps = { ...s.labelMaps, ...(s.mask ? { [MASK]: s.mask } : {}) };
      const out = augment(
        { image: s.image, labelMaps, floatMaps: s.floatMaps },
        root.fork(k),
        aug,
        batchScale,
      );
      const { [MASK]: mask, ...rest } = out.labelMaps ?? {};
      return {
        ...s,
        image: out.image,
        mask,
        labelMaps: s.labelMaps ? rest : undefined,
        floatMaps: out.floatMaps,
      };
    });
  }

  private toTensors(samples: Sample[]): Batch {
    const { width, height } = samples[0].image;
    const bad = samples.find((s) => s.image.width !== width || s.image.height !== height);
    if (bad) {
      throw new Error(
        `BatchLoader: images of one batch differ in size (${samples[0].id} is ${width}x${height}, ${bad.id} is ` +
          `${bad.image.width}x${bad.image.height}); set augment.cropSize or use batchSize 1`,
      );
    }
    const normalization = this.options.normalization ?? IMAGENET_NORMALIZATION;
    const pixels = width * height;
    const images = new Float32Array(samples.length * pixels * 3);
    samples.forEach((s, b) => {
      normalizePixels(s.image.data, normalization, images, b * pixels * 3);
    });
    const withMasks = samples.every((s) => s.mask);
    let masks: tf.Tensor3D | undefined;
    if (withMasks) {
      const m = new Int32Array(samples.length * pixels);
      samples.forEach((s, b) => {
        m.set(s.mask!.data, b * pixels);
      });
      masks = tf.tensor3d(m, [samples.length, height, width], 'int32');
    }
    const numLabels = samples[0].labels.length;
    const labels = new Float32Array(samples.length * numLabels);
    samples.forEach((s, b) => {
      labels.set(s.labels, b * numLabels);
    });
    const stack = <T extends Int32Array | Float32Array>(
      kind: 'labelMaps' | 'floatMaps',
      Out: new (n: number) => T,
      dtype: 'int32' | 'float32',
    ) => {
      const names = Object.keys(samples[0][kind] ?? {}).filter((name) =>
        samples.every((s) => s[kind]?.[name]),
      );
      return Object.fromEntries(
        names.map((name) => {
          const data = new Out(samples.length * pixels);
          samples.forEach((s, b) => {
            const map = s[kind]![name];
            if (map.width !== width || map.height !== height) {
              throw new Error(
                `BatchLoader: ${kind}.${name} of ${s.id} is ${map.width}x${map.height}, its image ${width}x${height}`,
              );
            }
            data.set(map.data, b * pixels);
          });
          return [name, tf.tensor3d(data, [samples.length, height, width], dtype)];
        }),
      );
    };
    return {
      ids: samples.map((s) => s.id),
      images: tf.tensor4d(images, [samples.length, height, width, 3]),
      masks,
      labels: tf.tensor2d(labels, [samples.length, numLabels]),
      labelMaps: stack('labelMaps', Int32Array, 'int32'),
      floatMaps: stack('floatMaps', Float32Array, 'float32'),
      samples,
    };
  }
}

/** Disposes every tensor of a batch: images, masks, labels and the side maps. */
export function disposeBatch(batch: Batch): void {
  tf.dispose([
    batch.images,
    batch.labels,
    ...(batch.masks ? [batch.masks] : []),
    ...Object.values(batch.labelMaps),
    ...Object.values(batch.floatMaps),
  ]);
}
