import { Rng, selectBackend, tf } from '@wsss/core';
import { expectNoLeaks } from '@wsss/core/testing';

/** Runs `f` on cpu and on wasm and returns both results' values. */
async function onBoth(f: () => tf.Tensor): Promise<[Float32Array, Float32Array]> {
  const out: Float32Array[] = [];
  for (const backend of ['cpu', 'wasm'] as const) {
    await selectBackend({ preference: backend, log: null });
    out.push(tf.tidy(() => f().dataSync() as Float32Array));
  }
  await selectBackend({ preference: 'cpu', log: null });
  return [out[0], out[1]];
}

const rng = new Rng('replacements');
const values = (n: number) => Float32Array.from({ length: n }, () => rng.normal());

describe('wasm BatchMatMul as our matrix products', () => {
  const cases: [string, number[], number[], boolean, boolean][] = [
    ['batched', [3, 40, 30], [3, 30, 50], false, false],
    ['transposeB (the affinity product)', [2, 60, 16], [2, 60, 16], false, true],
    ['transposeB packed from Bᵀ, columns split', [2, 40, 21], [2, 72, 21], false, true],
    ['transposeB packed from Bᵀ, rows split', [2, 90, 20], [1, 48, 20], false, true],
    ['transposeA', [2, 16, 60], [2, 16, 70], true, false],
    ['both transposed', [2, 33, 45], [2, 50, 33], true, true],
    ['broadcast b', [4, 37, 29], [1, 29, 41], false, false],
    ['broadcast a', [1, 37, 29], [3, 29, 41], false, false],
    ['rank 2', [70, 90], [90, 20], false, false],
    ['small (original kernel)', [2, 3, 4], [2, 4, 5], false, false],
  ];
  it.each(cases)('%s matches cpu', async (_name, sa, sb, ta, tb) => {
    const a = values(sa.reduce((x, y) => x * y));
    const b = values(sb.reduce((x, y) => x * y));
    const [cpu, wasm] = await onBoth(() => tf.matMul(tf.tensor(a, sa), tf.tensor(b, sb), ta, tb));
    expect(wasm.length).toBe(cpu.length);
    for (let i = 0; i < cpu.length; i++)
      expect(Math.abs(wasm[i] - cpu[i])).toBeLessThan(1e-4 * (1 + Math.abs(cpu[i])));
  });

  it('gradients match cpu and do not leak', async () => {
    const a = values(2 * 50 * 8);
    const b = values(2 * 50 * 8);
    const f = () =>
      tf.concat(
        tf
          .grads((x: tf.Tensor, y: tf.Tensor) => tf.sum(tf.square(tf.matMul(x, y, false, true))))([
            tf.tensor(a, [2, 50, 8]),
            tf.tensor(b, [2, 50, 8]),
          ])
          .map((g) => g.flatten()),
      );
    const [cpu, wasm] = await onBoth(f);
    for (let i = 0; i < cpu.length; i++)
      expect(Math.abs(wasm[i] - cpu[i])).toBeLessThan(1e-3 * (1 + Math.abs(cpu[i])));
    await selectBackend({ preference: 'wasm', log: null });
    await expectNoLeaks(() => tf.tidy(f));
    await selectBackend({ preference: 'cpu', log: null });
  });
});

describe('wasm Slice', () => {
  it.each([
    ['contiguous (leading axis)', [4, 5, 6], [1, 0, 0], [2, 5, 6]],
    ['contiguous (one row)', [4, 5, 6], [2, 3, 0], [1, 1, 6]],
    ['strided', [4, 5, 6], [1, 1, 2], [2, 3, 3]],
    ['strided rank 5', [2, 3, 4, 5, 2], [0, 1, 1, 2, 0], [2, 2, 2, 3, 2]],
    ['leading columns of a matrix', [30, 24], [0, 0], [30, 18]],
    ['strided, long runs (whole trailing axis)', [6, 10, 20], [1, 2, 0], [3, 5, 20]],
  ])('%s matches cpu', async (_name, shape, begin, size) => {
    const x = values(shape.reduce((p, q) => p * q));
    const [cpu, wasm] = await onBoth(() => tf.slice(tf.tensor(x, shape), begin, size));
    expect(Array.from(wasm)).toEqual(Array.from(cpu));
  });

  it('int32 slices keep their values', async () => {
    const [cpu, wasm] = await onBoth(() =>
      tf.slice(tf.tensor2d([1, 2, 3, 4, 5, 6], [3, 2], 'int32'), [1, 0], [2, 2]),
    );
    expect(Array.from(wasm)).toEqual([3, 4, 5, 6]);
    expect(Array.from(cpu)).toEqual([3, 4, 5, 6]);
  });
});

describe('wasm SpaceToBatchND and BatchToSpaceND (dilated convolutions) by pixels on the heap', () => {
  it.each([
    [
      'block 2, padded',
      [2, 5, 7, 3],
      [2, 2],
      [
        [1, 2],
        [0, 1],
      ],
    ],
    [
      'block 3 x 2, 70 channels (copied as runs)',
      [1, 6, 4, 70],
      [3, 2],
      [
        [0, 0],
        [2, 0],
      ],
    ],
  ] as const)('%s matches cpu, and back', async (_name, shape, block, paddings) => {
    const x = values((shape as readonly number[]).reduce((a, b) => a * b, 1));
    const blockShape = [...block];
    const pads = paddings.map((p) => [...p]);
    const [cpu, wasm] = await onBoth(() => tf.spaceToBatchND(tf.tensor(x, [...shape]), blockShape, pads));
    expect(Array.from(wasm)).toEqual(Array.from(cpu));
    // the inverse with the paddings as crops gives x back
    const [, back] = await onBoth(() =>
      tf.batchToSpaceND(tf.spaceToBatchND(tf.tensor(x, [...shape]), blockShape, pads), blockShape, pads),
    );
    expect(Array.from(back)).toEqual(Array.from(x));
  });

  it('int32 keeps its values; rank 3 goes to the original kernel', async () => {
    const [cpu, wasm] = await onBoth(() =>
      tf.spaceToBatchND(
        tf.range(0, 16, 1, 'int32').reshape([1, 4, 4, 1]),
        [2, 2],
        [
          [0, 0],
          [0, 0],
        ],
      ),
    );
    expect(Array.from(wasm)).toEqual(Array.from(cpu));
    const x3 = values(12);
    const [cpu3, wasm3] = await onBoth(() => tf.spaceToBatchND(tf.tensor(x3, [1, 6, 2]), [2], [[0, 0]]));
    expect(Array.from(wasm3)).toEqual(Array.from(cpu3));
  });
});

describe('wasm Sum over every axis but the last (column sums)', () => {
  it.each([
    ['bias gradient [N,H,W,C] -> [C]', [2, 7, 5, 13], [0, 1, 2], false],
    ['keepDims', [3, 9, 6], [0, 1], true],
    ['axes in any order, C = 4', [5, 11, 4], [1, 0], false],
    ['rank 2', [300, 7], [0], false],
    ['last axis (original kernel)', [4, 6, 9], [2], false],
    ['all axes (original kernel)', [4, 6, 9], [0, 1, 2], false],
    ['middle axis (original kernel)', [4, 6, 9], [1], true],
  ] as const)('%s matches cpu', async (_name, shape, axes, keepDims) => {
    const x = values(shape.reduce((a, b) => a * b, 1));
    const [cpu, wasm] = await onBoth(() => tf.sum(tf.tensor(x, [...shape]), [...axes], keepDims));
    expect(wasm.length).toBe(cpu.length);
    for (let i = 0; i < cpu.length; i++)
      expect(Math.abs(wasm[i] - cpu[i])).toBeLessThan(1e-4 * (1 + Math.abs(cpu[i])));
  });

  it('keeps the shape and sums int32 through the original kernel', async () => {
    await selectBackend({ preference: 'wasm', log: null });
    const t = tf.tensor3d([1, 2, 3, 4, 5, 6, 7, 8], [2, 2, 2], 'int32');
    const s = tf.sum(t, [0, 1], true);
    expect(s.shape).toEqual([1, 1, 2]);
    expect(s.dtype).toBe('int32');
    expect(Array.from(s.dataSync())).toEqual([16, 20]);
    const f = tf.sum(tf.tensor2d([1.5, 2, -3, 4], [2, 2]), 0);
    expect(Array.from(f.dataSync())).toEqual([-1.5, 6]);
    tf.dispose([t, s, f]);
    await selectBackend({ preference: 'cpu', log: null });
  });
});

describe('wasm Identity shares data', () => {
  it('a clone outlives its source, keeps its values and frees the data with the last reference', async () => {
    await selectBackend({ preference: 'wasm', log: null });
    const before = tf.memory().numTensors;
    const bytesBefore = tf.memory().numBytes;
    const x = tf.tensor2d([1, -2, 3, 4.5], [2, 2]);
    const copy = tf.clone(x);
    expect(copy.dataId).toBe(x.dataId);
    x.dispose();
    expect(Array.from(copy.dataSync())).toEqual([1, -2, 3, 4.5]);
    expect(Array.from(tf.add(copy, 1).dataSync())).toEqual([2, -1, 4, 5.5]);
    const strings = tf.clone(tf.tensor1d(['a', 'b'], 'string'));
    expect(strings.arraySync()).toEqual(['a', 'b']);
    tf.dispose([copy, strings]);
    tf.disposeVariables();
    expect(tf.memory().numTensors).toBeLessThanOrEqual(before + 2); // the add result and the string source
    expect(tf.memory().numBytes).toBeLessThanOrEqual(bytesBefore + 16 + 2);
    await selectBackend({ preference: 'cpu', log: null });
  });
});

describe('wasm Conv2D: pointwise convolutions and few input channels as our kernels', () => {
  it.each([
    ['1x1, 8-wide tiles', [2, 9, 7, 16], [1, 1, 16, 24], 1, 'same'],
    ['1x1, edge rows and lanes', [3, 5, 3, 7], [1, 1, 7, 13], 1, 'valid'],
    ['1x1, one output channel', [1, 4, 4, 6], [1, 1, 6, 1], 1, 'valid'],
    ['1x1 stride 2 (original kernel)', [1, 8, 8, 6], [1, 1, 6, 5], 2, 'same'],
    ['3x3 on 6 channels (patches)', [1, 8, 8, 6], [3, 3, 6, 5], 1, 'same'],
    ['RGB stem 3x3 stride 2 (patches, 8-wide tiles and edges)', [2, 17, 15, 3], [3, 3, 3, 21], 2, 'same'],
    ['3x3 on 9 channels (patches)', [1, 8, 8, 9], [3, 3, 9, 5], 1, 'same'],
    [
      '3x3 on 520 channels (patches over 4608 values: original kernel)',
      [1, 4, 5, 520],
      [3, 3, 520, 3],
      1,
      'same',
    ],
  ] as const)('%s matches cpu', async (_name, xShape, wShape, stride, pad) => {
    const x = values((xShape as readonly number[]).reduce((a, b) => a * b, 1));
    const w = values((wShape as readonly number[]).reduce((a, b) => a * b, 1));
    const [cpu, wasm] = await onBoth(() =>
      tf.conv2d(tf.tensor4d(x, [...xShape]), tf.tensor4d(w, [...wShape]), stride, pad),
    );
    expect(wasm.length).toBe(cpu.length);
    for (let i = 0; i < cpu.length; i++)
      expect(Math.abs(wasm[i] - cpu[i])).toBeLessThan(1e-4 * (1 + Math.abs(cpu[i])));
  });
});

describe('wasm DepthwiseConv2dNative: channel multiplier 1 as our kernel', () => {
  it.each([
    ['3x3 stride 1 same, 8 channels', [2, 9, 7, 8], [3, 3, 8, 1], 1, 'same', 1],
    ['3x3 stride 2 same, edge lanes', [2, 9, 8, 7], [3, 3, 7, 1], 2, 'same', 1],
    ['3x3 dilation 2 valid', [1, 11, 10, 5], [3, 3, 5, 1], 1, 'valid', 2],
    ['5x3 dilation 4 same', [1, 13, 12, 6], [5, 3, 6, 1], 1, 'same', 4],
    ['3x3 stride 2 valid', [3, 8, 8, 12], [3, 3, 12, 1], 2, 'valid', 1],
    ['multiplier 2 (original kernel)', [1, 6, 6, 3], [3, 3, 3, 2], 1, 'same', 1],
  ] as const)('%s matches cpu', async (_name, xShape, wShape, stride, pad, dilation) => {
    const x = values((xShape as readonly number[]).reduce((a, b) => a * b, 1));
    const w = values((wShape as readonly number[]).reduce((a, b) => a * b, 1));
    const [cpu, wasm] = await onBoth(() =>
      tf.depthwiseConv2d(
        tf.tensor4d(x, [...xShape]),
        tf.tensor4d(w, [...wShape]),
        stride,
        pad,
        'NHWC',
        dilation,
      ),
    );
    expect(wasm.length).toBe(cpu.length);
    for (let i = 0; i < cpu.length; i++)
      expect(Math.abs(wasm[i] - cpu[i])).toBeLessThan(1e-4 * (1 + Math.abs(cpu[i])));
  });
});

describe('wasm Add of same-shape float32 tensors', () => {
  it.each([
    ['same shape, odd size', [3, 7, 5], [3, 7, 5]],
    ['large', [2, 64, 64, 9], [2, 64, 64, 9]],
    ['broadcast (original kernel)', [4, 6], [1, 6]],
    ['scalar (original kernel)', [4, 6], []],
  ] as const)('%s matches cpu', async (_name, aShape, bShape) => {
    const a = values((aShape as readonly number[]).reduce((x, y) => x * y, 1));
    const b = values((bShape as readonly number[]).reduce((x, y) => x * y, 1));
    const [cpu, wasm] = await onBoth(() => tf.add(tf.tensor(a, [...aShape]), tf.tensor(b, [...bShape])));
    expect(Array.from(wasm)).toEqual(Array.from(cpu));
  });

  it('adds int32 through the original kernel', async () => {
    await selectBackend({ preference: 'wasm', log: null });
    const s = tf.add(tf.tensor1d([1, 2, 3], 'int32'), tf.tensor1d([10, 20, 30], 'int32'));
    expect(s.dtype).toBe('int32');
    expect(Array.from(s.dataSync())).toEqual([11, 22, 33]);
    s.dispose();
    await selectBackend({ preference: 'cpu', log: null });
  });
});
