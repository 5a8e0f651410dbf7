import { AffinityNetHead, pairAffinity, pairIndices } from '@wsss/affinity';
import { tf } from '@wsss/core';
import { expectGradientsMatch, expectNoLeaks } from '@wsss/core/testing';

const elu = (x: number) => (x > 0 ? x : Math.exp(x) - 1);

describe('AffinityNetHead', () => {
  it('computes elu(W_out [elu(W_k x_k + b_k)]_k + b_out) by hand at one pixel', () => {
    const head = new AffinityNetHead([2, 1], { levelChannels: [1, 1], outChannels: 1 });
    head.params.get('level_0/kernel').assign(tf.tensor4d([0.5, -1], [1, 1, 2, 1]));
    head.params.get('level_0/bias').assign(tf.tensor1d([0.1]));
    head.params.get('level_1/kernel').assign(tf.tensor4d([2], [1, 1, 1, 1]));
    head.params.get('level_1/bias').assign(tf.tensor1d([0]));
    head.params.get('out/kernel').assign(tf.tensor4d([1, -0.5], [1, 1, 2, 1]));
    head.params.get('out/bias').assign(tf.tensor1d([0.2]));
    const x0 = tf.tensor4d([1, 2], [1, 1, 1, 2]);
    const x1 = tf.tensor4d([-0.3], [1, 1, 1, 1]);
    const out = head.forward([x0, x1]);
    const l0 = elu(0.5 * 1 - 1 * 2 + 0.1);
    const l1 = elu(2 * -0.3);
    expect(out.shape).toEqual([1, 1, 1, 1]);
    expect(out.dataSync()[0]).toBeCloseTo(elu(l0 - 0.5 * l1 + 0.2), 6);
    tf.dispose([x0, x1, out]);
    head.dispose();
  });

  it('resizes every level to the first one and initialises as psa (He, Xavier gain 4)', () => {
    const head = new AffinityNetHead([32, 96, 320], { seed: 3 });
    expect(head.levelChannels).toEqual([64, 128, 256]);
    expect(head.outChannels).toBe(448);
    const std = (name: string) =>
      tf.tidy(() => tf.moments(head.params.get(name)).variance.sqrt().dataSync()[0]);
    expect(std('level_2/kernel')).toBeCloseTo(Math.sqrt(2 / 320), 2);
    expect(std('out/kernel') / (4 * Math.sqrt(2 / (448 + 448)))).toBeCloseTo(1, 1);
    const levels = [
      tf.randomNormal([2, 12, 10, 32]),
      tf.randomNormal([2, 6, 5, 96]),
      tf.randomNormal([2, 6, 5, 320]),
    ];
    const out = head.forward(levels as tf.Tensor4D[]);
    expect(out.shape).toEqual([2, 12, 10, 448]);
    tf.dispose([...levels, out]);
    expect(() => head.forward([tf.zeros([1, 4, 4, 32]) as tf.Tensor4D])).toThrow(
      /3 levels .* C = 32, 96, 320/,
    );
    head.dispose();
  });

  it('gives affinity gradients that match finite differences, without leaks', async () => {
    const head = new AffinityNetHead([3], { levelChannels: [4], outChannels: 4, seed: 1 });
    const pairs = pairIndices(6, 6, 3);
    const x = tf.randomNormal([1, 6, 6, 3], 0, 1, 'float32', 5) as tf.Tensor4D;
    const weights = tf.randomUniform([1, pairs.offsets.length, pairs.from.length], 0, 1, 'float32', 6);
    const loss = (input: tf.Tensor) =>
      tf.sum(tf.mul(pairAffinity(head.forward([input as tf.Tensor4D]), pairs), weights)) as tf.Scalar;
    // |f_i - f_j| has kinks: a small step keeps finite differences off them
    expectGradientsMatch(loss, x, { eps: 2e-3, tolerance: 1e-2 });
    const kernel = head.params.get('out/kernel');
    const grad = tf.tidy(
      () =>
        tf
          .variableGrads(() => loss(x), [kernel])
          .grads[kernel.name].abs()
          .sum()
          .dataSync()[0],
    );
    expect(grad).toBeGreaterThan(0);
    await expectNoLeaks(() => tf.tidy(() => loss(x)));
    tf.dispose([x, weights]);
    head.dispose();
  });
});
