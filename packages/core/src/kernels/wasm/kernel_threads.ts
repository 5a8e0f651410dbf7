/**
 * Helper threads (Node worker_threads) for our WebAssembly training kernels on the threaded wasm backend: each
 * instantiates the kernels on the backend's shared memory and runs the calls it is sent, while the calling thread
 * runs its own share and then waits (Atomics) for theirs. Kernels split work by channel range (or element range),
 * so every value is computed the same way whatever the split, and results do not depend on the thread count.
 */
import { Worker } from 'node:worker_threads';

const WORKER_SOURCE = `
const { parentPort } = require('node:worker_threads');
let kernels;
let flags;
parentPort.on('message', (m) => {
  if (m.type === 'init') {
    kernels = new WebAssembly.Instance(m.module, { env: { memory: m.memory } }).exports;
    flags = new Int32Array(m.flags);
    parentPort.postMessage({ type: 'ready' });
    return;
  }
  try {
    kernels[m.fn](...m.args);
  } catch (error) {
    Atomics.store(flags, 1, 1);
    parentPort.postMessage({ type: 'error', message: String((error && error.stack) || error) });
  }
  Atomics.add(flags, 0, 1);
  Atomics.notify(flags, 0);
});
`;

/** One call of a kernel export: its name and arguments. */
export interface KernelCall {
  fn: string;
  args: number[];
}

/** A pool of helper threads bound to one WebAssembly memory. */
export class KernelThreads {
  private failure: string | undefined;

  private constructor(
    private readonly workers: Worker[],
    private readonly flags: Int32Array,
  ) {
    for (const worker of workers) {
      worker.on('message', (m: { type: string; message?: string }) => {
        if (m.type === 'error') this.failure = m.message;
      });
      worker.on('error', (error: Error) => {
        this.failure = String(error.stack ?? error);
      });
      worker.unref();
    }
  }

  /** Threads a split may use: the helpers and the calling thread. */
  get threads(): number {
    return this.workers.length + 1;
  }

  /** Starts `helpers` threads running `module` on `memory` (shared), or undefined when none are asked for. */
  static async start(
    module: WebAssembly.Module,
    memory: WebAssembly.Memory,
    helpers: number,
  ): Promise<KernelThreads | undefined> {
    if (helpers < 1) return undefined;
    const flags = new Int32Array(new SharedArrayBuffer(8));
    const workers = Array.from(
      { length: helpers },
      () => new Worker(WORKER_SOURCE, { eval: true, execArgv: [] }),
    );
    await Promise.all(
      workers.map(
        (worker) =>
          new Promise<void>((resolve, reject) => {
            worker.once('message', (m: { type: string }) =>
              m.type === 'ready' ? resolve() : reject(new Error('@wsss/core kernel thread did not start')),
            );
            worker.once('error', reject);
            worker.postMessage({ type: 'init', module, memory, flags: flags.buffer });
          }),
      ),
    );
    return new KernelThreads(workers, flags);
  }

  /**
   * Runs `calls[0]` here and the others on helpers 1..n-1 (at most {@link KernelThreads.threads} calls), returning
   * when all are done. `run` executes a call on this thread.
   */
  run(calls: KernelCall[], run: (call: KernelCall) => void): void {
    if (this.failure) throw new Error(`@wsss/core: a kernel thread failed: ${this.failure}`);
    if (calls.length > this.threads) {
      throw new Error(`@wsss/core: ${calls.length} calls for ${this.threads} kernel threads`);
    }
    Atomics.store(this.flags, 0, 0);
    for (let i = 1; i < calls.length; i++) this.workers[i - 1].postMessage(calls[i]);
    try {
      run(calls[0]);
    } finally {
      const helpers = calls.length - 1;
      const deadline = Date.now() + 60_000;
      for (let done = Atomics.load(this.flags, 0); done < helpers; done = Atomics.load(this.flags, 0)) {
        if (Atomics.wait(this.flags, 0, done, Math.max(1, deadline - Date.now())) === 'timed-out') {
          this.failure ??= 'stalled for 60 s';
          break;
        }
      }
    }
    if (Atomics.load(this.flags, 1) !== 0 || this.failure) {
      throw new Error(`@wsss/core: a kernel thread failed: ${this.failure ?? 'see its message'}`);
    }
  }
}
