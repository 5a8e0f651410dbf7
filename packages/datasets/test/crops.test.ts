import { sharedPath } from '@wsss/core/testing';
import { createSyntheticDataset, cropDataset, labelsFromMask, loadCamVid } from '@wsss/datasets';

describe('cropDataset', () => {
  it('cuts fixed windows (last one flush with the edge) and labels each crop from its own mask', async () => {
    const base = createSyntheticDataset({ size: 3, seed: 4, height: 96, width: 80 });
    const crops = await cropDataset(base, { size: [48, 32], minPixels: 1 });
    // rows at 0 and 48; columns at 0, 32 and 48 (flush with the edge)
    expect(crops.ids.slice(0, 6)).toEqual(
      [
        'synthetic_000000@0,0',
        'synthetic_000000@0,32',
        'synthetic_000000@0,48',
        'synthetic_000000@48,0',
        'synthetic_000000@48,32',
        'synthetic_000000@48,48',
      ].map((id) => id.replace(/^synthetic_000000/, base.ids[0])),
    );
    expect(crops.ids).toHaveLength(18);
    const full = await base.get(1);
    const crop = await crops.get(`${base.ids[1]}@48,32`);
    expect(crop.image.width).toBe(32);
    for (let y = 0; y < 48; y++) {
      for (let x = 0; x < 32; x++) {
        const i = (48 + y) * 80 + 32 + x;
        expect(crop.mask!.data[y * 32 + x]).toBe(full.mask!.data[i]);
        expect(crop.image.data[3 * (y * 32 + x)]).toBe(full.image.data[3 * i]);
      }
    }
    expect(Array.from(crop.labels)).toEqual(Array.from(labelsFromMask(crop.mask!.data, base.labelClasses)));
    expect(Array.from(await crops.imageLabels(crop.id))).toEqual(Array.from(crop.labels));
    await expect(crops.get('nope@0,0')).rejects.toThrow(/unknown id nope@0,0/);
    await expect(cropDataset(base, { size: 100 })).rejects.toThrow(/crops of 100 do not fit images of 96/);
  });

  const camvid = sharedPath('data/camvid', 'CamVid crops');
  (camvid ? it : it.skip)(
    'gives CamVid image-level labels that come and go (half resolution, 120 px crops)',
    async () => {
      const crops = await cropDataset(await loadCamVid({ root: camvid!, split: 'val' }), {
        scale: 0.5,
        size: 120,
      });
      expect(crops.ids).toHaveLength(404); // 101 images x 4 crops
      const counts = new Array(11).fill(0);
      for (const id of crops.ids.slice(0, 100)) {
        for (const [c, v] of (await crops.imageLabels(id)).entries()) counts[c] += v;
      }
      // whole val images all hold every class; crops do not (pole, sign, pedestrian in well under half)
      expect(counts.filter((n) => n < 50).length).toBeGreaterThanOrEqual(3);
      expect(Math.max(...counts)).toBeGreaterThan(90);
      const sample = await crops.get(0);
      expect([sample.image.width, sample.image.height, sample.mask!.width]).toEqual([120, 120, 120]);
    },
  );
});
