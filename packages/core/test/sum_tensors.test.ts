import { sumTensors, tf } from '@wsss/core';

describe('sumTensors', () => {
  it('equals addN for 1 to 40 tensors, with at most 7 inputs per AddN kernel, without leaking', async () => {
    for (const n of [1, 2, 7, 8, 15, 40]) {
      const tensors = Array.from({ length: n }, (_, i) => tf.tensor1d([i, 2 * i, -i]));
      const before = tf.memory().numTensors;
      let sum: tf.Tensor | undefined;
      const profile = await tf.profile(() => {
        sum = sumTensors(tensors);
        return sum;
      });
      expect(tf.memory().numTensors).toBe(before + 1);
      const total = (n * (n - 1)) / 2;
      expect(Array.from(sum!.dataSync())).toEqual([total, 2 * total, -total]);
      const addN = profile.kernels.filter((k) => k.name === 'AddN');
      // groups of 7 (a group of one needs no kernel), then one AddN of the group sums
      expect(addN.length).toBe({ 1: 0, 2: 1, 7: 1, 8: 2, 15: 3, 40: 7 }[n]);
      for (const kernel of addN) expect(kernel.inputShapes.length).toBeLessThanOrEqual(7);
      expect(sum).not.toBe(tensors[0]);
      tf.dispose([sum!, ...tensors]);
    }
    expect(() => sumTensors([])).toThrow(/must not be empty/);
  });

  it('passes gradients to every input', () => {
    const xs = Array.from({ length: 9 }, (_, i) => tf.scalar(i));
    const grads = tf.grads((...inputs: tf.Tensor[]) => tf.mul(sumTensors(inputs), 3) as tf.Scalar)(xs);
    expect(grads.map((g) => g.dataSync()[0])).toEqual(new Array(9).fill(3));
    tf.dispose([...xs, ...grads]);
  });
});
