/**
 * @wsss/affinity and @wsss/label-reassign on the shapes of ../shared/reference/peer-anchors.md, on the wasm backend,
 * against PyTorch 1.13 on one thread (same machine kind): pairwise affinity loss forward+backward [8,21,41,41]
 * (dilations 4/8/12/24 x 8 neighbours, per-class binary KL summed, hinge 3 - KL), cross-task affinity
 * forward+backward F[8,256,41,41], triplet-centre / LR forward+backward [8,512,41,41], and the random walk on
 * N = 56 x 56 = 3136 with a 21-channel CAM (psa's dense path: 3.2 s).
 * Run: pnpm --filter @wsss/benchmarks bench:affinity [--runs N]
 */
import {
  adaptiveAffinityLoss,
  CrossTaskAffinity,
  denseAffinityMatrix,
  pairAffinity,
  pairIndices,
  RandomWalkGraph,
  randomWalk,
  standardAffinityLoss,
} from '@wsss/affinity';
import { Rng, selectBackend, tf } from '@wsss/core';
import { labelReassignLoss, tripletCenterLoss } from '@wsss/label-reassign';
import { benchmarkOption, markdownTable, ms, type Timing, time } from './timing';

const PEERS_MS = {
  affinity: 128,
  crossTask: 843,
  tripletCentre: 214,
  randomWalkDense: 3154,
  randomWalkScipy: 806,
};

function labelMap(rng: Rng, b: number, h: number, w: number, classes: number): tf.Tensor3D {
  // blobs: a coarse random grid upsampled, like the argmax of upsampled noise in the peer benchmark
  const grid = Array.from({ length: b * 6 * 6 }, () => rng.int(0, classes));
  const data = new Int32Array(b * h * w);
  for (let n = 0; n < b; n++) {
    for (let y = 0; y < h; y++) {
      for (let x = 0; x < w; x++)
        data[(n * h + y) * w + x] = grid[(n * 6 + Math.floor((y * 6) / h)) * 6 + Math.floor((x * 6) / w)];
    }
  }
  return tf.tensor3d(data, [b, h, w], 'int32');
}

/** A table row: operation, our timing, the peer's ms and the speed-up. */
function row(operation: string, timing: Timing, peerMs: number): (string | number)[] {
  return [operation, ms(timing), peerMs, (peerMs / timing.medianMs).toFixed(2)];
}

async function lossTimings(runs: number): Promise<(string | number)[][]> {
  const rng = new Rng(1);
  const rows: (string | number)[][] = [];
  const grad = (f: (x: tf.Tensor) => tf.Scalar, x: tf.Tensor) => async () => {
    const g = tf.tidy(() => tf.grad(f)(x));
    await g.data();
    g.dispose();
  };
  const logits = tf.randomNormal([8, 41, 41, 21], 0, 1, 'float32', 1) as tf.Tensor4D;
  const labels = labelMap(rng, 8, 41, 41, 21);
  const sa = await time(
    grad((x) => standardAffinityLoss(tf.softmax(x) as tf.Tensor4D, labels, { divergence: 'binary' }), logits),
    runs,
  );
  rows.push(row('affinity loss SA (binary KL) fwd+bwd [8,21,41,41]', sa, PEERS_MS.affinity));
  const aa = await time(
    grad((x) => adaptiveAffinityLoss(tf.softmax(x) as tf.Tensor4D, labels, 'maxProbability'), logits),
    runs,
  );
  rows.push(row('affinity loss AA (categorical KL) fwd+bwd [8,21,41,41]', aa, PEERS_MS.affinity));

  const layer = new CrossTaskAffinity(256, { scale: 1 / 16, seed: 1 });
  const features = tf.randomNormal([8, 41, 41, 256], 0, 1, 'float32', 2) as tf.Tensor4D;
  const cam = tf.randomNormal([8, 41, 41, 21], 0, 1, 'float32', 3) as tf.Tensor4D;
  const sal = tf.randomNormal([8, 41, 41, 1], 0, 1, 'float32', 4) as tf.Tensor4D;
  const crossTask = await time(
    grad((f) => {
      const a = layer.taskAffinity(f as tf.Tensor4D, 'seg');
      return tf.add(
        tf.mean(tf.square(layer.refine(a, cam))),
        tf.mean(tf.square(layer.refine(a, sal))),
      ) as tf.Scalar;
    }, features),
    runs,
  );
  rows.push(
    row('task affinity + refine CAM[21], sal[1] fwd+bwd F[8,256,41,41]', crossTask, PEERS_MS.crossTask),
  );

  const embeddings = tf.randomNormal([8, 41, 41, 512], 0, 1, 'float32', 5) as tf.Tensor4D;
  const probabilities = tf.softmax(logits) as tf.Tensor4D;
  const tc = await time(
    grad((x) => tripletCenterLoss(x as tf.Tensor4D, labels), embeddings),
    runs,
  );
  rows.push(row('triplet-centre fwd+bwd [8,512,41,41]', tc, PEERS_MS.tripletCentre));
  const lr = await time(
    grad((x) => labelReassignLoss(x as tf.Tensor4D, labels, probabilities), embeddings),
    runs,
  );
  rows.push(row('label reassign (LR) fwd+bwd [8,512,41,41]', lr, PEERS_MS.tripletCentre));
  tf.dispose([logits, labels, features, cam, sal, embeddings, probabilities]);
  layer.params.variables.forEach((v) => {
    v.dispose();
  });
  return rows;
}

/** The dense reference v T^256 via 8 squarings of the 3136 x 3136 matrix on the active backend (one-off check). */
function denseArgmax(affinityMatrix: tf.Tensor2D, scores: tf.Tensor2D): Int32Array {
  return tf.tidy(() => {
    let t = tf.pow(affinityMatrix, 8);
    t = tf.div(t, tf.sum(t, 0, true));
    for (let s = 0; s < 8; s++) t = tf.matMul(t, t);
    return tf.argMax(tf.matMul(scores, t), 0).dataSync() as Int32Array;
  });
}

async function randomWalkTimings(runs: number): Promise<{ rows: (string | number)[][]; note: string }> {
  const pairs = pairIndices(56, 56, 5);
  const features = tf.tidy(
    () =>
      tf.avgPool(
        tf.randomNormal([1, 60, 60, 128], 0, 1, 'float32', 6) as tf.Tensor4D,
        5,
        1,
        'valid',
      ) as tf.Tensor4D,
  );
  const affinity = tf.tidy(() => pairAffinity(features, pairs).dataSync());
  const rng = new Rng(2);
  const scores = Float32Array.from({ length: 21 * 3136 }, () => rng.uniform());
  const argmax = (v: Float32Array) => {
    const out = new Int32Array(3136);
    for (let i = 0; i < 3136; i++)
      for (let c = 1; c < 21; c++) if (v[c * 3136 + i] > v[out[i] * 3136 + i]) out[i] = c;
    return out;
  };
  let full: Float32Array = new Float32Array();
  const exact = await time(async () => {
    full = randomWalk(new RandomWalkGraph(affinity, pairs), scores, 21, { tolerance: 0 }).scores;
  }, runs);
  let steps = 0;
  let early: Float32Array = new Float32Array();
  const stopped = await time(async () => {
    const r = randomWalk(new RandomWalkGraph(affinity, pairs), scores, 21);
    early = r.scores;
    steps = r.steps;
  }, runs);
  const dense = tf.tidy(() => {
    const a = Float32Array.from(denseAffinityMatrix(affinity, pairs));
    return denseArgmax(tf.tensor2d(a, [3136, 3136]), tf.tensor2d(scores, [21, 3136]));
  });
  const same = (x: Int32Array) => x.reduce((n, c, i) => n + (c === dense[i] ? 1 : 0), 0);
  const rows = [
    row('random walk, sparse, 256 steps, N=3136, 21 ch', exact, PEERS_MS.randomWalkDense),
    row(`random walk, sparse, early stop (${steps} steps)`, stopped, PEERS_MS.randomWalkDense),
  ];
  tf.dispose(features);
  return {
    rows,
    note: `argmax vs the dense path (8 squarings in float32 on this backend): 256 steps ${same(argmax(full))}/3136, early stop ${same(argmax(early))}/3136 pixels identical; scipy CSR on the same graph: ${PEERS_MS.randomWalkScipy} ms`,
  };
}

async function main(): Promise<void> {
  const runs = benchmarkOption('runs', 5);
  await selectBackend({ preference: 'wasm', log: null });
  const rows = await lossTimings(runs);
  const walk = await randomWalkTimings(runs);
  console.log(
    `wasm backend, median (min-max) of ${runs} runs after a warm-up, ms; peers: PyTorch 1 thread / psa dense RW\n`,
  );
  console.log(markdownTable(['operation', 'ours (wasm)', 'peer', 'speed-up'], [...rows, ...walk.rows]));
  console.log(`\n${walk.note}`);
}

await main();
