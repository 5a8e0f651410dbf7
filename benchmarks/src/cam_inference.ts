/**
 * MobileNetV2 CAM throughput at 321x321 (psa's multi-scale + flip recipe: scales 1, 0.5, 1.5, 2, each with its
 * flip) and one fine-tuning step of the CAM classifier (batch 4, 321x321, output stride 16), wasm vs cpu in one run.
 * Run: pnpm --filter @wsss/benchmarks bench:cam [--runs N] [--cpu-runs N]
 */
import { multiScaleCam } from '@wsss/cam';
import { Rng, selectBackend, tf } from '@wsss/core';
import { ClassifierHead, MobileNetV2, multilabelSoftMarginLoss, Optimizer } from '@wsss/models';
import { argValue, markdownTable, ms, settle, type Timing, time } from './timing';

export async function benchCam(): Promise<string> {
  const runs = argValue('--runs', 5);
  const cpuRuns = argValue('--cpu-runs', 1);
  const rng = new Rng(1);
  const image = {
    width: 321,
    height: 321,
    channels: 3 as const,
    data: new Uint8Array(321 * 321 * 3).map(() => rng.int(0, 256)),
  };
  const labels = new Uint8Array(20);
  labels[7] = 1;
  labels[14] = 1;
  const rows: (string | number)[][] = [];
  const results: Record<string, Record<string, Timing>> = { cam: {}, step: {} };
  for (const backend of ['wasm', 'cpu'] as const) {
    await selectBackend({ preference: backend, log: null });
    const net = new MobileNetV2({ outputStride: 16, seed: 1 });
    const head = new ClassifierHead(1280, 20, { seed: 1 });
    const network = (x: tf.Tensor4D) => head.activationMaps(net.forward(x).features);
    const n = backend === 'cpu' ? cpuRuns : runs;
    // The cpu backend is so slow that one untimed warm-up call per operation is skipped there.
    const warmup = backend === 'cpu' ? 0 : 1;
    results.cam[backend] = await time(async () => settle([multiScaleCam(image, labels, network)]), n, warmup);
    const optimizer = new Optimizer(
      [{ variables: net.params.trainable() }, { variables: head.params.trainable(), lrMultiplier: 10 }],
      { kind: 'sgd', learningRate: 0.001 },
    );
    const x = tf.randomNormal([4, 321, 321, 3], 0, 1, 'float32', 2) as tf.Tensor4D;
    const y = tf.tensor2d(
      Array.from({ length: 80 }, (_, i) => (i % 7 === 0 ? 1 : 0)),
      [4, 20],
    );
    results.step[backend] = await time(
      async () => {
        optimizer.minimize(() => multilabelSoftMarginLoss(head.forward(net.forward(x).features), y));
      },
      n,
      warmup,
    );
    tf.dispose([x, y]);
    optimizer.dispose();
    net.dispose();
    head.dispose();
  }
  for (const [key, label, perImage] of [
    ['cam', 'MobileNetV2 OS16 forward + multi-scale CAM (8 passes), 321x321', 1],
    ['step', 'fine-tuning step, batch 4, 321x321, OS16 (fwd + bwd + SGD)', 4],
  ] as const) {
    const { wasm, cpu } = results[key];
    rows.push([
      label,
      ms(wasm),
      (perImage / (wasm.medianMs / 1000)).toFixed(2),
      ms(cpu),
      (perImage / (cpu.medianMs / 1000)).toFixed(3),
      `${(cpu.medianMs / wasm.medianMs).toFixed(1)}x`,
    ]);
  }
  return markdownTable(
    ['operation', 'wasm ms', 'wasm images/s', 'cpu ms', 'cpu images/s', 'wasm speed-up'],
    rows,
  );
}

if (import.meta.url === `file://${process.argv[1]}`) {
  console.log(await benchCam());
}
