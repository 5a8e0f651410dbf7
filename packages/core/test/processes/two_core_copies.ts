/**
 * Run by fresh_process.test.ts in a fresh process: loads @wsss/core twice, once as ESM and once as CommonJS (as a
 * process does that mixes `import` and `require`, or a bundler that includes the package twice), then runs a strided
 * Slice and a small batched MatMul on wasm, which pass through our replacement kernels to tfjs-backend-wasm's own.
 * Prints one JSON line.
 */
import { createRequire } from 'node:module';
import * as esm from '../../src/index';

const cjs = createRequire(import.meta.url)('../../src/index.ts') as typeof esm;
await esm.selectBackend({ preference: 'wasm', log: null });
cjs.registerWasmTrainingKernels(); // the second copy registering again must not wrap the first copy's kernels
const { tf } = esm;
const x = tf.tensor3d(
  Array.from({ length: 24 }, (_, i) => i),
  [2, 3, 4],
);
const strided = Array.from(tf.slice(x, [0, 0, 1], [2, 2, 2]).dataSync());
const product = Array.from(tf.matMul(x, tf.ones([2, 4, 2])).dataSync());
console.log(
  JSON.stringify({
    copies: esm.selectBackend !== cjs.selectBackend,
    backend: tf.getBackend(),
    strided,
    product,
  }),
);
