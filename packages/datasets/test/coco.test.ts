import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { encodePng, writeLabelPng } from '@wsss/core';
import { decodeRleString, encodeRleString, loadCoco, rasterizeSegmentation } from '@wsss/datasets';

const dir = mkdtempSync(join(tmpdir(), 'wsss-coco-'));

// Image "a" (5 rows x 6 columns): a dog rectangle, a person square on top of it (uncompressed RLE), and a crowd
// region (compressed RLE) covering column 0 and one dog pixel.
const annotations = {
  images: [
    { id: 7, file_name: 'a.png', height: 5, width: 6 },
    { id: 9, file_name: 'b.png', height: 4, width: 4 },
  ],
  categories: [
    { id: 1, name: 'person' },
    { id: 18, name: 'dog' },
    { id: 3, name: 'car' },
  ],
  annotations: [
    { image_id: 7, category_id: 18, iscrowd: 0, segmentation: [[1, 1, 5, 1, 5, 4, 1, 4]] },
    { image_id: 7, category_id: 1, iscrowd: 0, segmentation: { size: [5, 6], counts: [17, 2, 3, 2, 6] } },
    { image_id: 7, category_id: 1, iscrowd: 1, segmentation: { size: [5, 6], counts: '051Lf0' } },
    { image_id: 9, category_id: 3, iscrowd: 0, segmentation: [[0, 0, 4, 0, 0, 4]] },
  ],
};

beforeAll(async () => {
  mkdirSync(join(dir, 'annotations'));
  mkdirSync(join(dir, 'val2014'));
  writeFileSync(join(dir, 'annotations', 'instances_val2014.json'), JSON.stringify(annotations));
  writeFileSync(
    join(dir, 'val2014', 'a.png'),
    await encodePng({ width: 6, height: 5, channels: 3, data: new Uint8Array(90) }),
  );
  writeFileSync(
    join(dir, 'val2014', 'b.png'),
    await encodePng({ width: 4, height: 4, channels: 3, data: new Uint8Array(48) }),
  );
});

describe('COCO RLE', () => {
  it('decodes and encodes pycocotools compressed counts (worked by hand)', () => {
    expect(decodeRleString('051Lf0')).toEqual([0, 5, 1, 1, 23]);
    expect(encodeRleString([0, 5, 1, 1, 23])).toBe('051Lf0');
    const runs = [3, 40, 1000, 2, 70000, 5, 0, 9];
    expect(decodeRleString(encodeRleString(runs))).toEqual(runs);
  });

  it('rasterises RLE column-major and polygons by pixel centres', () => {
    const rle = rasterizeSegmentation({ size: [2, 3], counts: [1, 2, 3] }, 2, 3);
    // column-major: index 1 = (x0, y1), index 2 = (x1, y0)
    expect(Array.from(rle)).toEqual([0, 1, 0, 1, 0, 0]);
    const triangle = rasterizeSegmentation([[0, 0, 4, 0, 0, 4]], 4, 4);
    expect(Array.from(triangle)).toEqual([1, 1, 1, 0, 1, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0]);
    // Two polygons of one object are a union, not an XOR.
    const overlapping = rasterizeSegmentation(
      [
        [0, 0, 2, 0, 2, 1, 0, 1],
        [1, 0, 3, 0, 3, 1, 1, 1],
      ],
      1,
      3,
    );
    expect(Array.from(overlapping)).toEqual([1, 1, 1]);
  });

  it('rejects malformed segmentations', () => {
    expect(() => rasterizeSegmentation({ size: [2, 2], counts: [1, 2] }, 3, 3, 'ann 4')).toThrow(
      /ann 4: RLE size \[2,2\] differs from the image size \[3,3\]/,
    );
    expect(() => rasterizeSegmentation({ size: [2, 2], counts: [3, 5] }, 2, 2)).toThrow(
      /RLE runs exceed the image/,
    );
    expect(() => rasterizeSegmentation([[0, 0, 1, 1]], 2, 2)).toThrow(
      /even number \(>= 6\) of coordinates, got 4/,
    );
  });
});

describe('loadCoco', () => {
  it('maps categories to contiguous classes, paints smaller objects on top and crowds as ignore', async () => {
    const coco = await loadCoco({ root: dir, split: 'val2014' });
    expect(coco.classNames).toEqual(['background', 'person', 'car', 'dog']);
    expect(coco.ids).toEqual(['a', 'b']);
    const a = await coco.get('a');
    // biome-ignore format: the mask as a picture
    expect(Array.from(a.mask!.data)).toEqual([
      255, 0, 0, 0, 0, 0,
      255, 3, 3, 3, 3, 0,
      255, 3, 3, 1, 1, 0,
      255, 3, 3, 1, 1, 0,
      255, 0, 0, 0, 0, 0,
    ]);
    expect(Array.from(a.labels)).toEqual([1, 0, 1]);
    const b = await coco.get(1);
    expect(Array.from(b.mask!.data)).toEqual([2, 2, 2, 0, 2, 2, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0]);
    expect(Array.from(await coco.imageLabels('b'))).toEqual([0, 1, 0]);
  });

  it('reads pre-rendered coco_seg_anno masks', async () => {
    mkdirSync(join(dir, 'coco_seg_anno'), { recursive: true });
    await writeLabelPng(join(dir, 'coco_seg_anno', 'a.png'), {
      width: 6,
      height: 5,
      data: new Uint8Array(30).fill(2),
    });
    const coco = await loadCoco({ root: dir, split: 'val2014', maskSource: 'prerendered' });
    expect(new Set((await coco.get('a')).mask!.data)).toEqual(new Set([2]));
    await expect(coco.get('b')).rejects.toThrow(/no pre-rendered mask for b/);
  });

  it('explains missing and malformed annotation files', async () => {
    await expect(loadCoco({ root: dir, split: 'train2017' })).rejects.toThrow(
      /annotation file not found: .*instances_train2017\.json/,
    );
    const bad = join(dir, 'bad.json');
    writeFileSync(bad, '{"images": [');
    await expect(loadCoco({ root: dir, split: 'val2014', annotationFile: bad })).rejects.toThrow(
      /cannot parse .*bad\.json/,
    );
    writeFileSync(
      bad,
      JSON.stringify({ ...annotations, annotations: [{ image_id: 7, category_id: 99, segmentation: [] }] }),
    );
    await expect(loadCoco({ root: dir, split: 'val2014', annotationFile: bad })).rejects.toThrow(
      /unknown category_id 99/,
    );
  });
});
