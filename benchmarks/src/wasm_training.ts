/**
 * One training step (forward + backward, gradients read back) on wasm vs cpu in the same process:
 * a 1x128x128x64 -> 64 3x3 convolution and a MobileNetV2 inverted-residual block.
 * Run: pnpm --filter @wsss/benchmarks bench:wasm-training [--cpu-runs N] [--runs N]
 */
import { selectBackend, tf } from '@wsss/core';
import { benchmarkOption, markdownTable, ms, settle, type Timing, time } from './timing';

interface Case {
  name: string;
  gflop: number;
  setup: () => { step: () => tf.Tensor[]; dispose: () => void };
}

function convCase(): Case['setup'] {
  return () => {
    const x = tf.randomNormal<tf.Rank.R4>([1, 128, 128, 64], 0, 1, 'float32', 1);
    const w = tf.variable(tf.randomNormal([3, 3, 64, 64], 0, 0.05, 'float32', 2));
    const step = () => {
      const { value, grads } = tf.variableGrads(() =>
        tf.mean(tf.square(tf.conv2d(x, w as tf.Tensor4D, 1, 'same'))),
      );
      return [value, grads[w.name]];
    };
    return { step, dispose: () => tf.dispose([x, w]) };
  };
}

/** MobileNetV2 block (t=6): 1x1 expand + BN + ReLU6, 3x3 depthwise (stride 1, dilation 2) + BN + ReLU6, 1x1 project + BN, residual. */
function mobileNetBlockCase(): Case['setup'] {
  return () => {
    const c = 32;
    const e = c * 6;
    const x = tf.randomNormal<tf.Rank.R4>([1, 64, 64, c], 0, 1, 'float32', 3);
    const v = (shape: number[], seed: number) => tf.variable(tf.randomNormal(shape, 0, 0.1, 'float32', seed));
    const params = {
      expand: v([1, 1, c, e], 4),
      dw: v([3, 3, e, 1], 5),
      project: v([1, 1, e, c], 6),
      g1: tf.variable(tf.ones([e])),
      b1: tf.variable(tf.zeros([e])),
      g2: tf.variable(tf.ones([e])),
      b2: tf.variable(tf.zeros([e])),
      g3: tf.variable(tf.ones([c])),
      b3: tf.variable(tf.zeros([c])),
    };
    const bn = (t: tf.Tensor4D, g: tf.Variable, b: tf.Variable): tf.Tensor4D => {
      const { mean, variance } = tf.moments(t, [0, 1, 2]);
      return tf.batchNorm4d(
        t,
        mean as tf.Tensor1D,
        variance as tf.Tensor1D,
        b as tf.Tensor1D,
        g as tf.Tensor1D,
        1e-3,
      );
    };
    const step = () => {
      const { value, grads } = tf.variableGrads(() => {
        let y = tf.relu6(bn(tf.conv2d(x, params.expand as tf.Tensor4D, 1, 'same'), params.g1, params.b1));
        y = tf.relu6(
          bn(tf.depthwiseConv2d(y, params.dw as tf.Tensor4D, 1, 'same', 'NHWC', 2), params.g2, params.b2),
        );
        y = bn(tf.conv2d(y, params.project as tf.Tensor4D, 1, 'same'), params.g3, params.b3);
        return tf.mean(tf.square(tf.add(x, y)));
      });
      return [value, ...Object.values(grads)];
    };
    return { step, dispose: () => tf.dispose([x, ...Object.values(params)]) };
  };
}

export async function benchWasmTraining(): Promise<string> {
  const runs = benchmarkOption('runs', 5);
  const cpuRuns = benchmarkOption('cpu-runs', 1);
  const cases: Case[] = [
    { name: 'conv 3x3, 1x128x128x64 -> 64', gflop: 3 * 1.21, setup: convCase() },
    { name: 'MobileNetV2 block, 1x64x64x32, t=6, dw dilation 2', gflop: 0, setup: mobileNetBlockCase() },
  ];
  const rows: (string | number)[][] = [];
  for (const c of cases) {
    const timings: Record<string, Timing> = {};
    for (const backend of ['wasm', 'cpu'] as const) {
      await selectBackend({ preference: backend, log: null });
      const { step, dispose } = c.setup();
      const before = tf.memory().numTensors;
      timings[backend] = await time(() => settle(step()), backend === 'cpu' ? cpuRuns : runs, 1);
      if (tf.memory().numTensors !== before) throw new Error(`${c.name} on ${backend} leaked tensors`);
      dispose();
    }
    const ratio = timings.cpu.medianMs / timings.wasm.medianMs;
    rows.push([
      c.name,
      ms(timings.wasm),
      ms(timings.cpu),
      `${ratio.toFixed(1)}x`,
      c.gflop ? (c.gflop / (timings.wasm.medianMs / 1000)).toFixed(1) : '-',
    ]);
  }
  return markdownTable(
    ['training step (fwd + bwd)', 'wasm ms, median (min-max)', 'cpu ms', 'wasm speed-up', 'wasm GFLOP/s'],
    rows,
  );
}

if (import.meta.url === `file://${process.argv[1]}`) {
  console.log(await benchWasmTraining());
}
