/**
 * The browser builds' code, run: bundled by package_smoke.mjs with `--platform=browser` (every package's `browser`
 * export condition, no Node built-in), then executed. Only cpu and pure-JavaScript paths, which Node can run as a
 * page would: the gradients come from tfjs-core itself (no @tensorflow/tfjs union), the CRF from its WebAssembly.
 */
import * as cam from '@wsss/cam';
import * as core from '@wsss/core';
import * as crf from '@wsss/crf';
import * as datasets from '@wsss/datasets';
import * as labelReassign from '@wsss/label-reassign';

const check = (ok, what) => {
  if (!ok) throw new Error(`browser build: ${what}`);
};
const { tf } = core;
const { name } = await core.selectBackend({ preference: 'cpu', log: null });
check(name === 'cpu', `selectBackend gave ${name}`);
// gradients and chained ops registered by the browser build of @wsss/core
const dx = tf.grad((x) => x.square().sum())(tf.tensor1d([1, 2, 3]));
check(dx.dataSync().join() === '2,4,6', `gradient of sum(x^2): ${dx.dataSync()}`);

const data = datasets.createSyntheticDataset({ size: 1, seed: 1, height: 32, width: 32 });
const sample = await data.get(0);
const png = await core.encodePng(sample.image);
check(png[1] === 0x50 && png[2] === 0x4e, 'encodePng (fast-png) writes a PNG');
const scores = tf.stack([tf.zeros([32, 32]), tf.ones([32, 32])], 2);
const labels = cam.camLabels(scores, [1, 2], null);
check(
  labels.data.every((v) => v === 2),
  'camLabels',
);
const probabilities = new Float32Array(2 * 32 * 32).map((_, i) => (i < 32 * 32 ? 0.7 : 0.3));
const result = await crf.denseCrf(sample.image, { probabilities }, 'psa');
check(result.labels.length === 32 * 32, 'denseCrf');
const refused = await crf.BackgroundCrf.start().then(
  () => false,
  (e) => /need Node\.js/.test(e.message),
);
check(refused, 'BackgroundCrf says it needs Node');
const embeddings = tf.randomNormal([1, 4, 4, 8], 0, 1, 'float32', 5);
const pseudo = tf.tensor3d(
  Int32Array.from({ length: 16 }, (_, i) => i % 2),
  [1, 4, 4],
  'int32',
);
const loss = labelReassign.labelReassignLoss(embeddings, pseudo, tf.softmax(tf.randomNormal([1, 4, 4, 2])));
check(Number.isFinite(loss.dataSync()[0]), 'labelReassignLoss');
console.log(`browser build ok: CRF labels ${result.labels.length}, LR loss ${loss.dataSync()[0].toFixed(4)}`);
