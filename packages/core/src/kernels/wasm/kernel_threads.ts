/**
 * Helper threads (Node worker_threads) for our WebAssembly training kernels on the threaded wasm backend: each
 * instantiates the kernels on the backend's shared memory and runs the calls it finds in its shared-memory mailbox
 * (polled, then Atomics.wait: no messages, no event loop), while the calling thread runs its own share and then
 * waits for theirs. Kernels split work by channel range (or element range), so every value is computed the same way
 * whatever the split, and results do not depend on the thread count.
 */
import { Worker } from 'node:worker_threads';

/**
 * The control words (Int32, shared): [0] calls finished in the current run, [1] a helper failed, [2 + i] helper i's
 * mailbox sequence number (bumped for each call it is given). Each helper's call is in its own row of {@link
 * ARG_SLOTS} float64 words: [export index, argument count, arguments...].
 */
const ARG_SLOTS = 32;
/**
 * Polls of a mailbox before sleeping on it (~0.1-0.3 ms): a training step calls kernels back to back, and waking a
 * sleeping thread (futex) costs more than that in a virtual machine; a helper idle longer sleeps.
 */
const SPINS = 1 << 16;

const WORKER_SOURCE = `
const { parentPort } = require('node:worker_threads');
parentPort.once('message', (m) => {
  const kernels = new WebAssembly.Instance(m.module, { env: { memory: m.memory } }).exports;
  const control = new Int32Array(m.control);
  const calls = new Float64Array(m.calls);
  const names = m.names;
  const slot = 2 + m.index;
  const row = m.index * ${ARG_SLOTS};
  parentPort.postMessage({ type: 'ready' });
  let seen = 0;
  for (;;) {
    let now = Atomics.load(control, slot);
    for (let spin = 0; now === seen && spin < ${SPINS}; spin++) now = Atomics.load(control, slot);
    if (now === seen) {
      Atomics.wait(control, slot, seen);
      continue;
    }
    seen = now;
    try {
      const count = calls[row + 1];
      const args = [];
      for (let a = 0; a < count; a++) args.push(calls[row + 2 + a]);
      kernels[names[calls[row]]](...args);
    } catch (error) {
      Atomics.store(control, 1, 1);
      parentPort.postMessage({ type: 'error', message: String((error && error.stack) || error) });
    }
    Atomics.add(control, 0, 1);
    Atomics.notify(control, 0);
  }
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
    private readonly control: Int32Array,
    private readonly calls: Float64Array,
    private readonly names: string[],
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
    const control = new Int32Array(new SharedArrayBuffer(4 * (2 + helpers)));
    const calls = new Float64Array(new SharedArrayBuffer(8 * ARG_SLOTS * helpers));
    const names = WebAssembly.Module.exports(module)
      .filter((e) => e.kind === 'function')
      .map((e) => e.name);
    const workers = Array.from(
      { length: helpers },
      () => new Worker(WORKER_SOURCE, { eval: true, execArgv: [] }),
    );
    await Promise.all(
      workers.map(
        (worker, index) =>
          new Promise<void>((resolve, reject) => {
            worker.once('message', (m: { type: string }) =>
              m.type === 'ready' ? resolve() : reject(new Error('@wsss/core kernel thread did not start')),
            );
            worker.once('error', reject);
            worker.postMessage({
              module,
              memory,
              control: control.buffer,
              calls: calls.buffer,
              names,
              index,
            });
          }),
      ),
    );
    return new KernelThreads(workers, control, calls, names);
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
    const { control, calls: rows } = this;
    Atomics.store(control, 0, 0);
    for (let i = 1; i < calls.length; i++) {
      const { fn, args } = calls[i];
      const row = (i - 1) * ARG_SLOTS;
      if (args.length > ARG_SLOTS - 2)
        throw new Error(`@wsss/core: ${fn} has more than ${ARG_SLOTS - 2} arguments`);
      rows[row] = this.names.indexOf(fn);
      rows[row + 1] = args.length;
      rows.set(args, row + 2);
      Atomics.add(control, 1 + i, 1);
      Atomics.notify(control, 1 + i);
    }
    try {
      run(calls[0]);
    } finally {
      const helpers = calls.length - 1;
      let done = Atomics.load(control, 0);
      for (let spin = 0; done < helpers && spin < SPINS; spin++) done = Atomics.load(control, 0);
      const deadline = Date.now() + 60_000;
      for (; done < helpers; done = Atomics.load(control, 0)) {
        if (Atomics.wait(control, 0, done, Math.max(1, deadline - Date.now())) === 'timed-out') {
          this.failure ??= 'stalled for 60 s';
          break;
        }
      }
    }
    if (Atomics.load(control, 1) !== 0 || this.failure) {
      throw new Error(`@wsss/core: a kernel thread failed: ${this.failure ?? 'see its message'}`);
    }
  }
}
