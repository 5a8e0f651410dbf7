import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeLabelPng, writePng } from '@wsss/core';
import { expectNoLeaks } from '@wsss/core/testing';
import {
  BatchLoader,
  createSyntheticDataset,
  disposeBatch,
  resizeFloatMap,
  withMapFolders,
} from '@wsss/datasets';

describe('side maps from folders, through augmentation and batches', () => {
  const data = createSyntheticDataset({ size: 4, seed: 3, height: 96, width: 96 });
  const root = mkdtempSync(join(tmpdir(), 'wsss-maps-'));
  const pseudo = join(root, 'pseudo');
  const saliency = join(root, 'saliency');

  beforeAll(async () => {
    for (const id of data.ids) {
      const { image, mask } = await data.get(id);
      // pseudo labels: the mask itself; saliency: the red channel, as a grey PNG
      await writeLabelPng(join(pseudo, `${id}.png`), mask!);
      const red = Uint8Array.from({ length: 96 * 96 * 3 }, (_, i) => image.data[3 * Math.floor(i / 3)]);
      await writePng(join(saliency, `${id}.png`), { width: 96, height: 96, channels: 3, data: red });
    }
  });

  it('carry the same geometric transform as the image and the mask', async () => {
    const maps = withMapFolders(data, { labelMaps: { pseudo }, floatMaps: { saliency } });
    const sample = await maps.get(0);
    expect(Array.from(sample.labelMaps!.pseudo.data)).toEqual(Array.from(sample.mask!.data));
    const loader = new BatchLoader(maps, {
      batchSize: 2,
      seed: 5,
      augment: { cropSize: 64, scaleRange: [0.9, 1.1] }, // rescaled images stay larger than the crop: no padding
    });
    let batches = 0;
    for await (const batch of loader.epoch(0)) {
      batches++;
      expect(batch.labelMaps.pseudo.shape).toEqual([2, 64, 64]);
      expect(batch.labelMaps.pseudo.dtype).toBe('int32');
      // nearest for both: identical
      expect(Array.from(batch.labelMaps.pseudo.dataSync())).toEqual(Array.from(batch.masks!.dataSync()));
      // bilinear for both; the image is rounded to bytes
      const sal = batch.floatMaps.saliency.dataSync();
      let worst = 0;
      batch.samples.forEach((s, b) => {
        for (let i = 0; i < 64 * 64; i++)
          worst = Math.max(worst, Math.abs(sal[b * 4096 + i] * 255 - s.image.data[3 * i]));
      });
      expect(worst).toBeLessThanOrEqual(0.5001);
      disposeBatch(batch);
    }
    expect(batches).toBe(2);
  });

  it('resizes float maps of another size to the image, and names files of the wrong size or missing', async () => {
    const small = { width: 2, height: 1, data: Float32Array.from([0, 1]) };
    expect(Array.from(resizeFloatMap(small, 4, 1).data)).toEqual([0, 0.25, 0.75, 1]);
    const half = join(root, 'half');
    const wrong = join(root, 'wrong');
    for (const id of data.ids) {
      await writePng(join(half, `${id}.png`), {
        width: 48,
        height: 48,
        channels: 3,
        data: new Uint8Array(48 * 48 * 3).fill(255),
      });
      await writeLabelPng(join(wrong, `${id}.png`), { width: 48, height: 48, data: new Uint8Array(48 * 48) });
    }
    const resized = await withMapFolders(data, { floatMaps: { saliency: half } }).get(1);
    expect(resized.floatMaps!.saliency.width).toBe(96);
    expect(resized.floatMaps!.saliency.data.every((v) => v === 1)).toBe(true);
    await expect(withMapFolders(data, { labelMaps: { pseudo: wrong } }).get(0)).rejects.toThrow(
      /wrong\/synthetic-000000\.png is 48x48, but image synthetic-000000 is 96x96|is 48x48, but image .* is 96x96/,
    );
    await expect(withMapFolders(data, { labelMaps: { pseudo: join(root, 'none') } }).get(0)).rejects.toThrow(
      /withMapFolders: no \.png for .* in .*none/,
    );
    const skipped = await withMapFolders(data, {
      labelMaps: { pseudo: join(root, 'none') },
      missing: 'skip',
    }).get(0);
    expect(skipped.labelMaps).toBeUndefined();
  });

  it('leaks no tensors over batches with side maps', async () => {
    const loader = new BatchLoader(withMapFolders(data, { labelMaps: { pseudo }, floatMaps: { saliency } }), {
      batchSize: 2,
      augment: { cropSize: 48 },
    });
    await expectNoLeaks(async () => {
      for await (const batch of loader.epoch(0)) disposeBatch(batch);
    });
  });
});
