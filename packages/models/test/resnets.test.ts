import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { selectBackend, tf } from '@wsss/core';
import { loadWeights, ResNet38, ResNet50 } from '@wsss/models';

describe('ResNet-50', () => {
  beforeAll(() => selectBackend({ preference: 'wasm', log: null }));
  afterAll(() => selectBackend({ preference: 'cpu', log: null }));

  it('has torchvision state_dict names (without fc and num_batches_tracked)', () => {
    const net = new ResNet50({ randomInit: false });
    const names = [...net.params.variables.keys()];
    expect(names).toHaveLength(53 + 53 * 4);
    for (const n of [
      'conv1.weight',
      'bn1.running_var',
      'layer1.0.downsample.0.weight',
      'layer4.2.bn3.bias',
    ]) {
      expect(names).toContain(n);
    }
    expect(names).not.toContain('layer1.1.downsample.0.weight');
    // Frozen batch norm: only conv weights train.
    expect(net.params.trainable()).toHaveLength(53);
    net.dispose();
  });

  it('gives 2048-channel features at output stride 32, 16 and 8', () => {
    for (const [outputStride, side] of [
      [32, 2],
      [16, 4],
      [8, 8],
    ] as const) {
      const net = new ResNet50({ outputStride, randomInit: false });
      const shape = tf.tidy(() => net.forward(tf.zeros([1, 64, 64, 3]) as tf.Tensor4D).features).shape;
      expect(shape).toEqual([1, side, side, 2048]);
      net.dispose();
    }
  });

  it('trains: every unfrozen parameter gets a finite gradient through the dilated stages (OS8)', () => {
    const net = new ResNet50({ outputStride: 8, seed: 5, frozenBatchNorm: true });
    const x = tf.randomNormal([1, 32, 32, 3], 0, 1, 'float32', 6) as tf.Tensor4D;
    const { value, grads } = tf.variableGrads(
      () => tf.mean(net.forward(x, { training: true }).features),
      net.params.trainable(),
    );
    const names = Object.keys(grads);
    expect(names).toHaveLength(53);
    for (const g of Object.values(grads)) expect(Number.isFinite(tf.sum(tf.abs(g)).dataSync()[0])).toBe(true);
    expect(tf.sum(tf.abs(grads[net.params.get('layer4.2.conv2.weight').name])).dataSync()[0]).toBeGreaterThan(
      0,
    );
    tf.dispose([x, value, ...Object.values(grads)]);
    net.dispose();
  });

  it('updates running statistics only in training mode without frozen batch norm', () => {
    const net = new ResNet50({ frozenBatchNorm: false, randomInit: false });
    net.params.get('conv1.weight').assign(tf.randomNormal([7, 7, 3, 64], 0, 0.1, 'float32', 2));
    const before = net.params.get('bn1.running_mean').dataSync().slice();
    tf.tidy(() => {
      net.forward(tf.randomNormal([1, 32, 32, 3], 1, 1) as tf.Tensor4D);
    });
    expect(Array.from(net.params.get('bn1.running_mean').dataSync())).toEqual(Array.from(before));
    tf.tidy(() => {
      net.forward(tf.randomNormal([1, 32, 32, 3], 1, 1) as tf.Tensor4D, { training: true });
    });
    expect(Array.from(net.params.get('bn1.running_mean').dataSync())).not.toEqual(Array.from(before));
    expect(net.params.trainable().length).toBe(53 + 53 * 2);
    net.dispose();
  });
});

describe('ResNet-38 (psa)', () => {
  it('has psa parameter names and ceil(H/8) features with conv4 / conv5 / conv6 (digest §1, item 13)', async () => {
    await selectBackend({ preference: 'wasm', log: null });
    const net = new ResNet38({ randomInit: false });
    const names = new Set(net.params.variables.keys());
    for (const n of [
      'conv1a.weight',
      'b2.conv_branch1.weight',
      'b4_5.conv_branch2b1.weight',
      'b5.conv_branch1.weight',
      'b6.conv_branch2b2.weight',
      'b7.bn_branch2b2.running_var',
      'bn7.weight',
    ]) {
      expect(names.has(n)).toBe(true);
    }
    expect(names.has('b2_1.conv_branch1.weight')).toBe(false);
    tf.tidy(() => {
      const out = net.forward(tf.randomNormal([1, 65, 65, 3], 0, 1, 'float32', 4) as tf.Tensor4D);
      expect(out.features.shape).toEqual([1, 9, 9, 4096]);
      expect(out.conv4.shape).toEqual([1, 9, 9, 512]);
      expect(out.conv5.shape).toEqual([1, 9, 9, 1024]);
    });
    net.dispose();
    await selectBackend({ preference: 'cpu', log: null });
  });
});

/** A python3 with NumPy, to run the converter's NumPy part (PyTorch is only needed to read .pth files). */
function pythonWithNumpy(): string | undefined {
  for (const python of ['python3', '/usr/bin/python3']) {
    if (spawnSync(python, ['-c', 'import numpy'], { stdio: 'ignore' }).status === 0) return python;
  }
  process.stderr.write('[wsss] skipping the converter test: no python3 with NumPy\n');
  return undefined;
}

describe('torch_to_manifest.py', () => {
  const python = pythonWithNumpy();
  (python ? it : it.skip)(
    'converts OIHW convs to HWIO, transposes linears, drops num_batches_tracked',
    async () => {
      const out = mkdtempSync(join(tmpdir(), 'wsss-convert-'));
      const script = resolve('packages/models/scripts');
      execFileSync(python!, [
        '-c',
        `import sys, numpy as np; sys.path.insert(0, ${JSON.stringify(script)}); import torch_to_manifest as t
state = {'conv.weight': np.arange(2*3*1*2, dtype=np.float32).reshape(2, 3, 1, 2),
         'fc.weight': np.array([[1, 2, 3], [4, 5, 6]], dtype=np.float32),
         'bn.running_var': np.array([0.5, 2], dtype=np.float32), 'bn.num_batches_tracked': np.array(7)}
specs, data = t.convert(state); t.write_manifest(${JSON.stringify(out)}, specs, data)`,
      ]);
      const { tensors } = await loadWeights(out);
      expect(Object.keys(tensors).sort()).toEqual(['bn.running_var', 'conv.weight', 'fc.weight']);
      // OIHW [2,3,1,2] -> HWIO [1,2,3,2]: element [0, kw, i, o] = o*6 + i*2 + kw
      expect(tensors['conv.weight'].shape).toEqual([1, 2, 3, 2]);
      const w = tensors['conv.weight'].arraySync() as number[][][][];
      expect(w[0][1][2][1]).toBe(1 * 6 + 2 * 2 + 1);
      expect(tensors['fc.weight'].arraySync()).toEqual([
        [1, 4],
        [2, 5],
        [3, 6],
      ]);
      tf.dispose(Object.values(tensors));
    },
  );
});
