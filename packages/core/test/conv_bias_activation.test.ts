import {
  BIAS_ACTIVATION_BACKPROP,
  biasActivationBackprop,
  type ConvBiasActivationOptions,
  convBiasActivation,
  Rng,
  selectBackend,
  tf,
} from '@wsss/core';
import { expectGradientsMatch, expectNoLeaks, relativeError } from '@wsss/core/testing';

type Activation = 'linear' | 'relu' | 'relu6';

/** The same layer as separate tf ops (the reference): conv, bias add, activation. */
function unfused(
  x: tf.Tensor4D,
  filter: tf.Tensor4D,
  bias: tf.Tensor1D | undefined,
  o: ConvBiasActivationOptions = {},
): tf.Tensor4D {
  const { strides = 1, pad = 'same', dilations = 1, activation = 'linear', depthwise = false } = o;
  let y = depthwise
    ? tf.depthwiseConv2d(x, filter, strides, pad, 'NHWC', dilations)
    : tf.conv2d(x, filter, strides, pad, 'NHWC', dilations);
  if (bias) y = tf.add(y, bias);
  return activation === 'relu' ? tf.relu(y) : activation === 'relu6' ? tf.relu6(y) : y;
}

/** The layer's output and its gradients for x, filter and bias under a fixed random cotangent, flattened. */
function outputAndGradients(
  layer: typeof convBiasActivation,
  xs: tf.Tensor4D,
  w: tf.Tensor4D,
  b: tf.Tensor1D | undefined,
  o: ConvBiasActivationOptions,
  seed: number,
): Float32Array[] {
  return tf.tidy(() => {
    const args = b ? [xs, w, b] : [xs, w];
    const cotangent = (y: tf.Tensor) => tf.randomNormal(y.shape, 0, 1, 'float32', seed);
    const f = (...t: tf.Tensor[]) => {
      const y = layer(t[0] as tf.Tensor4D, t[1] as tf.Tensor4D, t[2] as tf.Tensor1D | undefined, o);
      return tf.sum(tf.mul(y, cotangent(y)));
    };
    const y = layer(xs, w, b, o);
    const grads = tf.grads(f)(args);
    return [y, ...grads].map((t) => t.dataSync() as Float32Array);
  });
}

afterAll(() => selectBackend({ preference: 'cpu', log: null }));

describe('biasActivationBackprop: the mask and the bias gradient from the output, one kernel', () => {
  // y at the boundaries: ReLU6's gradient passes strictly inside (0, 6) (PyTorch's hardtanh), ReLU's above 0
  const y = [0, 1e-7, 3, 5.999, 6, 0, 2, 6];
  const dy = [1, 2, 3, 4, 5, 6, 7, 8];
  const expected: Record<Activation, { dz: number[]; dbias: number[] }> = {
    relu6: { dz: [0, 2, 3, 4, 0, 0, 7, 0], dbias: [0, 2, 10, 4] },
    relu: { dz: [0, 2, 3, 4, 5, 0, 7, 8], dbias: [5, 2, 10, 12] },
    linear: { dz: dy, dbias: [6, 8, 10, 12] },
  };

  it.each(['cpu', 'wasm'] as const)('hand-computed [2, 4] case on %s, as the kernel', async (backend) => {
    await selectBackend({ preference: backend, log: null });
    expect(tf.getKernel(BIAS_ACTIVATION_BACKPROP, backend)).toBeDefined();
    for (const activation of ['relu6', 'relu', 'linear'] as const) {
      const { dz, dbias } = biasActivationBackprop(
        tf.tensor2d(dy, [2, 4]),
        tf.tensor2d(y, [2, 4]),
        activation,
      );
      expect(dz.shape).toEqual([2, 4]);
      expect(Array.from(dz.dataSync())).toEqual(expected[activation].dz);
      expect(Array.from(dbias.dataSync())).toEqual(expected[activation].dbias);
      tf.dispose([dz, dbias]);
    }
  });

  it('tf ops on a backend without the kernel give the same', async () => {
    await selectBackend({ preference: 'cpu', log: null });
    const kernel = tf.getKernel(BIAS_ACTIVATION_BACKPROP, 'cpu');
    tf.unregisterKernel(BIAS_ACTIVATION_BACKPROP, 'cpu');
    try {
      for (const activation of ['relu6', 'relu', 'linear'] as const) {
        const { dz, dbias } = biasActivationBackprop(
          tf.tensor2d(dy, [2, 4]),
          tf.tensor2d(y, [2, 4]),
          activation,
        );
        expect(Array.from(dz.dataSync())).toEqual(expected[activation].dz);
        expect(Array.from(dbias.dataSync())).toEqual(expected[activation].dbias);
        tf.dispose([dz, dbias]);
      }
    } finally {
      if (kernel) tf.registerKernel(kernel);
    }
  });

  it('wasm matches cpu on random [3, 5, 7, 13] tensors (vector and remainder lanes)', async () => {
    const rng = new Rng('bias-activation');
    const shape = [3, 5, 7, 13];
    const size = shape.reduce((a, b) => a * b, 1);
    const ys = Float32Array.from({ length: size }, () => Math.min(6, Math.max(0, 4 * rng.normal() + 3)));
    const dys = Float32Array.from({ length: size }, () => rng.normal());
    for (const activation of ['relu6', 'relu', 'linear'] as const) {
      const out: Float32Array[][] = [];
      for (const backend of ['cpu', 'wasm'] as const) {
        await selectBackend({ preference: backend, log: null });
        const { dz, dbias } = biasActivationBackprop(tf.tensor(dys, shape), tf.tensor(ys, shape), activation);
        expect(dbias.shape).toEqual([13]);
        out.push([dz.dataSync() as Float32Array, dbias.dataSync() as Float32Array]);
        tf.dispose([dz, dbias]);
      }
      expect(Array.from(out[1][0])).toEqual(Array.from(out[0][0]));
      expect(relativeError(out[1][1], out[0][1])).toBeLessThan(1e-5);
    }
  });

  it('says what is wrong with its arguments', () => {
    expect(() => biasActivationBackprop(tf.zeros([2, 3]), tf.zeros([2, 4]), 'relu')).toThrow(/one shape/);
    expect(() => biasActivationBackprop(tf.zeros([2, 3]), tf.zeros([2, 3]), 'elu')).toThrow(
      /activation must be one of linear, relu, relu6, got elu/,
    );
  });
});

describe('convBiasActivation: one fused kernel, differentiable for linear, ReLU and ReLU6', () => {
  const rng = new Rng('conv-bias-activation');
  const values = (shape: number[], scale = 1, shift = 0) =>
    Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => scale * rng.normal() + shift);

  const cases: [string, number[], number[], ConvBiasActivationOptions, boolean][] = [
    ['pointwise, 13 channels (our product on wasm)', [2, 5, 7, 7], [1, 1, 7, 13], {}, true],
    ['pointwise without bias', [2, 4, 4, 9], [1, 1, 9, 12], { activation: 'relu' }, false],
    ['pointwise, 600 rows (bias gradient summed in 2 chunks)', [2, 15, 20, 8], [1, 1, 8, 12], {}, true],
    ['3x3 stride 2 same (RGB stem)', [2, 9, 9, 3], [3, 3, 3, 8], { strides: 2, activation: 'relu6' }, true],
    [
      '3x3 dilation 2 valid',
      [1, 9, 10, 5],
      [3, 3, 5, 6],
      { dilations: 2, pad: 'valid', activation: 'relu' },
      true,
    ],
    [
      'depthwise stride 2',
      [2, 8, 8, 6],
      [3, 3, 6, 1],
      { depthwise: true, strides: 2, activation: 'relu6' },
      true,
    ],
    [
      'depthwise dilation 4',
      [1, 12, 12, 5],
      [3, 3, 5, 1],
      { depthwise: true, dilations: 4, activation: 'relu6' },
      true,
    ],
    ['depthwise, multiplier 2, linear', [1, 6, 6, 3], [3, 3, 3, 2], { depthwise: true }, true],
  ];

  it.each(cases)(
    '%s: output and gradients as separate ops, on cpu and wasm',
    async (_name, xShape, wShape, o, withBias) => {
      const outChannels = o.depthwise ? wShape[2] * wShape[3] : wShape[3];
      // pre-activations spread around [0, 6] so that every branch of the activation is taken
      const [xv, wv, bv] = [values(xShape), values(wShape, 0.5), values([outChannels], 1, 2)];
      for (const activation of ['relu6', 'relu', 'linear'] as const) {
        const options = { ...o, activation: o.activation === undefined ? activation : o.activation };
        await selectBackend({ preference: 'cpu', log: null });
        const args = () =>
          [
            tf.tensor4d(xv, xShape as [number, number, number, number]),
            tf.tensor4d(wv, wShape as [number, number, number, number]),
            withBias ? tf.tensor1d(bv) : undefined,
          ] as const;
        const reference = tf.tidy(() => outputAndGradients(unfused, ...args(), options, 5));
        for (const backend of ['cpu', 'wasm'] as const) {
          await selectBackend({ preference: backend, log: null });
          const fused = tf.tidy(() => outputAndGradients(convBiasActivation, ...args(), options, 5));
          expect(fused.length).toBe(reference.length);
          for (let i = 0; i < fused.length; i++)
            expect(relativeError(fused[i], reference[i])).toBeLessThan(1e-4);
        }
        if (o.activation !== undefined) break;
      }
    },
  );

  it('gradients match finite differences (ReLU6, pointwise and depthwise)', async () => {
    await selectBackend({ preference: 'cpu', log: null });
    const x = tf.tensor4d(values([1, 4, 4, 5], 0.5, 1), [1, 4, 4, 5]);
    const w = tf.tensor4d(values([1, 1, 5, 6], 0.5), [1, 1, 5, 6]);
    const dw = tf.tensor4d(values([3, 3, 5, 1], 0.5), [3, 3, 5, 1]);
    const b = tf.tensor1d(values([6], 1, 2));
    const c = tf.randomNormal([1, 4, 4, 6], 0, 1, 'float32', 3);
    expectGradientsMatch(
      (t) => tf.sum(tf.mul(convBiasActivation(x, t as tf.Tensor4D, b, { activation: 'relu6' }), c)),
      w,
      {
        eps: 1e-3,
      },
    );
    expectGradientsMatch(
      (t) => tf.sum(tf.mul(convBiasActivation(t as tf.Tensor4D, w, b, { activation: 'relu6' }), c)),
      x,
      {
        eps: 1e-3,
      },
    );
    expectGradientsMatch(
      (t) =>
        tf.sum(
          convBiasActivation(x, dw, t as tf.Tensor1D, { activation: 'relu6', depthwise: true, strides: 2 }),
        ),
      tf.tensor1d(values([5], 1, 2)),
      { eps: 1e-3 },
    );
    tf.dispose([x, w, dw, b, c]);
  });

  it.each(['cpu', 'wasm'] as const)(
    "leaves tfjs' own tf.fused.conv2d gradient as it was on %s (its custom gradient, not ours twice)",
    async (backend) => {
      await selectBackend({ preference: backend, log: null });
      const x = tf.randomNormal([1, 5, 5, 3], 0, 1, 'float32', 1) as tf.Tensor4D;
      const w = tf.randomNormal([1, 1, 3, 4], 0, 1, 'float32', 2) as tf.Tensor4D;
      const b = tf.randomNormal([4], 0, 1, 'float32', 3) as tf.Tensor1D;
      const fused = tf.grad((t: tf.Tensor) =>
        tf.sum(
          tf.fused.conv2d({
            x: t as tf.Tensor4D,
            filter: w,
            bias: b,
            activation: 'relu',
            strides: 1,
            pad: 'same',
          }),
        ),
      )(x);
      const plain = tf.grad((t: tf.Tensor) =>
        tf.sum(tf.relu(tf.add(tf.conv2d(t as tf.Tensor4D, w, 1, 'same'), b))),
      )(x);
      expect(relativeError(fused.dataSync(), plain.dataSync())).toBeLessThan(1e-6);
      expect(Array.from(plain.dataSync()).some((v) => v !== 0)).toBe(true);
      tf.dispose([x, w, b, fused, plain]);
    },
  );

  it('does not leak on wasm', async () => {
    await selectBackend({ preference: 'wasm', log: null });
    const x = tf.randomNormal([2, 6, 6, 8], 0, 1, 'float32', 1) as tf.Tensor4D;
    const w = tf.randomNormal([1, 1, 8, 16], 0, 1, 'float32', 2) as tf.Tensor4D;
    const b = tf.zeros([16]) as tf.Tensor1D;
    const step = () =>
      tf.tidy(() =>
        tf.grads((...t: tf.Tensor[]) =>
          tf.sum(
            convBiasActivation(t[0] as tf.Tensor4D, t[1] as tf.Tensor4D, t[2] as tf.Tensor1D, {
              activation: 'relu6',
            }),
          ),
        )([x, w, b]),
      );
    await expectNoLeaks(step);
    tf.dispose([x, w, b]);
  });

  it('says what is wrong with its arguments', async () => {
    await selectBackend({ preference: 'cpu', log: null });
    const x = tf.zeros([1, 4, 4, 3]) as tf.Tensor4D;
    const w = tf.zeros([1, 1, 3, 8]) as tf.Tensor4D;
    expect(() => convBiasActivation(tf.zeros([4, 4, 3]) as unknown as tf.Tensor4D, w, undefined)).toThrow(
      /x must be \[B, H, W, C\]/,
    );
    expect(() => convBiasActivation(x, tf.zeros([1, 1, 4, 8]) as tf.Tensor4D, undefined)).toThrow(
      /filter must be \[kh, kw, 3, Co\]/,
    );
    expect(() => convBiasActivation(x, w, tf.zeros([7]) as tf.Tensor1D)).toThrow(
      /bias must be \[8\], got \[7\]/,
    );
    expect(() => convBiasActivation(x, w, undefined, { activation: 'sigmoid' as 'relu' })).toThrow(
      /activation must be one of linear, relu, relu6, got sigmoid/,
    );
    expect(() => convBiasActivation(x, w, undefined, { strides: 2, dilations: 2 })).toThrow(
      /cannot both be > 1/,
    );
  });
});
