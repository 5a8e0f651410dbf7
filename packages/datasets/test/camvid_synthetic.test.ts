import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { decodeLabelPng } from '@wsss/core';
import { sharedPath } from '@wsss/core/testing';
import { CAMVID_CLASSES, createSyntheticDataset, labelsFromMask, loadCamVid } from '@wsss/datasets';

const camvidRoot = sharedPath('data/camvid', 'CamVid tests on the real data');

describe('CamVid on the real data', () => {
  (camvidRoot ? it : it.skip)(
    'has 367/101/233 images; every mask is 480x360 with values 0..10 plus ignore',
    async () => {
      const sizes: number[] = [];
      for (const split of ['train', 'val', 'test'] as const) {
        const data = await loadCamVid({ root: camvidRoot!, split });
        sizes.push(data.ids.length);
        for (const id of data.ids) {
          const mask = decodeLabelPng(
            new Uint8Array(await readFile(join(camvidRoot!, `${split}annot`, `${id}.png`))),
            id,
          );
          expect([mask.width, mask.height]).toEqual([480, 360]);
          let max = 0;
          for (let i = 0; i < mask.data.length; i++) if (mask.data[i] > max) max = mask.data[i];
          expect(max).toBeLessThanOrEqual(11); // 11 = void, which the loader turns into 255
        }
        // Through the loader, for a spread of images: image size, ignore value, labels derived from the mask.
        for (const index of [0, Math.floor(data.ids.length / 2), data.ids.length - 1]) {
          const s = await data.get(index);
          expect([s.image.width, s.image.height]).toEqual([480, 360]);
          for (const v of new Set(s.mask!.data)) expect(v <= 10 || v === 255).toBe(true);
          expect(Array.from(s.labels)).toEqual(Array.from(labelsFromMask(s.mask!.data, data.labelClasses)));
          expect(s.labels).toHaveLength(11);
        }
      }
      expect(sizes).toEqual([367, 101, 233]);
      expect(CAMVID_CLASSES).toHaveLength(11);
    },
  );

  (camvidRoot ? it : it.skip)('maps void (11) to 255 and has no background class', async () => {
    const data = await loadCamVid({ root: camvidRoot!, split: 'val' });
    expect(data.backgroundIndex).toBeNull();
    let sawVoid = false;
    for (let i = 0; i < 10 && !sawVoid; i++) sawVoid = (await data.get(i)).mask!.data.includes(255);
    expect(sawVoid).toBe(true);
    await expect(loadCamVid({ root: camvidRoot!, split: 'nope' as never })).rejects.toThrow(
      /id list not found/,
    );
  });
});

describe('synthetic dataset', () => {
  const hash = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

  it('is deterministic: same seed same bytes, another seed other bytes, any order', () => {
    const a = createSyntheticDataset({ size: 20, seed: 3 });
    const b = createSyntheticDataset({ size: 20, seed: 3 });
    const c = createSyntheticDataset({ size: 20, seed: 4 });
    const backwards = [19, 5, 0].map((i) => hash(b.generate(i).image.data));
    expect([19, 5, 0].map((i) => hash(a.generate(i).image.data))).toEqual(backwards);
    expect(hash(a.generate(5).mask!.data)).toBe(hash(b.generate(5).mask!.data));
    expect(hash(a.generate(5).image.data)).not.toBe(hash(c.generate(5).image.data));
  });

  it('gives labels consistent with exact masks, 1-3 objects, every class used', () => {
    const data = createSyntheticDataset({ size: 200, seed: 1, numClasses: 6 });
    const classCounts = new Array(6).fill(0);
    for (let i = 0; i < 200; i++) {
      const s = data.generate(i);
      const present = new Set(s.mask!.data);
      for (let k = 0; k < 6; k++) {
        expect(s.labels[k]).toBe(present.has(k + 1) ? 1 : 0);
        classCounts[k] += s.labels[k];
      }
      const n = s.labels.reduce((x, y) => x + y, 0);
      expect(n).toBeGreaterThanOrEqual(0);
      expect(n).toBeLessThanOrEqual(3);
      for (const v of present) expect(v <= 6 || v === 255).toBe(true);
    }
    for (const count of classCounts) expect(count).toBeGreaterThan(30);
  });

  it('makes 1,000 128x128 images in seconds', () => {
    const data = createSyntheticDataset({ size: 1000, seed: 2 });
    const t0 = performance.now();
    let objects = 0;
    for (let i = 0; i < 1000; i++) objects += data.generate(i).labels.reduce((x, y) => x + y, 0);
    const seconds = (performance.now() - t0) / 1000;
    expect(objects).toBeGreaterThan(1000);
    // Not a timing assertion: a generous bound that only catches an accidental O(n^2).
    expect(seconds).toBeLessThan(60);
  });

  it('rejects impossible options', () => {
    expect(() => createSyntheticDataset({ numClasses: 11 })).toThrow(/numClasses must be 1\.\.10, got 11/);
    expect(() => createSyntheticDataset({ height: 8 })).toThrow(/height and width must be >= 16/);
    expect(() => createSyntheticDataset({ minObjects: 3, maxObjects: 2 })).toThrow(
      /minObjects <= maxObjects/,
    );
    expect(() => createSyntheticDataset({ size: 3 }).generate(3)).toThrow(
      /index 3 is out of range \(0\.\.2\)/,
    );
  });
});
