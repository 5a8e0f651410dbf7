import { RELU6_BACKPROP, Rng, relu6Backprop, selectBackend, tf } from '@wsss/core';
import { expectNoLeaks } from '@wsss/core/testing';

describe('ReLU6 gradient (one kernel on cpu and wasm, tf ops elsewhere)', () => {
  afterAll(async () => {
    await selectBackend({ preference: 'cpu', log: null });
  });

  // the boundaries: the gradient passes for 0 < x <= 6 (tfjs-core's own rule), not at 0 and not above 6
  const x = [-1, 0, 1e-7, 0.5, 5.999, 6, 6.000001, 7, -0, 3];
  const dy = [1, 2, 3, 4, 5, 6, 7, 8, 9, -10];
  const expected = [0, 0, 3, 4, 5, 6, 0, 0, 0, -10];

  it.each(['cpu', 'wasm'] as const)('passes dy where 0 < x <= 6 on %s, as the kernel', async (backend) => {
    await selectBackend({ preference: backend, log: null });
    expect(tf.getKernel(RELU6_BACKPROP, backend)).toBeDefined();
    const g = tf.grad((t: tf.Tensor) => tf.sum(tf.mul(tf.relu6(t), tf.tensor1d(dy))))(tf.tensor1d(x));
    expect(Array.from(g.dataSync())).toEqual(expected);
    const direct = relu6Backprop(tf.tensor1d(dy), tf.tensor1d(x));
    expect(Array.from(direct.dataSync())).toEqual(expected);
    tf.dispose([g, direct]);
  });

  it('equals tfjs-core rule on random tensors (vector and remainder lanes) on wasm and cpu, without leaks', async () => {
    const rng = new Rng('relu6');
    const shape = [3, 5, 7, 11];
    const size = shape.reduce((a, b) => a * b, 1);
    const xs = Float32Array.from({ length: size }, () => 4 * rng.normal() + 3);
    const dys = Float32Array.from({ length: size }, () => rng.normal());
    const rule = xs.map((v, i) => (v > 0 && v <= 6 ? dys[i] : 0));
    for (const backend of ['cpu', 'wasm'] as const) {
      await selectBackend({ preference: backend, log: null });
      const a = tf.tensor(xs, shape);
      const b = tf.tensor(dys, shape);
      const g = tf.grad((t: tf.Tensor) => tf.sum(tf.mul(tf.relu6(t), b)))(a);
      expect(g.shape).toEqual(shape);
      expect(Array.from(g.dataSync())).toEqual(Array.from(rule));
      await expectNoLeaks(() => tf.tidy(() => tf.grad((t: tf.Tensor) => tf.sum(tf.relu6(t)))(a)));
      tf.dispose([a, b, g]);
    }
  });

  it('uses tf ops on a backend without the kernel', async () => {
    await selectBackend({ preference: 'cpu', log: null });
    const kernel = tf.getKernel(RELU6_BACKPROP, 'cpu');
    tf.unregisterKernel(RELU6_BACKPROP, 'cpu');
    try {
      const g = relu6Backprop(tf.tensor1d(dy), tf.tensor1d(x));
      expect(Array.from(g.dataSync())).toEqual(expected);
      g.dispose();
    } finally {
      if (kernel) tf.registerKernel(kernel);
    }
  });
});
