import { KernelThreads } from '../src/kernels/wasm/kernel_threads';
import { compiledModule } from '../src/kernels/wasm/wasm_heap_module';
import { TRAINING_KERNELS_SHARED_WASM } from '../src/wasm/training_kernels_wasm';

describe('KernelThreads', () => {
  const module = compiledModule(TRAINING_KERNELS_SHARED_WASM);
  const memory = new WebAssembly.Memory({ initial: 4, maximum: 64, shared: true });
  const kernels = new WebAssembly.Instance(module, { env: { memory } }).exports as unknown as {
    addArrays(a: number, b: number, out: number, size: number): void;
  };
  let pool: KernelThreads;
  beforeAll(async () => {
    pool = (await KernelThreads.start(module, memory, 1)) as KernelThreads;
  });

  it('runs a run of several calls per thread, each taken by whichever thread is free, and is ready again', () => {
    expect(pool.threads).toBe(2);
    expect(pool.maxCalls).toBe(8);
    const n = 1 << 14;
    const [a, b, out] = [1024, 1024 + 4 * n, 1024 + 8 * n];
    const view = new Float32Array(memory.buffer);
    for (let i = 0; i < n; i++) {
      view[a / 4 + i] = i;
      view[b / 4 + i] = 2 * i;
    }
    for (const slowHere of [true, false]) {
      view.fill(-1, out / 4, out / 4 + n);
      const part = n / 8;
      const calls = Array.from({ length: 8 }, (_, i) => ({
        fn: 'addArrays',
        args: [a + 4 * part * i, b + 4 * part * i, out + 4 * part * i, part],
      }));
      let here = 0;
      pool.run(calls, (call) => {
        here++;
        // a slowed calling thread leaves most calls to the helper
        if (slowHere) for (const end = performance.now() + 20; performance.now() < end; );
        kernels.addArrays(...(call.args as [number, number, number, number]));
      });
      expect(Array.from(view.subarray(out / 4, out / 4 + n)).every((v, i) => v === 3 * i)).toBe(true);
      if (slowHere) expect(here).toBeLessThan(8);
    }
  });

  it('refuses more calls than a run holds', () => {
    const call = { fn: 'addArrays', args: [1024, 1024, 1024, 0] };
    expect(() => pool.run(Array(9).fill(call), () => {})).toThrow(/9 calls for at most 8/);
  });
});
