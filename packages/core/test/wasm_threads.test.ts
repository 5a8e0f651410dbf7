import { execFileSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { TRAINING_KERNELS } from '../src/kernels/wasm/wasm_heap_kernels';
import { decodeBase64 } from '../src/wasm/wasm_builds';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '../../..');

interface ThreadsRun {
  threads: number;
  xnnpackThreads: number;
  threadsNote: string | null;
  relaxedSimd: boolean;
  cpuOverWall: number;
  tensors: number;
  outputs: Record<string, number[]>;
}

/** Node 20 has relaxed SIMD behind a flag; Node >= 22 has it on (and no longer knows the flag). */
const relaxedSimdFlag = WebAssembly.validate(decodeBase64(TRAINING_KERNELS.relaxed?.plain ?? ''))
  ? []
  : ['--experimental-wasm-relaxed-simd'];

/**
 * test/processes/wasm_threads.ts in a fresh Node process with WSSS_THREADS, our kernels' plain SIMD build or their
 * relaxed-SIMD one; it has to exit by itself.
 */
function runWithThreads(threads: string, relaxed = false, env: Record<string, string> = {}): ThreadsRun {
  const out = execFileSync(
    process.execPath,
    [
      join(root, 'node_modules/tsx/dist/cli.mjs'),
      ...(relaxed ? relaxedSimdFlag : []),
      join(here, 'processes', 'wasm_threads.ts'),
    ],
    {
      cwd: root,
      encoding: 'utf8',
      timeout: 120000,
      maxBuffer: 256 * 2 ** 20,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: {
        ...process.env,
        WSSS_THREADS: threads,
        WSSS_BACKEND: '',
        WSSS_RELAXED_SIMD: relaxed ? '1' : '0',
        WSSS_XNNPACK_THREADS: '',
        ...env,
      },
    },
  );
  return JSON.parse(out.trim().split('\n').pop() ?? '{}');
}

describe('wasm backend on several threads (tfjs-backend-wasm threaded build in Node)', () => {
  let one: ThreadsRun;
  let two: ThreadsRun;
  let relaxedOne: ThreadsRun;
  let relaxedTwo: ThreadsRun;
  let twoXnnpack: ThreadsRun;
  beforeAll(() => {
    one = runWithThreads('1');
    two = runWithThreads('2');
    relaxedOne = runWithThreads('1', true);
    relaxedTwo = runWithThreads('2', true);
    twoXnnpack = runWithThreads('2', false, { WSSS_XNNPACK_THREADS: '2' });
  });

  /** The largest |a - b| over the outputs, relative to the largest |a| of each output. */
  const worstDifference = (a: ThreadsRun, b: ThreadsRun) => {
    const names = Object.keys(a.outputs);
    expect(names).toHaveLength(14 * 3 + 6);
    expect(Object.keys(b.outputs)).toEqual(names);
    return names.map((name) => {
      const x = a.outputs[name];
      const y = b.outputs[name];
      expect(y).toHaveLength(x.length);
      let worst = 0;
      const scale = x.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
      for (let i = 0; i < x.length; i++) worst = Math.max(worst, Math.abs(x[i] - y[i]) / scale);
      return { name, worst };
    });
  };

  it('runs the requested threads, keeping more than one core busy, and the process exits by itself', () => {
    expect(one.threads).toBe(1);
    expect(two.threads).toBe(2);
    expect(two.threadsNote).toBeNull();
    // one thread: CPU time is at most the wall time (plus Node's own helpers); two: well beyond it
    expect(one.cpuOverWall).toBeLessThan(1.15);
    expect(two.cpuOverWall).toBeGreaterThan(1.3);
    expect(two.tensors).toBe(one.tensors);
  });

  it('gives the results of one thread on two: convolutions (plain and fused), depthwise, their gradients, ReLU6, softmax, sums, matmul', () => {
    // XNNPACK and our kernels split the outputs, never a sum, between threads: each value is computed the same way
    for (const [a, b] of [
      [one, two],
      [relaxedOne, relaxedTwo],
    ]) {
      for (const { name, worst } of worstDifference(a, b))
        expect({ name, worst }).toEqual({ name, worst: 0 });
    }
  });

  it('runs the relaxed-SIMD build (fused multiply-adds) where asked, within 5e-6 of the plain one', () => {
    expect([one.relaxedSimd, two.relaxedSimd]).toEqual([false, false]);
    expect([relaxedOne.relaxedSimd, relaxedTwo.relaxedSimd]).toEqual([true, true]);
    const differences = worstDifference(two, relaxedTwo);
    for (const { name, worst } of differences)
      expect({ name, close: worst < 5e-6 }).toEqual({ name, close: true });
    // and it is another build: our products round differently (unless this CPU has no FMA)
    expect(Math.max(...differences.map((d) => d.worst))).toBeGreaterThan(0);
  });

  it("runs XNNPACK's own pool on one thread unless asked, with the same results on two", () => {
    expect([one.xnnpackThreads, two.xnnpackThreads, twoXnnpack.xnnpackThreads]).toEqual([1, 1, 2]);
    expect(twoXnnpack.threads).toBe(2);
    for (const { name, worst } of worstDifference(two, twoXnnpack))
      expect({ name, worst }).toEqual({ name, worst: 0 });
    expect(() => runWithThreads('1', false, { WSSS_XNNPACK_THREADS: 'x' })).toThrow(
      /xnnpackThreads must be an integer >= 1, got 'x' \(from WSSS_XNNPACK_THREADS\)/,
    );
  });

  it('says what is wrong with a bad WSSS_THREADS', () => {
    expect(() => runWithThreads('0')).toThrow(
      /threads must be an integer >= 1, got '0' \(from WSSS_THREADS\)/,
    );
  });
});
