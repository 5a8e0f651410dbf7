/**
 * MobileNetV2 CAM throughput at 321x321 (psa's multi-scale + flip recipe: scales 1, 0.5, 1.5, 2, each with its
 * flip) and one fine-tuning step of the CAM classifier (batch 4, 321x321, output stride 16), wasm vs cpu in one run.
 * Each measurement runs in a child process with a time limit (`--limit` seconds, default 300): the cpu backend's
 * training step can take longer than anyone would wait, and is then reported as a lower bound.
 * Run: pnpm --filter @wsss/benchmarks bench:cam [--runs N] [--cpu-runs N] [--limit S]
 */
import { spawnSync } from 'node:child_process';
import { multiScaleCam } from '@wsss/cam';
import { Rng, selectBackend, tf } from '@wsss/core';
import { ClassifierHead, MobileNetV2, multilabelSoftMarginLoss, Optimizer } from '@wsss/models';
import { benchmarkArguments, benchmarkOption, markdownTable, ms, settle, type Timing, time } from './timing';

type Operation = 'cam' | 'step';

/** Measures one operation on one backend in this process; prints its Timing as JSON. */
async function measure(op: Operation, backend: 'wasm' | 'cpu', runs: number): Promise<Timing> {
  await selectBackend({ preference: backend, log: null });
  const net = new MobileNetV2({ outputStride: 16, seed: 1 });
  const head = new ClassifierHead(1280, 20, { seed: 1 });
  // The cpu backend is so slow that the untimed warm-up call is skipped there.
  const warmup = backend === 'cpu' ? 0 : 1;
  if (op === 'cam') {
    const rng = new Rng(1);
    const data = new Uint8Array(321 * 321 * 3).map(() => rng.int(0, 256));
    const image = { width: 321, height: 321, channels: 3 as const, data };
    const labels = new Uint8Array(20);
    labels[7] = 1;
    labels[14] = 1;
    const network = (x: tf.Tensor4D) => head.activationMaps(net.forward(x).features);
    return time(async () => settle([multiScaleCam(image, labels, network)]), runs, warmup);
  }
  const optimizer = new Optimizer(
    [{ variables: net.params.trainable() }, { variables: head.params.trainable(), lrMultiplier: 10 }],
    { kind: 'sgd', learningRate: 0.001 },
  );
  const x = tf.randomNormal([4, 321, 321, 3], 0, 1, 'float32', 2) as tf.Tensor4D;
  const y = tf.tensor2d(
    Array.from({ length: 80 }, (_, i) => (i % 7 === 0 ? 1 : 0)),
    [4, 20],
  );
  return time(
    async () => {
      optimizer.minimize(() => multilabelSoftMarginLoss(head.forward(net.forward(x).features), y));
    },
    runs,
    warmup,
  );
}

/** Runs `measure` in a child process, killed after `limitS` seconds (then `undefined`). */
function measureWithLimit(
  op: Operation,
  backend: 'wasm' | 'cpu',
  runs: number,
  limitS: number,
): Timing | undefined {
  const child = spawnSync(
    process.execPath,
    [...process.execArgv, process.argv[1], '--measure', op, backend, String(runs)],
    { encoding: 'utf8', timeout: limitS * 1000, maxBuffer: 1 << 20 },
  );
  const line = child.stdout?.split('\n').find((l) => l.startsWith('{'));
  return line ? (JSON.parse(line) as Timing) : undefined;
}

export async function benchCam(): Promise<string> {
  const runs = benchmarkOption('runs', 5);
  const cpuRuns = benchmarkOption('cpu-runs', 1);
  const limit = benchmarkOption('limit', 300);
  const rows: (string | number)[][] = [];
  for (const [op, label, perStep] of [
    ['cam', 'MobileNetV2 OS16 forward + multi-scale CAM (8 passes), 321x321', 1],
    ['step', 'fine-tuning step, batch 4, 321x321, OS16 (fwd + bwd + SGD)', 4],
  ] as const) {
    const wasm = measureWithLimit(op, 'wasm', runs, limit);
    const cpu = measureWithLimit(op, 'cpu', cpuRuns, limit);
    const rate = (t: Timing | undefined) =>
      t ? (perStep / (t.medianMs / 1000)).toFixed(3) : `< ${(perStep / limit).toFixed(3)}`;
    const speedup =
      wasm && cpu
        ? `${(cpu.medianMs / wasm.medianMs).toFixed(1)}x`
        : wasm
          ? `> ${((limit * 1000) / wasm.medianMs).toFixed(0)}x`
          : '?';
    rows.push([
      label,
      wasm ? ms(wasm) : `> ${limit * 1000}`,
      rate(wasm),
      cpu ? ms(cpu) : `> ${limit * 1000} (stopped)`,
      rate(cpu),
      speedup,
    ]);
  }
  return markdownTable(
    ['operation', 'wasm ms', 'wasm images/s', 'cpu ms', 'cpu images/s', 'wasm speed-up'],
    rows,
  );
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { values, positionals } = benchmarkArguments();
  if (values.measure) {
    const [op, backend, runs] = positionals;
    console.log(JSON.stringify(await measure(op as Operation, backend as 'wasm' | 'cpu', Number(runs))));
  } else {
    console.log(await benchCam());
  }
}
