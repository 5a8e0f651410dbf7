import { execFileSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Rng, selectBackend, tf } from '@wsss/core';
import { expectNoLeaks, relativeError } from '@wsss/core/testing';
import { centroidCosineSimilarity, labelReassignLoss, tripletCenterLoss } from '@wsss/label-reassign';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '../../..');

afterAll(() => selectBackend({ preference: 'cpu', log: null }));

const rng = new Rng('heap-similarity');
const values = (n: number) => Float32Array.from({ length: n }, () => rng.normal());

/** The value of `f` at x [shape] and its gradient, flattened, on `backend`. */
async function valueAndGradient(
  backend: 'cpu' | 'wasm',
  x: Float32Array,
  shape: number[],
  f: (t: tf.Tensor) => tf.Tensor,
): Promise<Float32Array[]> {
  await selectBackend({ preference: backend, log: null });
  return tf.tidy(() => {
    const t = tf.tensor(x, shape);
    const y = f(t);
    const cotangent = tf.randomNormal(y.shape, 0, 1, 'float32', 7);
    const g = tf.grad((u: tf.Tensor) => tf.sum(tf.mul(f(u), cotangent)))(t);
    return [y, g].map((r) => r.dataSync() as Float32Array);
  });
}

describe('centroid similarities on the wasm backend heap (no copies), equal to cpu', () => {
  it.each([
    ['D 12: on the heap', 12],
    ['D 6: not a multiple of 4, in a memory of its own', 6],
  ])('%s, two groups: value and gradient', async (_name, d) => {
    const [n, k, groups] = [40, 3, 2];
    const x = values(n * d);
    const weights = Float32Array.from({ length: n * k }, (_, i) => ((i * 5) % 7 === 0 ? 0 : (i % 3) + 0.5));
    const f = (t: tf.Tensor) => centroidCosineSimilarity(t as tf.Tensor2D, weights, k, { groups });
    const cpu = await valueAndGradient('cpu', x, [n, d], f);
    // the heap path reads nothing back but the results: count the [N, D] tensors read
    const original = tf.Tensor.prototype.dataSync;
    let readBack = 0;
    tf.Tensor.prototype.dataSync = function (this: tf.Tensor) {
      if (this.size === n * d) readBack++;
      return original.call(this);
    } as typeof original;
    let wasm: Float32Array[];
    try {
      wasm = await valueAndGradient('wasm', x, [n, d], f);
    } finally {
      tf.Tensor.prototype.dataSync = original;
    }
    // the gradient, at the end; in a memory of its own also the embeddings, once per forward pass (2)
    expect(readBack).toBe(d % 4 === 0 ? 1 : 3);
    for (let i = 0; i < cpu.length; i++) expect(relativeError(wasm[i], cpu[i])).toBeLessThan(1e-5);
  });

  it('the triplet-centre and LR losses and their gradients equal cpu, without leaks', async () => {
    const shape = [2, 6, 5, 16];
    const x = values(2 * 6 * 5 * 16);
    const labels = Int32Array.from({ length: 60 }, (_, i) => [0, 1, 2, 255, 4][(i * 7) % 5]);
    const probs = values(60 * 5);
    const losses = {
      triplet: (t: tf.Tensor) => tripletCenterLoss(t as tf.Tensor4D, tf.tensor3d(labels, [2, 6, 5], 'int32')),
      lr: (t: tf.Tensor) =>
        labelReassignLoss(
          t as tf.Tensor4D,
          tf.tensor3d(labels, [2, 6, 5], 'int32'),
          tf.softmax(tf.tensor4d(probs, [2, 6, 5, 5])) as tf.Tensor4D,
        ),
    };
    for (const f of Object.values(losses)) {
      const cpu = await valueAndGradient('cpu', x, shape, f);
      const wasm = await valueAndGradient('wasm', x, shape, f);
      for (let i = 0; i < cpu.length; i++) expect(relativeError(wasm[i], cpu[i])).toBeLessThan(1e-5);
      const t = tf.tensor(x, shape);
      await expectNoLeaks(() => tf.tidy(() => tf.grad((u: tf.Tensor) => f(u) as tf.Scalar)(t)));
      t.dispose();
    }
  });

  it('gives the same on a threaded backend (shared memory, the kernels shared build) as on one thread', () => {
    const run = (threads: string) =>
      JSON.parse(
        execFileSync(
          process.execPath,
          [join(root, 'node_modules/tsx/dist/cli.mjs'), join(here, 'processes', 'heap_similarity.ts')],
          {
            cwd: root,
            encoding: 'utf8',
            timeout: 120000,
            stdio: ['ignore', 'pipe', 'pipe'],
            env: { ...process.env, WSSS_THREADS: threads, WSSS_BACKEND: '' },
          },
        )
          .trim()
          .split('\n')
          .pop() ?? '{}',
      );
    const [one, two] = [run('1'), run('2')];
    expect([one.threads, two.threads]).toEqual([1, 2]);
    expect(two.value).toEqual(one.value);
    expect(two.grad).toEqual(one.grad);
    expect(one.grad.some((v: number) => v !== 0)).toBe(true);
  }, 120_000);
});
