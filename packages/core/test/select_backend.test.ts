import { automaticBackendOrder, selectBackend, tf } from '@wsss/core';
import { setModuleLoaderForTesting } from '../src/backend/optional_module';

describe('selectBackend', () => {
  const savedEnv = process.env.WSSS_BACKEND;
  afterEach(() => {
    if (savedEnv === undefined) delete process.env.WSSS_BACKEND;
    else process.env.WSSS_BACKEND = savedEnv;
  });

  it('picks wasm automatically in Node when tfjs-node is absent, saying why (webgpu only when named there)', async () => {
    const lines: string[] = [];
    const restore = setModuleLoaderForTesting(async (name) => {
      throw Object.assign(new Error(`Cannot find package '${name}'`), { code: 'ERR_MODULE_NOT_FOUND' });
    });
    try {
      const selected = await selectBackend({ log: (l) => lines.push(l) });
      expect(selected.name).toBe('wasm');
      expect(tf.getBackend()).toBe('wasm');
      expect(selected.skipped.map((s) => s.name)).toEqual(['tensorflow']);
      expect(selected.skipped[0].reason).toMatch(
        /@tensorflow\/tfjs-node-gpu nor @tensorflow\/tfjs-node is installed/,
      );
      expect(lines).toHaveLength(1);
      expect(lines[0]).toMatch(
        /^\[wsss\] backend: wasm, \d threads?(, relaxed SIMD)? \(skipped tensorflow: [^;]*\)$/,
      );
      expect(automaticBackendOrder()).toEqual(['tensorflow', 'wasm', 'cpu']);
      // Logged once: the same selection again prints nothing.
      await selectBackend({ log: (l) => lines.push(l) });
      expect(lines).toHaveLength(1);
    } finally {
      restore();
    }
  });

  it('honours an explicit name, a list and WSSS_BACKEND', async () => {
    expect((await selectBackend({ preference: 'cpu', log: null })).name).toBe('cpu');
    expect(tf.getBackend()).toBe('cpu');
    expect((await selectBackend({ preference: ['tensorflow', 'wasm'], log: null })).name).toBe('wasm');
    process.env.WSSS_BACKEND = 'cpu';
    expect((await selectBackend({ log: null })).name).toBe('cpu');
  });

  it('names the missing package when an explicitly requested backend is unavailable', async () => {
    await expect(selectBackend({ preference: 'tensorflow', log: null })).rejects.toThrow(
      /backend 'tensorflow' was requested but is unavailable: neither @tensorflow\/tfjs-node-gpu nor @tensorflow\/tfjs-node is installed/,
    );
    process.env.WSSS_BACKEND = 'tensorflow';
    await expect(selectBackend({ log: null })).rejects.toThrow(
      /backend 'tensorflow' was requested but is unavailable/,
    );
    process.env.WSSS_BACKEND = 'cuda';
    await expect(selectBackend({ log: null })).rejects.toThrow(
      /unknown backend 'cuda' \(from WSSS_BACKEND\); expected one of tensorflow, webgpu, wasm, cpu/,
    );
  });

  it('starts tensorflow when tfjs-node is installed (simulated) and reports init failures as unavailability', async () => {
    const loaded: string[] = [];
    const restore = setModuleLoaderForTesting(async (name) => {
      loaded.push(name);
      if (name === '@tensorflow/tfjs-node') return {}; // a module that registers no backend
      throw Object.assign(new Error(`Cannot find module '${name}'`), { code: 'MODULE_NOT_FOUND' });
    });
    try {
      const selected = await selectBackend({ preference: ['tensorflow', 'cpu'], log: null });
      expect(loaded).toEqual(['@tensorflow/tfjs-node-gpu', '@tensorflow/tfjs-node']);
      expect(selected.name).toBe('cpu');
      expect(selected.skipped[0].reason).toMatch(/failed to initialise/);
    } finally {
      restore();
    }
  });

  it("treats a browser's unresolvable bare specifier as not installed (Chromium, Firefox, Safari)", async () => {
    const messages = [
      (name: string) =>
        `Failed to resolve module specifier "${name}". Relative references must start with either "/", "./", or "../".`,
      (name: string) => `The specifier “${name}” was a bare specifier, but was not remapped to anything.`,
      (name: string) => `Module name, '${name}' does not resolve to a valid URL.`,
    ];
    for (const message of messages) {
      const restore = setModuleLoaderForTesting(async (name) => {
        throw new TypeError(message(name));
      });
      try {
        const selected = await selectBackend({ preference: ['tensorflow', 'cpu'], log: null });
        expect(selected.name).toBe('cpu');
        expect(selected.skipped[0].reason).toMatch(/is installed/);
      } finally {
        restore();
      }
    }
    // a failure that names another module is not "not installed"
    const restore = setModuleLoaderForTesting(async () => {
      throw new TypeError('Failed to resolve module specifier "fs".');
    });
    try {
      await expect(selectBackend({ preference: 'tensorflow', log: null })).rejects.toThrow(/"fs"/);
    } finally {
      restore();
    }
  });

  it('uses a backend the application registered itself without importing its package', async () => {
    const loaded: string[] = [];
    const restore = setModuleLoaderForTesting(async (name) => {
      loaded.push(name);
      throw new TypeError(`Failed to resolve module specifier "${name}".`);
    });
    // as if the page had imported tfjs-node: a 'tensorflow' backend factory is registered
    const CpuBackend = (tf.findBackend('cpu') as tf.KernelBackend).constructor as new () => tf.KernelBackend;
    tf.registerBackend('tensorflow', () => new CpuBackend());
    try {
      const selected = await selectBackend({ preference: 'tensorflow', log: null });
      expect(selected.name).toBe('tensorflow');
      expect(loaded).toEqual([]);
    } finally {
      restore();
      await selectBackend({ preference: 'cpu', log: null });
      tf.removeBackend('tensorflow');
    }
  });

  it('propagates errors of an installed but broken optional package', async () => {
    const restore = setModuleLoaderForTesting(async () => {
      throw new Error('tfjs_binding.node can not be found');
    });
    try {
      await expect(selectBackend({ preference: 'tensorflow', log: null })).rejects.toThrow(/tfjs_binding/);
    } finally {
      restore();
    }
  });
});
