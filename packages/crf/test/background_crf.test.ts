import { BackgroundCrf, crfOnScores } from '@wsss/crf';

/** A 24 x 16 image of two colour halves and scores of 3 labels that disagree with them near the border. */
function inputs() {
  const width = 24;
  const height = 16;
  const pixels = width * height;
  const data = new Uint8Array(pixels * 3);
  const labelMajor = new Float32Array(3 * pixels);
  for (let i = 0; i < pixels; i++) {
    const left = i % width < 12;
    data.set(left ? [200, 40, 40] : [30, 60, 220], 3 * i);
    const x = (i % width) / width;
    labelMajor[i] = 0.2;
    labelMajor[pixels + i] = 1 - x;
    labelMajor[2 * pixels + i] = x;
  }
  return { image: { width, height, data }, labelMajor, classValues: [0, 3, 5] };
}

describe('BackgroundCrf', () => {
  it('gives the results of crfOnScores on the calling thread, for requests queued together', async () => {
    const { image, labelMajor, classValues } = inputs();
    const expected = await crfOnScores(
      image,
      { labelMajor, classValues },
      { numClasses: 6, params: 'psa', threads: 1 },
    );
    const worker = await BackgroundCrf.start();
    try {
      const results = await Promise.all(
        [0, 1, 2].map(() =>
          worker.crfOnScores(image, { labelMajor, classValues }, { numClasses: 6, params: 'psa' }),
        ),
      );
      for (const result of results) {
        expect(Array.from(result.labels)).toEqual(Array.from(expected.labels));
        expect(Array.from(result.q)).toEqual(Array.from(expected.q));
      }
      // the caller's arrays are copied, not moved
      expect(labelMajor.length).toBe(3 * 24 * 16);
      await expect(
        worker.crfOnScores(image, { labelMajor: labelMajor.subarray(1), classValues }, { numClasses: 6 }),
      ).rejects.toThrow(/BackgroundCrf: .*labelMajor must hold/);
    } finally {
      await worker.close();
    }
    await expect(worker.crfOnScores(image, { labelMajor, classValues })).rejects.toThrow(/closed/);
  }, 60_000);
});
