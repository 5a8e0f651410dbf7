import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { selectBackend, tf } from '@wsss/core';
import { expectNoLeaks, sharedPath } from '@wsss/core/testing';
import { MobileNetV2 } from '@wsss/models';

const weights = sharedPath('weights/mobilenet_v2_1.0_224', 'MobileNetV2 golden-fixture tests');

function readF32(path: string): Float32Array {
  const b = readFileSync(path);
  return new Float32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.length));
}

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

describe('MobileNetV2 with the real ImageNet weights', () => {
  const taps = ['stem', 'block_0', 'block_2', 'block_5', 'block_12', 'block_16'];
  // activations reach ~50 (a float32 ulp there is ~4e-6) after up to 52 layers: 2e-4 is ~50 ulps
  (weights ? it.each : it.skip.each)(['cpu', 'wasm'] as const)(
    'reproduces every golden fixture within 2e-4 on %s',
    async (backend) => {
      await selectBackend({ preference: backend, log: null });
      const net = await MobileNetV2.fromWeights(weights!, { includeTop: true });
      const fixtures = JSON.parse(readFileSync(join(weights!, 'fixtures', 'fixtures.json'), 'utf8'));
      for (const name of ['cat', 'formula']) {
        const f = fixtures[name];
        const read = (key: string) => readF32(join(weights!, 'fixtures', f[key].file));
        tf.tidy(() => {
          const out = net.forward(tf.tensor4d(read('input'), f.input.shape), { taps });
          for (const tap of taps) expect(maxAbsDiff(out.taps[tap].dataSync(), read(tap))).toBeLessThan(2e-4);
          expect(maxAbsDiff(out.features.dataSync(), read('conv_1'))).toBeLessThan(2e-4);
          expect(maxAbsDiff(out.logits!.dataSync(), read('logits'))).toBeLessThan(2e-4);
          if (name === 'cat') {
            const top = Array.from(out.logits!.dataSync())
              .map((v, i) => [v, i])
              .sort((a, b) => b[0] - a[0]);
            expect(top.slice(0, 3).map((t) => t[1])).toEqual(f.top5.slice(0, 3).map((t: number[]) => t[0]));
          }
        });
      }
      net.dispose();
    },
  );
});

describe('MobileNetV2 output strides', () => {
  it('gives features at stride 32, 16 and 8 with the same parameters, dilating instead of striding', () => {
    const shapes = ([32, 16, 8] as const).map((outputStride) => {
      const net = new MobileNetV2({ outputStride, seed: 1 });
      const shape = tf.tidy(() => net.forward(tf.zeros([1, 64, 64, 3])).features.shape);
      expect(net.params.variables.size).toBe(104);
      net.dispose();
      return shape;
    });
    expect(shapes).toEqual([
      [1, 2, 2, 1280],
      [1, 4, 4, 1280],
      [1, 8, 8, 1280],
    ]);
  });

  it('keeps the layers before the first dilated block identical to the stride-32 network', () => {
    const a = new MobileNetV2({ outputStride: 32, seed: 2 });
    const b = new MobileNetV2({ outputStride: 8, seed: 2 });
    tf.tidy(() => {
      const x = tf.randomNormal([1, 32, 32, 3], 0, 1, 'float32', 3) as tf.Tensor4D;
      const ta = a.forward(x, { taps: ['block_2'] }).taps.block_2;
      const tb = b.forward(x, { taps: ['block_2'] }).taps.block_2;
      expect(maxAbsDiff(ta.dataSync(), tb.dataSync())).toBe(0);
    });
    a.dispose();
    b.dispose();
  });

  it('trains on wasm: gradients reach every parameter, and repeated forwards leak nothing', async () => {
    await selectBackend({ preference: 'wasm', log: null });
    const net = new MobileNetV2({ outputStride: 8, seed: 4 });
    const x = tf.randomNormal([1, 32, 32, 3], 0, 1, 'float32', 5) as tf.Tensor4D;
    const { value, grads } = tf.variableGrads(() => tf.mean(net.forward(x).features), net.params.trainable());
    expect(Object.keys(grads)).toHaveLength(104);
    expect(Number.isFinite(value.dataSync()[0])).toBe(true);
    tf.dispose([value, ...Object.values(grads)]);
    await expectNoLeaks(() => tf.tidy(() => net.forward(x).features));
    x.dispose();
    net.dispose();
  });

  it('rejects bad options and inputs', () => {
    expect(() => new MobileNetV2({ outputStride: 4 as never })).toThrow(
      /outputStride must be 8, 16 or 32, got 4/,
    );
    const net = new MobileNetV2();
    expect(() => net.forward(tf.zeros([1, 8, 8, 1]) as tf.Tensor4D)).toThrow(
      /images must be \[B, H, W, 3\], got \[1,8,8,1\]/,
    );
    net.dispose();
  });
});
