/**
 * What the package smoke test runs against the installed tarballs, once loaded as ESM (esm.mjs) and once as CommonJS
 * (cjs.cjs): one real call into every package on the wasm backend. Throws on the first wrong result.
 */
module.exports = async function smoke(m, label) {
  const { core, datasets, models, cam, crf, affinity, labelReassign } = m;
  const { tf } = core;
  const check = (ok, what) => {
    if (!ok) throw new Error(`${label}: ${what}`);
  };
  const { name } = await core.selectBackend({ preference: 'wasm', log: null });
  check(name === 'wasm', `selectBackend gave ${name}`);

  // core: a strided slice on wasm (through our replacement kernel), PNG round trip through sharp, metrics
  const x = tf.tensor3d(
    Array.from({ length: 24 }, (_, i) => i),
    [2, 3, 4],
  );
  check(tf.slice(x, [0, 0, 1], [2, 2, 2]).dataSync().join() === '1,2,5,6,13,14,17,18', 'strided slice');
  const image = { width: 4, height: 2, channels: 3, data: Uint8Array.from({ length: 24 }, (_, i) => i * 10) };
  const decoded = await core.decodeImage(await core.encodePng(image));
  check(decoded.data.join() === image.data.join(), 'PNG round trip');
  const cm = new core.ConfusionMatrix(2);
  cm.update(Uint8Array.from([0, 1, 1, 0]), Uint8Array.from([0, 1, 0, 0]));
  check(Math.abs(cm.meanIoU() - (2 / 3 + 1 / 2) / 2) < 1e-6, 'ConfusionMatrix mIoU');

  // datasets + models + cam: a synthetic image through a small MobileNetV2 and its CAMs
  const data = datasets.createSyntheticDataset({ size: 2, seed: 1, height: 64, width: 64 });
  const sample = await data.get(0);
  const backbone = new models.MobileNetV2({ outputStride: 16, widthMultiplier: 0.35 });
  const head = new models.ClassifierHead(backbone.featureChannels, data.labelClasses.length);
  const cams = cam.multiScaleCam(
    sample.image,
    sample.labels,
    (t) => head.activationMaps(backbone.forward(t).features),
    {
      scales: [1],
    },
  );
  check(cams.shape.join() === `64,64,${data.labelClasses.length}`, `CAM shape ${cams.shape}`);

  // crf: on two worker threads (their script must be found inside the installed package)
  const probabilities = new Float32Array(2 * 64 * 64).map((_, i) => (i < 64 * 64 ? 0.6 : 0.4));
  const { labels } = await crf.denseCrf(sample.image, { probabilities }, 'psa', { threads: 2 });
  check(labels.length === 64 * 64, 'denseCrf labels');
  // crf on a worker thread of its own (it loads the installed package's CommonJS build)
  const background = await crf.BackgroundCrf.start();
  const queued = await background.crfOnScores(
    sample.image,
    { labelMajor: probabilities, classValues: [0, 1] },
    { numClasses: 2 },
  );
  await background.close();
  check(
    queued.labels.every((v, i) => v === labels[i]),
    'BackgroundCrf labels equal denseCrf',
  );

  // affinity: a random walk over psa's neighbourhood
  const pairs = affinity.pairIndices(8, 8, 3);
  const features = tf.randomNormal([1, 8, 8, 4], 0, 1, 'float32', 3);
  const pair = affinity.pairAffinity(features, pairs);
  const graph = new affinity.RandomWalkGraph(pair.dataSync(), pairs, 8);
  const walked = affinity.randomWalk(graph, new Float32Array(2 * 64).fill(0.5), 2);
  check(walked.scores.length === 128, 'randomWalk');

  // label-reassign: LR loss and its gradient
  const embeddings = tf.randomNormal([1, 4, 4, 8], 0, 1, 'float32', 5);
  const pseudo = tf.tensor3d(
    Int32Array.from({ length: 16 }, (_, i) => (i % 3 === 0 ? 1 : 0)),
    [1, 4, 4],
    'int32',
  );
  const grad = tf.grad((e) =>
    labelReassign.labelReassignLoss(e, pseudo, undefined, { confidence: 'uniform' }),
  );
  check(Number.isFinite(tf.sum(grad(embeddings)).dataSync()[0]), 'LR gradient');
  return `${label}: every package ran on ${name}`;
};
