// ESM and CommonJS builds of @wsss/core in one process: wasm kernels must still reach tfjs-backend-wasm's own.
import { createRequire } from 'node:module';
import * as esm from '@wsss/core';

const cjs = createRequire(import.meta.url)('@wsss/core');
if (esm.selectBackend === cjs.selectBackend) throw new Error('expected two copies of @wsss/core');
const before = esm.tf.add(2, 3).dataSync()[0]; // before selectBackend: runs on cpu
await cjs.selectBackend({ preference: 'wasm', log: null });
const { tf } = esm;
const x = tf.tensor3d(
  Array.from({ length: 24 }, (_, i) => i),
  [2, 3, 4],
);
const strided = tf.slice(x, [0, 0, 1], [2, 2, 2]).dataSync().join();
const product = tf
  .matMul(x, tf.ones([2, 4, 2]))
  .dataSync()
  .join();
if (before !== 5 || strided !== '1,2,5,6,13,14,17,18' || product !== '6,6,22,22,38,38,54,54,70,70,86,86')
  throw new Error(`two builds: ${before} | ${strided} | ${product}`);
console.log('ESM + CJS builds of @wsss/core in one process: strided slice and batched matMul on wasm');
