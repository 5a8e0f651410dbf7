/**
 * Run by wasm_heap.test.ts in a fresh process (WSSS_THREADS sets the wasm backend's threads; with 2 its memory is
 * shared and the centroid kernels run from their shared build): the triplet-centre loss and its gradient on wasm.
 * Prints one JSON line; the process must exit by itself.
 */
import { selectBackend, tf } from '@wsss/core';
import { tripletCenterLoss } from '../../src/index';

const selected = await selectBackend({ preference: 'wasm', log: null });
const x = tf.randomNormal([2, 5, 6, 16], 0, 1, 'float32', 1) as tf.Tensor4D;
const labels = tf.tensor3d(
  Int32Array.from({ length: 60 }, (_, i) => [0, 1, 2, 255][(i * 7) % 4]),
  [2, 5, 6],
  'int32',
);
const loss = (t: tf.Tensor) => tripletCenterLoss(t as tf.Tensor4D, labels, { negatives: 'all' });
const value = loss(x);
const grad = tf.grad(loss)(x);
console.log(
  JSON.stringify({
    threads: selected.threads,
    value: Array.from(await value.data()),
    grad: Array.from(await grad.data()),
  }),
);
