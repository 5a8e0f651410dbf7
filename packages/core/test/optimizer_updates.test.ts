import {
  ADAM_UPDATE,
  adamUpdate,
  Rng,
  SGD_MOMENTUM_UPDATE,
  selectBackend,
  sgdMomentumUpdate,
  tf,
} from '@wsss/core';
import { expectNoLeaks } from '@wsss/core/testing';

afterAll(() => selectBackend({ preference: 'cpu', log: null }));

function expectClose(actual: number[], expected: number[], digits: number): void {
  expect(actual).toHaveLength(expected.length);
  for (let i = 0; i < expected.length; i++) expect(actual[i]).toBeCloseTo(expected[i], digits);
}

/** Runs `update` with the kernels of `backend`, or (`ops`) on cpu without them: the tf ops every other backend runs. */
async function withKernels<T>(backend: 'cpu' | 'wasm' | 'ops', update: () => T): Promise<T> {
  await selectBackend({ preference: backend === 'ops' ? 'cpu' : backend, log: null });
  if (backend !== 'ops') return update();
  const kernels = [SGD_MOMENTUM_UPDATE, ADAM_UPDATE].map((name) => tf.getKernel(name, 'cpu'));
  for (const k of kernels) if (k) tf.unregisterKernel(k.kernelName, 'cpu');
  try {
    return update();
  } finally {
    for (const k of kernels) if (k) tf.registerKernel(k);
  }
}

describe('sgdMomentumUpdate: one kernel per variable', () => {
  // hand-computed: g' = g + 0.5 w = [1.5, -1, 2.25]; v' = 0.9 v + g' = [2.4, -1.9, 2.25]; w' = w - 0.1 v'
  const w = [1, -2, 0.5];
  const v = [1, -1, 0];
  const g = [1, 0, 2];
  it.each(['cpu', 'wasm', 'ops'] as const)('hand-computed step on %s', async (backend) => {
    const out = await withKernels(backend, () => {
      const r = sgdMomentumUpdate(tf.tensor1d(w), tf.tensor1d(v), tf.tensor1d(g), {
        learningRate: 0.1,
        momentum: 0.9,
        weightDecay: 0.5,
      });
      return [Array.from(r.weight.dataSync()), Array.from(r.velocity.dataSync())];
    });
    expectClose(out[1], [2.4, -1.9, 2.25], 6);
    expectClose(out[0], [0.76, -1.81, 0.275], 6);
  });
});

describe('adamUpdate: one kernel per variable', () => {
  it.each(['cpu', 'wasm', 'ops'] as const)('hand-computed first step on %s', async (backend) => {
    // step 1 from zero moments: m' = 0.1 g, s' = 0.001 g², m'/(1-0.9) = g, s'/(1-0.999) = g², w' = w - lr g/(|g|+eps)
    const out = await withKernels(backend, () => {
      const r = adamUpdate(tf.tensor1d([1, 2]), tf.zeros([2]), tf.zeros([2]), tf.tensor1d([0.5, -4]), {
        learningRate: 0.01,
        beta1: 0.9,
        beta2: 0.999,
        epsilon: 1e-8,
        step: 1,
      });
      return [r.weight, r.m, r.s].map((t) => Array.from(t.dataSync()));
    });
    expectClose(out[0], [0.99, 2.01], 6);
    expectClose(out[1], [0.05, -0.4], 7);
    expectClose(out[2], [0.00025, 0.016], 7);
  });
});

describe('optimiser updates on random tensors', () => {
  const rng = new Rng('optimizer-updates');
  const n = 1003; // vector lanes and a scalar remainder
  const data = () => Float32Array.from({ length: n }, () => rng.normal());
  const [w, a, b, g] = [data(), data(), data().map(Math.abs), data()];

  it('cpu, wasm and the tf ops agree (SGD exactly on cpu; rel. error < 1e-6 otherwise) over three steps', async () => {
    const run = async (backend: 'cpu' | 'wasm' | 'ops') =>
      withKernels(backend, () => {
        let weight: tf.Tensor = tf.tensor1d(w);
        let velocity: tf.Tensor = tf.tensor1d(a);
        let [m, s]: tf.Tensor[] = [tf.tensor1d(a), tf.tensor1d(b)];
        let adamWeight: tf.Tensor = tf.tensor1d(w);
        const gradient = tf.tensor1d(g);
        for (let step = 1; step <= 3; step++) {
          const sgd = sgdMomentumUpdate(weight, velocity, gradient, {
            learningRate: 0.05,
            momentum: 0.9,
            weightDecay: 5e-4,
          });
          const adam = adamUpdate(adamWeight, m, s, gradient, {
            learningRate: 1e-3,
            beta1: 0.9,
            beta2: 0.999,
            epsilon: 1e-8,
            weightDecay: 1e-5,
            step,
          });
          tf.dispose([weight, velocity, adamWeight, m, s]);
          [weight, velocity, adamWeight, m, s] = [sgd.weight, sgd.velocity, adam.weight, adam.m, adam.s];
        }
        const out = [weight, velocity, adamWeight, m, s].map((t) => t.dataSync() as Float32Array);
        tf.dispose([weight, velocity, adamWeight, m, s, gradient]);
        return out;
      });
    const [cpu, wasm, ops] = [await run('cpu'), await run('wasm'), await run('ops')];
    expect(Array.from(cpu[0])).toEqual(Array.from(ops[0]));
    expect(Array.from(cpu[1])).toEqual(Array.from(ops[1]));
    for (const other of [wasm, ops]) {
      for (let k = 0; k < cpu.length; k++) {
        for (let i = 0; i < n; i++) {
          expect(Math.abs(other[k][i] - cpu[k][i])).toBeLessThanOrEqual(
            1e-6 * Math.max(1, Math.abs(cpu[k][i])),
          );
        }
      }
    }
  });

  it('leaves no tensors behind on wasm', async () => {
    await selectBackend({ preference: 'wasm', log: null });
    const [x, y, z] = [tf.tensor1d(w), tf.tensor1d(a), tf.tensor1d(g)];
    await expectNoLeaks(() => {
      const r = sgdMomentumUpdate(x, y, z, { learningRate: 0.1, momentum: 0.9 });
      tf.dispose([r.weight, r.velocity]);
      const s = tf.abs(y);
      const q = adamUpdate(x, y, s, z, {
        learningRate: 0.1,
        beta1: 0.9,
        beta2: 0.99,
        epsilon: 1e-8,
        step: 2,
      });
      tf.dispose([q.weight, q.m, q.s, s]);
    });
    tf.dispose([x, y, z]);
  });

  it('says what is wrong with its arguments', async () => {
    await selectBackend({ preference: 'cpu', log: null });
    const opts = { learningRate: 0.1, momentum: 0.9 };
    expect(() => sgdMomentumUpdate(tf.zeros([2, 3]), tf.zeros([3, 2]), tf.zeros([2, 3]), opts)).toThrow(
      /velocity must have the shape of weight \[2,3\], got \[3,2\]/,
    );
    expect(() => sgdMomentumUpdate(tf.zeros([2]), tf.zeros([2]), tf.zeros([2], 'int32'), opts)).toThrow(
      /gradient must be float32, got int32/,
    );
    const adam = { learningRate: 0.1, beta1: 0.9, beta2: 0.99, epsilon: 1e-8, step: 0 };
    expect(() => adamUpdate(tf.zeros([2]), tf.zeros([2]), tf.zeros([2]), tf.zeros([2]), adam)).toThrow(
      /step must be an integer >= 1, got 0/,
    );
  });
});
