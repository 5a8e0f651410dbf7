import {
  backgroundScore,
  camLabels,
  classActivationMaps,
  confidentLabels,
  crfScores,
  gradCam,
  irnMultiScaleCam,
  labelsFromScores,
  multiScaleCam,
  normalizeCams,
  powerLabels,
  resizeBicubic,
} from '@wsss/cam';
import { tf } from '@wsss/core';
import { expectNoLeaks } from '@wsss/core/testing';
import { ClassifierHead } from '@wsss/models';

const close = (a: ArrayLike<number>, b: ArrayLike<number>, tol = 1e-5) => {
  expect(a.length).toBe(b.length);
  for (let i = 0; i < a.length; i++) expect(Math.abs(a[i] - b[i])).toBeLessThan(tol);
};

describe('resizeBicubic', () => {
  // Golden values from Pillow 9.4 `Image.resize(size, Image.BICUBIC)` on the same 7x5 image.
  const W = 7;
  const H = 5;
  const data = new Uint8Array(W * H * 3);
  for (let y = 0; y < H; y++)
    for (let x = 0; x < W; x++)
      for (let c = 0; c < 3; c++) data[3 * (y * W + x) + c] = (x * 37 + y * 91 + c * 53 + x * y * 13) % 256;
  const image = { width: W, height: H, channels: 3 as const, data };

  it('matches PIL exactly when shrinking (antialiased support)', () => {
    const out = resizeBicubic(image, 4, 3);
    // biome-ignore format: golden data
    expect(Array.from(out.data)).toEqual([57, 114, 164, 131, 150, 148, 126, 151, 175, 162, 142, 126, 155, 144, 116, 148, 135, 127, 148, 142, 116, 139, 98, 152, 103, 160, 142, 127, 149, 112, 143, 84, 142, 130, 119, 172]);
  });

  it('matches PIL exactly along one axis only, and when enlarging', () => {
    // biome-ignore format: golden data
    expect(Array.from(resizeBicubic(image, 3, 5).data)).toEqual([27, 80, 134, 111, 172, 213, 195, 150, 91, 136, 189, 187, 167, 112, 95, 90, 143, 204, 182, 123, 87, 127, 156, 147, 160, 101, 99, 81, 134, 132, 171, 124, 107, 153, 108, 169, 127, 189, 129, 119, 101, 143, 111, 109, 163]);
    const up = resizeBicubic(image, 7, 9);
    // biome-ignore format: golden data
    expect(Array.from(up.data.slice(0, 30))).toEqual([0, 46, 99, 29, 82, 135, 64, 117, 191, 100, 174, 227, 157, 210, 255, 193, 246, 22, 229, 5, 58, 22, 75, 137, 62, 124, 177, 111, 164, 138]);
    const both = resizeBicubic(image, 11, 9);
    // biome-ignore format: golden data
    expect(Array.from(both.data.slice(0, 24))).toEqual([0, 43, 96, 5, 58, 110, 31, 84, 139, 55, 106, 177, 76, 137, 205, 100, 174, 227, 138, 199, 255, 168, 227, 210]);
    expect(() => resizeBicubic(image, 0, 3)).toThrow(/output size must be >= 1, got 0x3/);
  });
});

describe('CAM basics', () => {
  it('computes ReLU(F·w) and per-class max normalisation by hand', () => {
    // 1x1x2 pixels with 2 features; 2 classes.
    const features = tf.tensor4d([1, 2, 3, -1], [1, 1, 2, 2]);
    const w = tf.tensor2d([1, -1, 1, 2], [2, 2]); // class0 = f0 + f1, class1 = -f0 + 2 f1
    const cams = classActivationMaps(features, w);
    close(cams.dataSync(), [3, 3, 2, 0]); // pixel0: (3, 3); pixel1: (2, -5 -> 0)
    const norm = normalizeCams(cams.squeeze([0]) as tf.Tensor3D);
    close(norm.dataSync(), [3 / (3 + 1e-5), 1 / (1 + 1e-5 / 3), 2 / (3 + 1e-5), 0]);
    expect(() => classActivationMaps(features, tf.zeros([3, 2]))).toThrow(
      /weights must be \[2, C\] or \[1, 1, 2, C\], got \[3,2\]/,
    );
  });

  it('scores the background as in the digest (item 5)', () => {
    const cams = tf.tensor3d([0.5, 0.1], [1, 2, 1]);
    close(backgroundScore(cams, { alpha: 4 }).dataSync(), [0.0625, 0.6561]);
    close(backgroundScore(cams, { alpha: 16 }).dataSync(), [1.5259e-5, 0.185302], 1e-6);
    expect(backgroundScore(cams, { alpha: 32 }).dataSync()[0]).toBeCloseTo(2.328e-10, 12);
    expect(backgroundScore(cams, { alpha: 32 }).dataSync()[1]).toBeCloseTo(0.034337, 6);
    close(backgroundScore(cams, { threshold: 0.2 }).dataSync(), [0.2, 0.2]);
  });

  it('turns CAMs into labels: constant bg, confident band with ignore, psa power rule', () => {
    // 4 pixels, 2 classes (mask values 8 and 12).
    const cams = tf.tensor3d([0.9, 0.1, 0.15, 0.25, 0.02, 0.01, 0.4, 0.5], [1, 4, 2]);
    expect(Array.from(camLabels(cams, [8, 12]).data)).toEqual([8, 12, 0, 12]);
    expect(Array.from(camLabels(cams, [8, 12], null).data)).toEqual([8, 12, 8, 12]); // no background class
    expect(Array.from(confidentLabels(cams, [8, 12]).data)).toEqual([8, 255, 0, 12]);
    // alpha 4: bg = (1-max)^4 = [1e-4, .316, .922, .0625]; alpha 32: [~0, 1e-4, .52, 2e-10]
    expect(Array.from(powerLabels(cams, [8, 12]).data)).toEqual([8, 255, 0, 12]);
    expect(() => camLabels(cams, [8])).toThrow(/classValues has 1 entries, cams have 2 channels/);
    expect(() => confidentLabels(cams, [8, 12], { fgThreshold: 0.1, bgThreshold: 0.2 })).toThrow(
      /bgThreshold <= fgThreshold/,
    );
  });

  it('keeps classes the classifier scores >= 0.1, and builds CRF scores over bg + present classes', () => {
    expect(Array.from(labelsFromScores([-3, -2, 0, 4]))).toEqual([0, 1, 1, 1]); // sigmoid(-3)=0.047, (-2)=0.119
    const cams = tf.tensor3d([0.5, 0.9, 0.2, 0.1, 0, 0.3], [1, 2, 3]);
    const { scores, classValues } = crfScores(cams, [1, 0, 1], [1, 2, 3], 4);
    expect(classValues).toEqual([0, 1, 3]);
    close(scores.dataSync(), [0.5 ** 4, 0.5, 0.2, 0.7 ** 4, 0.1, 0.3]);
  });
});

describe('multi-scale CAMs', () => {
  // A "network" whose CAM for class c is the c-th input channel (+3), at stride 2: easy to reason about.
  const network = (x: tf.Tensor4D) => tf.avgPool(tf.add(x, 3) as tf.Tensor4D, 2, 2, 'same') as tf.Tensor4D;
  const image = {
    width: 12,
    height: 10,
    channels: 3 as const,
    data: new Uint8Array(360).map((_, i) => (i * 7) % 256),
  };

  it('sums scales and flips into max-normalised maps with absent classes zeroed', () => {
    const cams = multiScaleCam(image, [1, 0, 1], network);
    expect(cams.shape).toEqual([10, 12, 3]);
    const max = tf.max(cams, [0, 1]).dataSync();
    close(max, [1, 0, 1], 1e-4);
    expect(tf.min(cams).dataSync()[0]).toBeGreaterThanOrEqual(0);
    // With flips summed, a horizontally symmetric input gives a horizontally symmetric CAM.
    const sym = { ...image, data: new Uint8Array(360) };
    for (let y = 0; y < 10; y++)
      for (let x = 0; x < 12; x++)
        for (let c = 0; c < 3; c++)
          sym.data[3 * (y * 12 + x) + c] = (Math.min(x, 11 - x) * 20 + y * 5 + c) % 256;
    const s = multiScaleCam(sym, [1, 1, 1], network, { scales: [1, 0.5] });
    close(s.dataSync(), tf.reverse(s, 1).dataSync(), 1e-5);
    tf.dispose([cams, s]);
  });

  it('gives IRN-style strided and high-resolution maps', () => {
    const { strided, highRes } = irnMultiScaleCam(image, [0, 1, 0], network, { scales: [1, 0.5] });
    expect(strided.shape).toEqual([3, 3, 3]); // ceil(10/4) x ceil(12/4)
    expect(highRes.shape).toEqual([10, 12, 3]);
    close(tf.max(highRes, [0, 1]).dataSync(), [0, 1, 0], 1e-4);
    tf.dispose([strided, highRes]);
  });

  it('leaks no tensors and validates its inputs', async () => {
    await expectNoLeaks(() =>
      multiScaleCam(image, [1, 1, 1], network, { scales: [1, 0.5], resize: 'bilinear' }),
    );
    expect(() => multiScaleCam({ ...image, width: 5 }, [1], network)).toThrow(
      /image.data has 360 bytes, expected width\*height\*3/,
    );
  });
});

describe('Grad-CAM', () => {
  it('equals CAM / (h*w) for a GAP + linear classifier (the two coincide there)', () => {
    const head = new ClassifierHead(4, 3, { seed: 2 });
    const features = tf.relu(tf.randomNormal([1, 5, 6, 4], 0, 1, 'float32', 9)) as tf.Tensor4D;
    const g = gradCam(features, (f) => head.forward(f), 1);
    const cam = tf.relu(head.activationMaps(features)).slice([0, 0, 0, 1], [1, 5, 6, 1]).reshape([5, 6]);
    close(g.dataSync(), tf.div(cam, 30).dataSync(), 1e-6);
    expect(() => gradCam(features, (f) => head.forward(f), 3)).toThrow(/classIndex 3 is outside 0\.\.2/);
    head.dispose();
  });
});
