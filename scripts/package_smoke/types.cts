// Type-checked (not run) as a CommonJS consumer (node16/nodenext).

import { tf } from '@wsss/core';
import { denseCrf } from '@wsss/crf';
import type { MeanFieldLabels } from './types_shared.js';

const t: tf.Tensor2D = tf.zeros([2, 3]).reshape([3, 2]); // chained ops keep their typings
const pending: Promise<MeanFieldLabels> = denseCrf(
  { width: 1, height: 1, data: new Uint8Array(3) },
  { probabilities: new Float32Array([0.5, 0.5]) },
);

export { pending, t };
