import { interpolationMatrix, selectBackend, tf } from '@wsss/core';
import { expectGradientsMatch, expectNoLeaks } from '@wsss/core/testing';

describe('ResizeBilinear gradient (tfjs 4.22 ignores halfPixelCenters)', () => {
  afterAll(() => selectBackend({ preference: 'cpu', log: null }));

  const modes: [string, boolean, boolean][] = [
    ['half-pixel centres', false, true],
    ['align corners', true, false],
    ['plain', false, false],
  ];
  const sizes: [number, number, number, number][] = [
    [3, 4, 7, 6], // up
    [7, 6, 3, 4], // down
    [5, 5, 5, 9], // one axis only
  ];

  it.each(['cpu', 'wasm'] as const)(
    'equals finite differences in every mode, up and down (%s)',
    async (backend) => {
      await selectBackend({ preference: backend, log: null });
      for (const [, alignCorners, halfPixelCenters] of modes) {
        for (const [h, w, H, W] of sizes) {
          const x = tf.randomNormal([2, h, w, 3], 0, 1, 'float32', h * w) as tf.Tensor4D;
          const r = tf.randomNormal([2, H, W, 3], 0, 1, 'float32', H * W);
          const loss = (t: tf.Tensor) =>
            tf.sum(
              tf.mul(tf.image.resizeBilinear(t as tf.Tensor4D, [H, W], alignCorners, halfPixelCenters), r),
            ) as tf.Scalar;
          // the resize is linear: central differences are exact up to float rounding
          expectGradientsMatch(loss, x, { eps: 1e-2, tolerance: 1e-3 });
          tf.dispose([x, r]);
        }
      }
      const x = tf.ones([1, 4, 4, 2]) as tf.Tensor4D;
      await expectNoLeaks(() =>
        tf.tidy(() =>
          tf.grad((t) => tf.sum(tf.image.resizeBilinear(t as tf.Tensor4D, [9, 7], false, true)))(x),
        ),
      );
      x.dispose();
    },
  );

  it('builds the forward interpolation: each row of R sums to 1, and R x equals the resize', () => {
    const R = interpolationMatrix(4, 7, false, true);
    for (let o = 0; o < 7; o++)
      expect(R.slice(o * 4, o * 4 + 4).reduce((a, b) => a + b, 0)).toBeCloseTo(1, 6);
    const x = [1, 5, -2, 3];
    const resized = tf.image.resizeBilinear(tf.tensor4d(x, [1, 1, 4, 1]), [1, 7], false, true).dataSync();
    for (let o = 0; o < 7; o++) {
      const v = x.reduce((s, xi, i) => s + R[o * 4 + i] * xi, 0);
      expect(resized[o]).toBeCloseTo(v, 5);
    }
  });
});
