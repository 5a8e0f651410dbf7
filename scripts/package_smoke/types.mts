// Type-checked (not run) as an ESM consumer: node16/nodenext and bundler resolution.

import { crfScores } from '@wsss/cam';
import { selectBackend, tf } from '@wsss/core';
import { crfOnScores, DenseCrf } from '@wsss/crf';
import { labelReassignLoss } from '@wsss/label-reassign';
import { MobileNetV2 } from '@wsss/models';
import type { MeanFieldLabels } from './types_shared.js';

await selectBackend();
const t: tf.Tensor2D = tf.zeros([2, 3]).reshape([3, 2]); // chained ops keep their typings
const net = new MobileNetV2({ outputStride: 16 });
const features: tf.Tensor4D = net.forward(tf.zeros([1, 32, 32, 3]) as tf.Tensor4D).features;
const scores = crfScores(features.squeeze([0]) as tf.Tensor3D, [1], [1], 4);
const result: MeanFieldLabels = await crfOnScores({ width: 2, height: 1, data: new Uint8Array(6) }, scores);
const crf: DenseCrf = new DenseCrf(2, 2, 2);
const loss: tf.Scalar = labelReassignLoss(features, tf.zeros([1, 2, 2], 'int32') as tf.Tensor3D, undefined);

export { crf, loss, result, t };
