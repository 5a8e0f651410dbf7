import { Rng, selectBackend, tf } from '@wsss/core';
import { expectNoLeaks } from '@wsss/core/testing';

type Tensors = tf.Tensor[];

/** Runs `fn` on `backend` with inputs copied there, returning plain arrays. */
async function on(
  backend: 'cpu' | 'wasm',
  inputs: Float32Array[],
  shapes: number[][],
  fn: (...t: tf.Tensor[]) => Tensors,
) {
  await selectBackend({ preference: backend, log: null });
  return tf.tidy(() => {
    const ts = inputs.map((v, i) => tf.tensor(v, shapes[i]));
    return fn(...ts).map((t) => t.dataSync() as Float32Array);
  });
}

function maxRelError(actual: Float32Array, expected: Float32Array): number {
  expect(actual.length).toBe(expected.length);
  let num = 0;
  let den = 0;
  for (let i = 0; i < actual.length; i++) {
    num = Math.max(num, Math.abs(actual[i] - expected[i]));
    den = Math.max(den, Math.abs(expected[i]));
  }
  return num / Math.max(den, 1e-12);
}

function random(rng: Rng, shape: number[]): Float32Array {
  return rng.fillNormal(new Float32Array(shape.reduce((a, b) => a * b, 1)));
}

/** Gradients of sum(op(x, w) * r) w.r.t. x and w: dy = r, so every element of the backward kernels is exercised. */
function gradsOf(op: (x: tf.Tensor4D, w: tf.Tensor4D) => tf.Tensor4D) {
  return (x: tf.Tensor, w: tf.Tensor, r: tf.Tensor): Tensors =>
    tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.sum(tf.mul(op(a as tf.Tensor4D, b as tf.Tensor4D), r)))([
      x,
      w,
    ]);
}

interface ConvCase {
  kind: 'conv2d' | 'depthwise';
  n: number;
  h: number;
  w: number;
  cin: number;
  /** Output channels (conv2d) or channel multiplier (depthwise). */
  cout: number;
  k: [number, number];
  stride: number;
  dilation: number;
  pad: 'same' | 'valid';
}

function opFor(c: ConvCase) {
  return (x: tf.Tensor4D, w: tf.Tensor4D) =>
    c.kind === 'conv2d'
      ? tf.conv2d(x, w, c.stride, c.pad, 'NHWC', c.dilation)
      : tf.depthwiseConv2d(x, w, c.stride, c.pad, 'NHWC', c.dilation);
}

function shapesFor(c: ConvCase): number[][] {
  const y = tf.tidy(() => opFor(c)(tf.zeros([c.n, c.h, c.w, c.cin]), tf.zeros([...c.k, c.cin, c.cout])));
  const outShape = y.shape;
  y.dispose();
  return [[c.n, c.h, c.w, c.cin], [...c.k, c.cin, c.cout], outShape];
}

const rng = new Rng('wasm-training');
const cases: ConvCase[] = [];
for (const kind of ['conv2d', 'depthwise'] as const) {
  for (const stride of [1, 2]) {
    for (const dilation of [1, 2]) {
      if (stride > 1 && dilation > 1) continue; // tfjs: strides or dilations must be 1
      for (const pad of ['same', 'valid'] as const) {
        cases.push({
          kind,
          n: rng.int(1, 3),
          h: rng.int(7, 14),
          w: rng.int(7, 14),
          cin: rng.int(1, 6),
          cout: kind === 'conv2d' ? rng.int(1, 6) : rng.int(1, 3),
          k: [rng.pick([1, 2, 3]), rng.pick([3, 5])],
          stride,
          dilation,
          pad,
        });
      }
    }
  }
}
// The shapes MobileNetV2 trains with: 3x3 stride-2 stem, 1x1 pointwise, dilated depthwise at output stride 8.
cases.push(
  { kind: 'conv2d', n: 2, h: 17, w: 17, cin: 3, cout: 8, k: [3, 3], stride: 2, dilation: 1, pad: 'same' },
  { kind: 'conv2d', n: 2, h: 9, w: 9, cin: 16, cout: 24, k: [1, 1], stride: 1, dilation: 1, pad: 'valid' },
  { kind: 'depthwise', n: 1, h: 11, w: 11, cin: 12, cout: 1, k: [3, 3], stride: 1, dilation: 4, pad: 'same' },
  // our WebAssembly filter gradient: 4 x 8, 4 x 4 and single-lane tiles, blocks of 64 positions with padding rows
  { kind: 'conv2d', n: 2, h: 15, w: 11, cin: 13, cout: 21, k: [3, 3], stride: 2, dilation: 1, pad: 'same' },
  { kind: 'conv2d', n: 1, h: 9, w: 13, cin: 8, cout: 12, k: [1, 1], stride: 1, dilation: 1, pad: 'valid' },
  { kind: 'conv2d', n: 3, h: 8, w: 8, cin: 6, cout: 16, k: [2, 3], stride: 1, dilation: 2, pad: 'same' },
  // few input channels: patches times the filter, the filter gradient summed per 2048 positions (5 partial sums)
  { kind: 'conv2d', n: 2, h: 70, w: 66, cin: 3, cout: 10, k: [3, 3], stride: 1, dilation: 1, pad: 'same' },
  { kind: 'conv2d', n: 1, h: 40, w: 60, cin: 5, cout: 9, k: [2, 3], stride: 1, dilation: 2, pad: 'valid' },
  // many positions: the filter gradient summed in chunks of positions (6 and 4 partial sums)
  { kind: 'conv2d', n: 2, h: 40, w: 40, cin: 9, cout: 12, k: [3, 3], stride: 1, dilation: 1, pad: 'same' },
  { kind: 'conv2d', n: 2, h: 32, w: 33, cin: 16, cout: 24, k: [1, 1], stride: 1, dilation: 1, pad: 'valid' },
  // fewer pixels than channels: our products split their column strips (B packed from Wᵀ for the input gradient)
  { kind: 'conv2d', n: 2, h: 3, w: 5, cin: 40, cout: 74, k: [1, 1], stride: 1, dilation: 1, pad: 'valid' },
  // pointwise: our matrix product forward and for the input gradient (odd pixel and channel counts)
  { kind: 'conv2d', n: 3, h: 5, w: 7, cin: 5, cout: 7, k: [1, 1], stride: 1, dilation: 1, pad: 'same' },
  { kind: 'conv2d', n: 2, h: 9, w: 9, cin: 19, cout: 13, k: [1, 1], stride: 1, dilation: 1, pad: 'valid' },
  { kind: 'conv2d', n: 1, h: 6, w: 6, cin: 4, cout: 9, k: [1, 1], stride: 2, dilation: 1, pad: 'same' },
  // our WebAssembly depthwise gradients (multiplier 1): four channels at a time plus the remainder lanes
  { kind: 'depthwise', n: 2, h: 13, w: 10, cin: 13, cout: 1, k: [3, 3], stride: 2, dilation: 1, pad: 'same' },
  { kind: 'depthwise', n: 1, h: 12, w: 9, cin: 8, cout: 1, k: [3, 3], stride: 1, dilation: 2, pad: 'valid' },
  { kind: 'depthwise', n: 2, h: 9, w: 11, cin: 7, cout: 1, k: [5, 3], stride: 1, dilation: 1, pad: 'valid' },
  { kind: 'depthwise', n: 1, h: 10, w: 10, cin: 6, cout: 1, k: [3, 3], stride: 2, dilation: 1, pad: 'valid' },
);

describe('training kernels on wasm equal cpu', () => {
  it.each(cases.map((c) => [JSON.stringify(c), c] as const))('%s', async (_name, c) => {
    const shapes = shapesFor(c);
    const inputs = shapes.map((s) => random(rng, s));
    const grads = gradsOf(opFor(c));
    const cpu = await on('cpu', inputs, shapes, grads);
    const wasm = await on('wasm', inputs, shapes, grads);
    expect(maxRelError(wasm[0], cpu[0])).toBeLessThan(1e-4);
    expect(maxRelError(wasm[1], cpu[1])).toBeLessThan(1e-4);
  });

  it('MobileNetV2 block ops (batch norm, relu6, pooling, bilinear resize) differentiate on wasm as on cpu', async () => {
    const block = (
      x: tf.Tensor,
      expand: tf.Tensor,
      dw: tf.Tensor,
      project: tf.Tensor,
      readout: tf.Tensor,
    ): Tensors =>
      tf.grads((a: tf.Tensor, e: tf.Tensor, d: tf.Tensor, p: tf.Tensor) => {
        const bn = (t: tf.Tensor4D): tf.Tensor4D => {
          const { mean, variance } = tf.moments(t, [0, 1, 2]);
          const c = t.shape[3];
          // tfjs 4.22 cannot record batchNorm without scale/offset on the tape; real layers always pass them.
          const [offset, scale] = [tf.fill([c], 0.1) as tf.Tensor1D, tf.fill([c], 1.5) as tf.Tensor1D];
          return tf.batchNorm4d(t, mean as tf.Tensor1D, variance as tf.Tensor1D, offset, scale, 1e-3);
        };
        let y = tf.relu6(bn(tf.conv2d(a as tf.Tensor4D, e as tf.Tensor4D, 1, 'same')));
        y = tf.relu6(bn(tf.depthwiseConv2d(y, d as tf.Tensor4D, 2, 'same')));
        y = bn(tf.conv2d(y, p as tf.Tensor4D, 1, 'same'));
        const pooled = tf.add(tf.avgPool(y, 2, 1, 'same'), tf.maxPool(y, 3, 1, 'same')) as tf.Tensor4D;
        const up = tf.image.resizeBilinear(pooled, [a.shape[1]!, a.shape[2]!]);
        // A linear read-out: sum(square(bn(.))) is nearly constant, so its gradient is all cancellation.
        return tf.sum(tf.mul(up, readout));
      })([x, expand, dw, project]);
    const shapes = [
      [2, 12, 12, 8],
      [1, 1, 8, 24],
      [3, 3, 24, 1],
      [1, 1, 24, 8],
      [2, 12, 12, 8],
    ];
    const inputs = shapes.map((s) => random(rng, s));
    const cpu = await on('cpu', inputs, shapes, block);
    const wasm = await on('wasm', inputs, shapes, block);
    for (let i = 0; i < cpu.length; i++) expect(maxRelError(wasm[i], cpu[i])).toBeLessThan(1e-4);
  });

  it('max pooling sends the gradient of all-negative windows to their maximum (wasm kernel fix)', async () => {
    // Window maxima: -0.5 (top left), 4 (top right), -1 (bottom left), -0.25 (bottom right).
    const x = [-1, -0.5, 4, 2, -3, -2, 1, 0, -1, -2, -0.25, -3, -4, -5, -1, -2];
    const expected = [0, 1, 2, 0, 0, 0, 0, 0, 3, 0, 4, 0, 0, 0, 0, 0];
    for (const backend of ['cpu', 'wasm'] as const) {
      const [dx] = await on(backend, [Float32Array.from(x)], [[1, 4, 4, 1]], (t) => [
        tf.grad((a: tf.Tensor) =>
          tf.sum(
            tf.mul(tf.maxPool(a as tf.Tensor4D, 2, 2, 'valid'), tf.tensor4d([1, 2, 3, 4], [1, 2, 2, 1])),
          ),
        )(t),
      ]);
      expect(Array.from(dx)).toEqual(expected);
    }
    const shapes = [
      [2, 9, 9, 3],
      [2, 5, 5, 3],
    ];
    const inputs = [random(rng, shapes[0]), random(rng, shapes[1])];
    const pool = (a: tf.Tensor, r: tf.Tensor) => [
      tf.grad((t: tf.Tensor) => tf.sum(tf.mul(tf.maxPool(t as tf.Tensor4D, 3, 2, 'same'), r)))(a),
    ];
    const cpu = await on('cpu', inputs, shapes, pool);
    const wasm = await on('wasm', inputs, shapes, pool);
    expect(maxRelError(wasm[0], cpu[0])).toBeLessThan(1e-6);
  });

  it('backward kernels leave no tensors behind on wasm', async () => {
    await selectBackend({ preference: 'wasm', log: null });
    const x = tf.randomNormal([1, 9, 9, 4]);
    const w = tf.randomNormal([3, 3, 4, 2]);
    const r = tf.randomNormal([1, 5, 5, 8]);
    const rd = tf.randomNormal([1, 9, 9, 8]);
    const w8 = tf.randomNormal([3, 3, 4, 8]);
    await expectNoLeaks(() => gradsOf((a, b) => tf.conv2d(a, b, 2, 'same'))(x, w8, r));
    await expectNoLeaks(() => gradsOf((a, b) => tf.depthwiseConv2d(a, b, 1, 'same', 'NHWC', 2))(x, w, rd));
    tf.dispose([x, w, w8, r, rd]);
  });
});

describe('finite differences (cpu and wasm)', () => {
  // The loss sum(op(x, w) * r) is linear in x and in w, so a central difference with a large step is exact
  // up to float32 rounding: any error in the analytic gradient shows up.
  const tiny: ConvCase[] = [
    { kind: 'conv2d', n: 1, h: 5, w: 4, cin: 2, cout: 2, k: [3, 3], stride: 2, dilation: 1, pad: 'same' },
    { kind: 'conv2d', n: 1, h: 6, w: 6, cin: 1, cout: 2, k: [2, 3], stride: 1, dilation: 2, pad: 'valid' },
    { kind: 'depthwise', n: 1, h: 5, w: 6, cin: 2, cout: 2, k: [3, 3], stride: 2, dilation: 1, pad: 'valid' },
    { kind: 'depthwise', n: 1, h: 6, w: 5, cin: 2, cout: 1, k: [3, 3], stride: 1, dilation: 2, pad: 'same' },
  ];
  it.each(tiny.flatMap((c) => (['cpu', 'wasm'] as const).map((b) => [b, JSON.stringify(c), c] as const)))(
    '%s %s',
    async (backend, _name, c) => {
      await selectBackend({ preference: backend, log: null });
      const shapes = shapesFor(c);
      const [xv, wv, rv] = shapes.map((s) => random(rng, s));
      const op = opFor(c);
      const loss = (x: Float32Array, w: Float32Array) =>
        tf.tidy(
          () =>
            tf
              .sum(
                tf.mul(
                  op(tf.tensor4d(x, shapes[0] as never), tf.tensor4d(w, shapes[1] as never)),
                  tf.tensor(rv, shapes[2]),
                ),
              )
              .dataSync()[0],
        );
      const [gx, gw] = tf.tidy(() =>
        gradsOf(op)(tf.tensor(xv, shapes[0]), tf.tensor(wv, shapes[1]), tf.tensor(rv, shapes[2])).map(
          (t) => t.dataSync() as Float32Array,
        ),
      );
      const eps = 0.5;
      for (const [values, grad, isX] of [
        [xv, gx, true],
        [wv, gw, false],
      ] as const) {
        for (let i = 0; i < values.length; i++) {
          const plus = Float32Array.from(values);
          const minus = Float32Array.from(values);
          plus[i] += eps;
          minus[i] -= eps;
          const fd = isX
            ? (loss(plus, wv) - loss(minus, wv)) / (2 * eps)
            : (loss(xv, plus) - loss(xv, minus)) / (2 * eps);
          expect(Math.abs(fd - grad[i])).toBeLessThan(1e-3 * Math.max(1, Math.abs(fd)));
        }
      }
    },
  );
});
