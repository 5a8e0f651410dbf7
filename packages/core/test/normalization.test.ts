import {
  IMAGENET_NORMALIZATION,
  imageToInput,
  MOBILENET_NORMALIZATION,
  normalizeImages,
  normalizePixels,
  tf,
} from '@wsss/core';
import { expectNoLeaks } from '@wsss/core/testing';

describe('input normalisation', () => {
  it('is (x / 255 - mean) / std per channel, the same from tensors, typed arrays and images', async () => {
    const pixels = Uint8Array.from([0, 128, 255, 10, 20, 30]);
    const expected = [0, 128, 255, 10, 20, 30].map(
      (v, i) => (v / 255 - IMAGENET_NORMALIZATION.mean[i % 3]) / IMAGENET_NORMALIZATION.std[i % 3],
    );
    const fromArray = normalizePixels(pixels, IMAGENET_NORMALIZATION);
    expected.forEach((v, i) => {
      expect(fromArray[i]).toBeCloseTo(v, 6);
    });
    await expectNoLeaks(() => {
      const raw = tf.tensor2d(pixels, [2, 3], 'int32');
      const t = normalizeImages(raw, IMAGENET_NORMALIZATION);
      raw.dispose();
      // float32 tensor arithmetic against float64 rounded once
      t.dataSync().forEach((v, i) => {
        expect(v).toBeCloseTo(fromArray[i], 6);
      });
      t.dispose();
    });
    const input = imageToInput({ width: 2, height: 1, channels: 3, data: pixels }, MOBILENET_NORMALIZATION);
    expect(input.shape).toEqual([1, 1, 2, 3]);
    input.dataSync().forEach((v, i) => {
      expect(v).toBeCloseTo(pixels[i] / 127.5 - 1, 6);
    });
    input.dispose();
    const out = new Float32Array(8);
    normalizePixels(pixels.subarray(0, 3), MOBILENET_NORMALIZATION, out, 5);
    expect(out[4]).toBe(0);
    [-1, 128 / 127.5 - 1, 1].forEach((v, i) => {
      expect(out[5 + i]).toBeCloseTo(v, 6);
    });
    expect(() => normalizeImages(tf.zeros([2, 2]), MOBILENET_NORMALIZATION)).toThrow(
      /must end in 3 RGB channels/,
    );
  });
});
