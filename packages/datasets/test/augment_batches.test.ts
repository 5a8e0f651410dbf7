import { Rng, tf } from '@wsss/core';
import { expectNoLeaks } from '@wsss/core/testing';
import {
  augment,
  BatchLoader,
  createSyntheticDataset,
  IMAGENET_MEAN_RGB,
  MOBILENET_NORMALIZATION,
  sampleGeometry,
} from '@wsss/datasets';

/** A 4x6 image whose red channel encodes the column and green the row; a mask equal to the column index. */
function ramp(height = 4, width = 6) {
  const data = new Uint8Array(height * width * 3);
  const mask = new Uint8Array(height * width);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      data.set([x * 10, y * 10, 7], 3 * (y * width + x));
      mask[y * width + x] = x;
    }
  }
  return {
    image: { width, height, channels: 3 as const, data },
    mask: { width, height, data: mask },
    saliency: { width, height, data: Float32Array.from(mask, (v) => v / 10) },
  };
}

describe('augment', () => {
  it('flips image, mask and float maps together', () => {
    const { image, mask, saliency } = ramp();
    // Find a seed whose draw flips without rescaling or cropping.
    const options = { scaleRange: null, cropSize: null, flip: true };
    let seed = 0;
    while (!sampleGeometry(new Rng(seed), 4, 6, options).flip) seed++;
    const out = augment({ image, labelMaps: { mask }, floatMaps: { saliency } }, new Rng(seed), options);
    expect(Array.from(out.labelMaps!.mask.data.slice(0, 6))).toEqual([5, 4, 3, 2, 1, 0]);
    expect(out.image.data[0]).toBe(50); // red of column 5
    expect(out.floatMaps!.saliency.data[0]).toBeCloseTo(0.5, 6);
  });

  it('rescales (bilinear image, nearest labels) and crops with padding: mean colour and 255', () => {
    const { image, mask } = ramp();
    const out = augment({ image, labelMaps: { mask } }, new Rng(1), {
      scaleRange: [2, 2],
      flip: false,
      cropSize: null,
    });
    expect([out.image.width, out.image.height]).toEqual([12, 8]);
    // nearest: output column x reads source column floor(x / 2)
    expect(Array.from(out.labelMaps!.mask.data.slice(0, 12))).toEqual([0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5]);
    // bilinear with half-pixel centres (cv2): x=1 samples source 0.25 -> red 2.5 -> 3 (rounded); x=0 clamps to 0.
    expect(out.image.data[0]).toBe(0);
    expect(out.image.data[3]).toBe(3);

    const padded = augment({ image, labelMaps: { mask } }, new Rng(2), {
      scaleRange: null,
      flip: false,
      cropSize: 10,
    });
    expect([padded.image.width, padded.image.height]).toEqual([10, 10]);
    const data = padded.labelMaps!.mask.data;
    expect(data.filter((v) => v === 255).length).toBe(100 - 24);
    const firstPad = data.indexOf(255);
    expect(Array.from(padded.image.data.slice(3 * firstPad, 3 * firstPad + 3))).toEqual(IMAGENET_MEAN_RGB);
    const zeroPad = augment({ image, labelMaps: { mask } }, new Rng(2), {
      scaleRange: null,
      cropSize: 10,
      labelPadValue: 0,
    });
    expect(zeroPad.labelMaps!.mask.data.filter((v) => v === 255).length).toBe(0);
  });

  it('is deterministic for a seed and keeps label values intact', () => {
    const data = createSyntheticDataset({ size: 1, seed: 5 }).generate(0);
    const options = {
      cropSize: 96,
      colorJitter: { brightness: 0.3, contrast: 0.3, saturation: 0.3, hue: 0.1 },
    };
    const a = augment({ image: data.image, labelMaps: { mask: data.mask! } }, new Rng(9), options);
    const b = augment({ image: data.image, labelMaps: { mask: data.mask! } }, new Rng(9), options);
    expect(Buffer.from(a.image.data).equals(Buffer.from(b.image.data))).toBe(true);
    const allowed = new Set([...data.mask!.data, 255]);
    for (const v of new Set(a.labelMaps!.mask.data)) expect(allowed.has(v)).toBe(true);
  });

  it('rejects maps whose size differs from the image', () => {
    const { image } = ramp();
    expect(() =>
      augment({ image, labelMaps: { mask: { width: 5, height: 4, data: new Uint8Array(20) } } }, new Rng(1)),
    ).toThrow(/map 'mask' is 5x4 but the image is 6x4/);
  });
});

describe('BatchLoader', () => {
  const data = createSyntheticDataset({ size: 10, seed: 1, height: 32, width: 32 });

  it('yields normalised NHWC images, int32 masks and multi-hot labels in a seed-determined order', async () => {
    const loader = new BatchLoader(data, { batchSize: 4, seed: 7, normalization: MOBILENET_NORMALIZATION });
    expect(loader.length).toBe(3);
    const seen: string[] = [];
    for await (const batch of loader.epoch(0)) {
      seen.push(...batch.ids);
      expect(batch.images.shape.slice(1)).toEqual([32, 32, 3]);
      expect(batch.masks!.dtype).toBe('int32');
      expect(batch.labels.shape).toEqual([batch.ids.length, 6]);
      const px = batch.samples[0].image.data[0];
      expect(batch.images.dataSync()[0]).toBeCloseTo(px / 127.5 - 1, 5);
      tf.dispose([batch.images, batch.masks!, batch.labels]);
    }
    expect([...seen].sort()).toEqual([...data.ids]);
    expect(new BatchLoader(data, { batchSize: 4, seed: 7 }).order(0)).toEqual(loader.order(0));
    expect(loader.order(1)).not.toEqual(loader.order(0));
    expect(new BatchLoader(data, { batchSize: 4, dropLast: true }).length).toBe(2);
  });

  it('augments deterministically regardless of prefetch depth, and resumes mid-epoch', async () => {
    const collect = async (prefetch: number, from = 0) => {
      const loader = new BatchLoader(data, {
        batchSize: 3,
        seed: 2,
        prefetch,
        augment: { cropSize: 24 },
        scalePerBatch: true,
      });
      const sums: number[] = [];
      for await (const batch of loader.epoch(4, from)) {
        sums.push(batch.images.sum().dataSync()[0]);
        tf.dispose([batch.images, batch.masks!, batch.labels]);
      }
      return sums;
    };
    const a = await collect(0);
    expect(await collect(3)).toEqual(a);
    expect(await collect(2, 2)).toEqual(a.slice(2));
  });

  it('leaks no tensors when batches are disposed, and explains mixed sizes and bad options', async () => {
    const loader = new BatchLoader(data, { batchSize: 5 });
    await expectNoLeaks(async () => {
      for await (const b of loader.epoch(0)) tf.dispose([b.images, b.masks!, b.labels]);
    });
    expect(() => new BatchLoader(data, { batchSize: 0 })).toThrow(
      /batchSize must be a positive integer, got 0/,
    );
    expect(() => new BatchLoader(data, { batchSize: 2, ids: ['nope'] })).toThrow(/id nope is not in/);
    const mixed = {
      ...data,
      get: async (id: string | number) => {
        const s = await data.get(id);
        return id === data.ids[1]
          ? { ...s, image: { ...s.image, width: 16, data: s.image.data.slice(0, 16 * 32 * 3) } }
          : s;
      },
    };
    const it = new BatchLoader(mixed, { batchSize: 2, shuffle: false }).epoch(0);
    await expect(it.next()).rejects.toThrow(
      /images of one batch differ in size .*set augment\.cropSize or use batchSize 1/,
    );
  });
});
