import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decodeLabelPng, encodePng, writeLabelPng } from '@wsss/core';
import { sharedPath } from '@wsss/core/testing';
import { labelsFromMask, loadVoc, parseNpy, readClsLabels, VOC_CLASSES } from '@wsss/datasets';

const root = sharedPath('data/voc2012/VOC2012', 'VOC 2012 tests on the real data');
const labelsNpy = sharedPath('data/voc2012/labels/cls_labels.npy');

describe('VOC 2012 on the real data', () => {
  (root ? it : it.skip)(
    'has the standard split sizes and the 20 classes in aeroplane..tvmonitor order',
    async () => {
      const counts: Record<string, number> = {};
      for (const split of ['train', 'val', 'train_aug', 'trainval', 'test'] as const) {
        counts[split] = (await loadVoc({ root: root!, split })).ids.length;
      }
      expect(counts).toEqual({ train: 1464, val: 1449, train_aug: 10582, trainval: 2913, test: 1456 });
      expect(VOC_CLASSES).toHaveLength(21);
      expect(VOC_CLASSES[1]).toBe('aeroplane');
      expect(VOC_CLASSES[15]).toBe('person');
      expect(VOC_CLASSES[20]).toBe('tvmonitor');
    },
  );

  (root && labelsNpy ? it : it.skip)(
    'every train_aug/val id has a mask with values 0..20 and 255, and the label sources agree on 11,213 of 12,031',
    async () => {
      const annotations = await readClsLabels('VOC', root!, labelsNpy);
      expect(annotations.size).toBe(12031);
      const maskDir = join(root!, 'SegmentationClassAug');
      const valIds = new Set((await loadVoc({ root: root!, split: 'val' })).ids);
      const trainIds = (await loadVoc({ root: root!, split: 'train_aug' })).ids;
      const all = [...trainIds, ...valIds];
      expect(new Set(all).size).toBe(12031);
      const labelClasses = Array.from({ length: 20 }, (_, i) => i + 1);
      let agree = 0;
      let agreeVal = 0;
      const valuesSeen = new Set<number>();
      for (const id of all) {
        const mask = decodeLabelPng(new Uint8Array(await readFile(join(maskDir, `${id}.png`))), id);
        const seen = new Uint8Array(256);
        for (let i = 0; i < mask.data.length; i++) seen[mask.data[i]] = 1;
        for (let v = 0; v < 256; v++) if (seen[v]) valuesSeen.add(v);
        const fromMask = labelsFromMask(mask.data, labelClasses);
        const same = fromMask.every((v, i) => v === annotations.get(id)![i]);
        if (same) {
          agree++;
          if (valIds.has(id)) agreeVal++;
        }
      }
      expect([...valuesSeen].every((v) => v <= 20 || v === 255)).toBe(true);
      expect(agree).toBe(11213);
      expect(agreeVal).toBe(1448);
    },
  );

  (root ? it : it.skip)('loads the 5 shipped JPEGs with their masks and both label sources', async () => {
    const jpegs = (await readdir(join(root!, 'JPEGImages'))).map((f) => f.replace('.jpg', ''));
    expect(jpegs).toHaveLength(5);
    const train = await loadVoc({ root: root!, split: 'train_aug' });
    const byMask = await loadVoc({ root: root!, split: 'train_aug', labelSource: 'masks' });
    for (const id of jpegs.filter((i) => train.ids.includes(i))) {
      const s = await train.get(id);
      expect([s.mask!.width, s.mask!.height]).toEqual([s.image.width, s.image.height]);
      expect(s.labels).toHaveLength(20);
      expect(Array.from(await byMask.imageLabels(id))).toEqual(
        Array.from(labelsFromMask(s.mask!.data, train.labelClasses)),
      );
    }
    // 2007_000333: the annotations say train (19); the mask agrees.
    expect(Array.from(await train.imageLabels('2007_000333'))[18]).toBe(1);
  });

  (root ? it : it.skip)('explains missing files and unknown ids', async () => {
    const voc = await loadVoc({ root: root!, split: 'train_aug' });
    await expect(voc.get('2007_000032')).rejects.toThrow(
      /readImage: file not found: .*JPEGImages\/2007_000032\.jpg/,
    );
    await expect(voc.get('not_an_id')).rejects.toThrow(/VOC2012 train_aug: unknown id not_an_id/);
    await expect(voc.get(99999)).rejects.toThrow(/index 99999 is out of range \(0\.\.10581\)/);
    await expect(loadVoc({ root: root!, split: 'test', labelSource: 'masks' })).rejects.toThrow(
      /test split does not have/,
    );
  });
});

describe('VOC loader on a hand-made tree', () => {
  const dir = mkdtempSync(join(tmpdir(), 'wsss-voc-'));
  beforeAll(async () => {
    mkdirSync(join(dir, 'JPEGImages'), { recursive: true });
    mkdirSync(join(dir, 'SegmentationClass'), { recursive: true });
    mkdirSync(join(dir, 'ImageSets', 'Segmentation'), { recursive: true });
    writeFileSync(join(dir, 'ImageSets', 'Segmentation', 'train.txt'), 'a\nb\n');
    writeFileSync(
      join(dir, 'JPEGImages', 'a.jpg'),
      await encodePng({ width: 4, height: 3, channels: 3, data: new Uint8Array(36) }),
    );
    writeFileSync(
      join(dir, 'JPEGImages', 'b.jpg'),
      await encodePng({ width: 4, height: 3, channels: 3, data: new Uint8Array(36) }),
    );
    await writeLabelPng(join(dir, 'SegmentationClass', 'a.png'), {
      width: 4,
      height: 3,
      data: Uint8Array.from([0, 0, 15, 15, 255, 1, 1, 0, 0, 0, 0, 0]),
    });
    await writeLabelPng(join(dir, 'SegmentationClass', 'b.png'), {
      width: 2,
      height: 2,
      data: new Uint8Array(4),
    });
  });

  it('derives labels from masks (person and aeroplane), and rejects a mask whose size differs from its image', async () => {
    const voc = await loadVoc({ root: dir, split: 'train', labelSource: 'masks' });
    const a = await voc.get('a');
    expect(Array.from(a.labels)).toEqual([1, ...new Array(13).fill(0), 1, 0, 0, 0, 0, 0]);
    await expect(voc.get('b')).rejects.toThrow(/mask of b is 2x2 but its image is 4x3/);
  });

  it('needs cls_labels.npy for the default label source and says how to do without', async () => {
    await expect(loadVoc({ root: dir, split: 'train' })).rejects.toThrow(
      /cls_labels\.npy not found .*labelSource: 'masks'/,
    );
    await expect(loadVoc({ root: dir, split: 'val', labelSource: 'masks' })).rejects.toThrow(
      /id list not found: .*val\.txt/,
    );
    await expect(loadVoc({ root: join(dir, 'nope'), split: 'train' })).rejects.toThrow(
      /root folder not found/,
    );
  });
});

describe('parseNpy', () => {
  function npy(descr: string, shape: string, body: Uint8Array): Uint8Array {
    let header = `{'descr': '${descr}', 'fortran_order': False, 'shape': ${shape}, }`;
    while ((10 + header.length + 1) % 64 !== 0) header += ' ';
    header += '\n';
    const out = new Uint8Array(10 + header.length + body.length);
    out.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0, header.length & 0xff, header.length >> 8]);
    out.set(new TextEncoder().encode(header), 10);
    out.set(body, 10 + header.length);
    return out;
  }

  it('reads numeric arrays', () => {
    const values = Float32Array.from([1.5, -2, 3.25, 0]);
    const parsed = parseNpy(npy('<f4', '(2, 2)', new Uint8Array(values.buffer)));
    expect(parsed).toEqual({ dtype: '<f4', shape: [2, 2], data: values });
  });

  it('rejects what it cannot read, without executing anything', () => {
    expect(() => parseNpy(Uint8Array.from([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]), 'x.npy')).toThrow(
      /x\.npy is not a \.npy file/,
    );
    expect(() => parseNpy(npy('>f4', '(1,)', new Uint8Array(4)))).toThrow(/unsupported dtype '>f4'/);
    // A pickle that asks for os.system: GLOBAL 'os\nsystem\n'.
    const evil = Uint8Array.from([
      0x80,
      2,
      0x63,
      ...new TextEncoder().encode('os\nsystem\n'),
      0x58,
      2,
      0,
      0,
      0,
      0x6c,
      0x73,
      0x85,
      0x52,
      0x2e,
    ]);
    expect(() => parseNpy(npy('|O', '()', evil), 'evil.npy')).toThrow(
      /calls os\.system, which this reader does not allow/,
    );
  });

  (labelsNpy ? it : it.skip)('reads the pickled dict of cls_labels.npy', async () => {
    const parsed = parseNpy(new Uint8Array(await readFile(labelsNpy!))) as Map<
      string,
      { data: Float32Array }
    >;
    expect(parsed.size).toBe(12031);
    // 2007_000032: two aeroplanes and two persons.
    const labels = Array.from(parsed.get('2007_000032')!.data);
    expect(labels.map((v, i) => (v ? i : -1)).filter((i) => i >= 0)).toEqual([0, 14]);
  });
});
