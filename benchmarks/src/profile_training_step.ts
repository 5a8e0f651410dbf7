/**
 * Where a MobileNetV2 training step spends its time on wasm (issue: training speed, "profile first"): one step of
 * the classifier (MobileNetV2 width 1 + 1x1 head, multilabel loss, forward + backward, gradients read back), batch 8
 * at 128x128, output stride 32 and 16, profiled with tf.profile after a warm-up; prints the kernels by total time
 * (calls, ms, share) and the step's wall time.
 * Run: pnpm --filter @wsss/benchmarks bench:profile-training [--runs N]
 */

import { enableRelaxedSimdOnNode20 } from '@wsss/cli';
import { classifierTrainingStep } from '@wsss/cli/bench';
import { selectBackend, tf } from '@wsss/core';
import { ClassifierHead, MobileNetV2 } from '@wsss/models';
import { benchmarkOption, markdownTable } from './timing';

const runs = benchmarkOption('runs', 3);
enableRelaxedSimdOnNode20(); // as the wsss command does
const { relaxedSimd } = await selectBackend({ preference: 'wasm', log: null });

for (const outputStride of [32, 16] as const) {
  const backbone = new MobileNetV2({ outputStride, widthMultiplier: 1, seed: 1 });
  const head = new ClassifierHead(backbone.featureChannels, 20, { seed: 2 });
  const images = tf.randomUniform([8, 128, 128, 3], -1, 1, 'float32', 3) as tf.Tensor4D;
  const labels = tf.tidy(() =>
    tf.cast(tf.greater(tf.randomUniform([8, 20], 0, 1, 'float32', 4), 0.8), 'float32'),
  );
  const step = classifierTrainingStep(backbone, head, images, labels as tf.Tensor2D);
  await step(); // warm-up
  const totals = new Map<string, { calls: number; ms: number }>();
  const walls: number[] = [];
  for (let r = 0; r < runs; r++) {
    const start = performance.now();
    const profile = await tf.profile(step);
    walls.push(performance.now() - start);
    for (const k of profile.kernels) {
      const t = totals.get(k.name) ?? { calls: 0, ms: 0 };
      t.calls += 1;
      t.ms += typeof k.kernelTimeMs === 'number' ? k.kernelTimeMs : 0;
      totals.set(k.name, t);
    }
  }
  const all = [...totals.values()].reduce((n, t) => n + t.ms, 0);
  const rows = [...totals.entries()]
    .sort((a, b) => b[1].ms - a[1].ms)
    .slice(0, 15)
    .map(([name, t]) => [
      name,
      t.calls / runs,
      (t.ms / runs).toFixed(1),
      `${((100 * t.ms) / all).toFixed(1)}%`,
    ]);
  walls.sort((a, b) => a - b);
  console.log(
    `\nMobileNetV2 training step, batch 8, 128x128, output stride ${outputStride}, wasm${relaxedSimd ? ' (relaxed SIMD)' : ''}: wall ${walls[walls.length >> 1].toFixed(0)} ms (median of ${runs}, profiled), kernels ${(all / runs).toFixed(0)} ms\n`,
  );
  console.log(markdownTable(['kernel', 'calls per step', 'ms per step', 'share'], rows));
  tf.dispose([images, labels]);
  backbone.dispose();
  head.params.dispose();
}
