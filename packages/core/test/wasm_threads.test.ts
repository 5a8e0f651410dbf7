import { execFileSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '../../..');

interface ThreadsRun {
  threads: number;
  threadsNote: string | null;
  cpuOverWall: number;
  tensors: number;
  outputs: Record<string, number[]>;
}

/** test/processes/wasm_threads.ts in a fresh Node process with WSSS_THREADS; it has to exit by itself. */
function runWithThreads(threads: string): ThreadsRun {
  const out = execFileSync(
    process.execPath,
    [join(root, 'node_modules/tsx/dist/cli.mjs'), join(here, 'processes', 'wasm_threads.ts')],
    {
      cwd: root,
      encoding: 'utf8',
      timeout: 120000,
      maxBuffer: 256 * 2 ** 20,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, WSSS_THREADS: threads, WSSS_BACKEND: '' },
    },
  );
  return JSON.parse(out.trim().split('\n').pop() ?? '{}');
}

describe('wasm backend on several threads (tfjs-backend-wasm threaded build in Node)', () => {
  let one: ThreadsRun;
  let two: ThreadsRun;
  beforeAll(() => {
    one = runWithThreads('1');
    two = runWithThreads('2');
  });

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
    const names = Object.keys(one.outputs);
    expect(names).toHaveLength(13 * 3 + 6);
    expect(Object.keys(two.outputs)).toEqual(names);
    for (const name of names) {
      const a = one.outputs[name];
      const b = two.outputs[name];
      expect(b).toHaveLength(a.length);
      let worst = 0;
      const scale = a.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
      for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i] - b[i]) / scale);
      // XNNPACK and our kernels split the outputs, never a sum, between threads: each value is computed the same way
      expect({ name, worst }).toEqual({ name, worst: 0 });
    }
  });

  it('says what is wrong with a bad WSSS_THREADS', () => {
    expect(() => runWithThreads('0')).toThrow(
      /threads must be an integer >= 1, got '0' \(from WSSS_THREADS\)/,
    );
  });
});
