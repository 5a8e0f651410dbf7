import { Rng, SOFTMAX_BACKPROP, selectBackend, softmaxBackprop, tf } from '@wsss/core';
import { expectGradientsMatch, expectNoLeaks, relativeError } from '@wsss/core/testing';

afterAll(() => selectBackend({ preference: 'cpu', log: null }));

describe('softmax gradient (one kernel on cpu and wasm, tf ops elsewhere)', () => {
  // y = softmax([0, ln 2]) = [1/3, 2/3]; dy = [1, 0]: sum(dy y) = 1/3, dx = y (dy - 1/3) = [2/9, -2/9]
  it.each(['cpu', 'wasm'] as const)(
    'hand-computed case on %s, through tf.grad and as the kernel',
    async (backend) => {
      await selectBackend({ preference: backend, log: null });
      expect(tf.getKernel(SOFTMAX_BACKPROP, backend)).toBeDefined();
      const g = tf.grad((t: tf.Tensor) => tf.sum(tf.mul(tf.softmax(t), tf.tensor1d([1, 0]))))(
        tf.tensor1d([0, Math.LN2]),
      );
      const direct = softmaxBackprop(tf.tensor1d([1, 0]), tf.tensor1d([1 / 3, 2 / 3]));
      for (const t of [g, direct]) {
        const [a, b] = Array.from(t.dataSync());
        expect(a).toBeCloseTo(2 / 9, 6);
        expect(b).toBeCloseTo(-2 / 9, 6);
      }
      tf.dispose([g, direct]);
    },
  );

  it('wasm, cpu and the tf ops agree on random [3, 5, 37] tensors (vector and remainder lanes), without leaks', async () => {
    const rng = new Rng('softmax-gradient');
    const shape = [3, 5, 37];
    const size = shape.reduce((a, b) => a * b, 1);
    const logits = Float32Array.from({ length: size }, () => 3 * rng.normal());
    const dys = Float32Array.from({ length: size }, () => rng.normal());
    const gradient = () =>
      tf.tidy(() =>
        tf.grad((t: tf.Tensor) => tf.sum(tf.mul(tf.softmax(t), tf.tensor(dys, shape))))(
          tf.tensor(logits, shape),
        ),
      );
    await selectBackend({ preference: 'cpu', log: null });
    const cpu = gradient().dataSync() as Float32Array;
    const kernel = tf.getKernel(SOFTMAX_BACKPROP, 'cpu');
    tf.unregisterKernel(SOFTMAX_BACKPROP, 'cpu');
    let ops: Float32Array;
    try {
      ops = gradient().dataSync() as Float32Array;
    } finally {
      if (kernel) tf.registerKernel(kernel);
    }
    await selectBackend({ preference: 'wasm', log: null });
    const wasm = gradient().dataSync() as Float32Array;
    expect(relativeError(ops, cpu)).toBeLessThan(1e-6);
    expect(relativeError(wasm, cpu)).toBeLessThan(1e-5);
    await expectNoLeaks(() => gradient());
  });

  it('matches finite differences', async () => {
    await selectBackend({ preference: 'cpu', log: null });
    const c = tf.tensor2d([0.3, -1, 2, 0.5, 1, 0, -2, 1.5], [2, 4]);
    expectGradientsMatch(
      (t) => tf.sum(tf.mul(tf.softmax(t), c)),
      tf.tensor2d([0.1, 0.5, -0.3, 1, 2, -1, 0, 0.2], [2, 4]),
      {
        eps: 1e-3,
      },
    );
    c.dispose();
  });
});
