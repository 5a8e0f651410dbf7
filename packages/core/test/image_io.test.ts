import { mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  decodeImage,
  decodeLabelPng,
  encodeLabelPng,
  encodePng,
  imageToTensor,
  labelMapToTensor,
  readImage,
  readLabelPng,
  tensorToImage,
  vocPalette,
  writeLabelPng,
  writePng,
} from '@wsss/core';
import { sharedPath } from '@wsss/core/testing';

const dir = mkdtempSync(join(tmpdir(), 'wsss-image-'));
const masks = sharedPath('data/voc2012/VOC2012/SegmentationClassAug', 'VOC mask decoding');

function gradientImage(width: number, height: number) {
  const data = new Uint8Array(width * height * 3);
  for (let i = 0; i < width * height; i++) data.set([i % 256, (i * 7) % 256, (i * 13) % 256], 3 * i);
  return { width, height, channels: 3 as const, data };
}

/** A 24-bit bottom-up BMP written by hand, pixel (x, y) = (x*40, y*60, 7). */
function handWrittenBmp(width: number, height: number): Uint8Array {
  const stride = Math.ceil((width * 3) / 4) * 4;
  const bytes = new Uint8Array(54 + stride * height);
  const view = new DataView(bytes.buffer);
  bytes.set([0x42, 0x4d]);
  view.setUint32(2, bytes.length, true);
  view.setUint32(10, 54, true);
  view.setUint32(14, 40, true);
  view.setInt32(18, width, true);
  view.setInt32(22, height, true);
  view.setUint16(26, 1, true);
  view.setUint16(28, 24, true);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const o = 54 + (height - 1 - y) * stride + 3 * x;
      bytes.set([7, y * 60, x * 40], o); // BGR
    }
  }
  return bytes;
}

describe('RGB images', () => {
  it('round-trips PNG losslessly through writePng/readImage and leaves no temp files', async () => {
    const img = gradientImage(37, 21);
    const path = join(dir, 'nested', 'rgb.png');
    await writePng(path, img);
    const back = await readImage(path);
    expect(back.width).toBe(37);
    expect(back.height).toBe(21);
    expect(Buffer.from(back.data).equals(Buffer.from(img.data))).toBe(true);
    expect(readdirSync(join(dir, 'nested'))).toEqual(['rgb.png']);
  });

  it('expands grey PNGs to RGB and drops alpha', async () => {
    const grey = await encodePng({ width: 2, height: 1, channels: 1, data: Uint8Array.from([10, 200]) });
    expect(Array.from((await decodeImage(grey)).data)).toEqual([10, 10, 10, 200, 200, 200]);
    const rgba = await encodePng({ width: 1, height: 1, channels: 4, data: Uint8Array.from([1, 2, 3, 4]) });
    expect(Array.from((await decodeImage(rgba)).data)).toEqual([1, 2, 3]);
  });

  it('decodes uncompressed BMP (sharp cannot), pixel-exact', async () => {
    const img = await decodeImage(handWrittenBmp(3, 2));
    expect([img.width, img.height]).toEqual([3, 2]);
    expect(Array.from(img.data)).toEqual([0, 0, 7, 40, 0, 7, 80, 0, 7, 0, 60, 7, 40, 60, 7, 80, 60, 7]);
  });

  it('converts between images and tensors', async () => {
    const img = gradientImage(4, 3);
    const t = imageToTensor(img);
    expect(t.shape).toEqual([3, 4, 3]);
    const back = await tensorToImage(t);
    expect(Array.from(back.data)).toEqual(Array.from(img.data));
    t.dispose();
  });

  it('names the file in errors for missing and corrupt images', async () => {
    await expect(readImage(join(dir, 'missing.jpg'))).rejects.toThrow(
      /readImage: file not found: .*missing\.jpg/,
    );
    const corrupt = join(dir, 'corrupt.jpg');
    writeFileSync(corrupt, Uint8Array.from([0xff, 0xd8, 0xff, 0xe0, 1, 2, 3]));
    await expect(readImage(corrupt)).rejects.toThrow(/cannot decode .*corrupt\.jpg/);
    const truncatedBmp = handWrittenBmp(3, 2).slice(0, 60);
    await expect(decodeImage(truncatedBmp, 'short.bmp')).rejects.toThrow(
      /short\.bmp as BMP: file is truncated/,
    );
    await expect(encodePng({ width: 2, height: 2, channels: 3, data: new Uint8Array(5) })).rejects.toThrow(
      /image.data has 5 bytes, expected width\*height\*channels/,
    );
  });

  const jpegs = sharedPath('data/voc2012/VOC2012/JPEGImages', 'VOC JPEG decoding');
  (jpegs && masks ? it : it.skip)('decodes the real VOC JPEGs at the size of their masks', async () => {
    for (const file of readdirSync(jpegs!)) {
      const img = await readImage(join(jpegs!, file));
      const mask = await readLabelPng(join(masks!, file.replace('.jpg', '.png')));
      expect([img.width, img.height]).toEqual([mask.width, mask.height]);
      expect(img.data.length).toBe(img.width * img.height * 3);
    }
  });

  const bmp = sharedPath('images/cat.bmp', 'real BMP decoding');
  (bmp ? it : it.skip)('decodes the real cat.bmp demo image', async () => {
    const img = await readImage(bmp!);
    expect([img.width, img.height]).toEqual([512, 341]);
  });
});

describe('label PNGs', () => {
  it('uses the VOC colour map', () => {
    const p = vocPalette();
    expect(Array.from(p.slice(0, 3 * 4))).toEqual([0, 0, 0, 128, 0, 0, 0, 128, 0, 128, 128, 0]);
    expect(Array.from(p.slice(15 * 3, 16 * 3))).toEqual([192, 128, 128]); // person
    expect(Array.from(p.slice(255 * 3))).toEqual([224, 224, 192]); // void
  });

  it('writes palette PNGs and reads the indices back (not expanded colours)', async () => {
    const map = { width: 3, height: 2, data: Uint8Array.from([0, 1, 15, 20, 255, 7]) };
    const path = join(dir, 'label.png');
    await writeLabelPng(path, map);
    const back = await readLabelPng(path);
    expect(back).toEqual({ width: 3, height: 2, data: map.data });
    // Other viewers see the VOC colours: person is (192,128,128).
    const rgb = await readImage(path);
    expect(Array.from(rgb.data.slice(6, 9))).toEqual([192, 128, 128]);
  });

  it('reads grey label PNGs as values and VOC-coloured RGB PNGs as indices', async () => {
    const grey = await encodePng({ width: 2, height: 1, channels: 1, data: Uint8Array.from([3, 11]) });
    expect(Array.from(decodeLabelPng(grey).data)).toEqual([3, 11]);
    const palette = vocPalette();
    const rgb = await encodePng({
      width: 2,
      height: 1,
      channels: 3,
      data: Uint8Array.from([...palette.slice(3 * 8, 3 * 9), ...palette.slice(3 * 255)]),
    });
    expect(Array.from(decodeLabelPng(rgb).data)).toEqual([8, 255]);
    const off = await encodePng({ width: 1, height: 1, channels: 3, data: Uint8Array.from([1, 2, 3]) });
    expect(() => decodeLabelPng(off, 'off.png')).toThrow(/off\.png is an RGB PNG with colour \(1,2,3\)/);
    expect(() => decodeLabelPng(Uint8Array.from([1, 2, 3]), 'junk.png')).toThrow(
      /cannot decode junk\.png as PNG/,
    );
    expect(() => encodeLabelPng({ width: 2, height: 2, data: new Uint8Array(3) })).toThrow(
      /map.data has 3 values, expected width\*height = 2\*2/,
    );
  });

  it('converts a label map to an int32 tensor', () => {
    const t = labelMapToTensor({ width: 2, height: 1, data: Uint8Array.from([4, 255]) });
    expect(t.dtype).toBe('int32');
    expect(Array.from(t.dataSync())).toEqual([4, 255]);
    t.dispose();
  });

  (masks ? it : it.skip)('reads a real VOC mask as indices 0..20 and 255', async () => {
    const mask = await readLabelPng(join(masks!, '2007_000032.png'));
    expect([mask.width, mask.height]).toEqual([500, 281]);
    expect([...new Set(mask.data)].sort((a, b) => a - b)).toEqual([0, 1, 15, 255]);
  });
});
