/**
 * Helper threads (Node worker_threads) for our WebAssembly training kernels on the threaded wasm backend: each
 * instantiates the kernels on the backend's shared memory and, woken through its shared-memory mailbox (polled, then
 * Atomics.wait: no messages, no event loop), takes calls of the current run from a shared table, as the calling
 * thread does, until none is left. Kernels split work by channel range (or element range), so every value is
 * computed the same way whatever the split and whichever thread takes a part: results do not depend on the thread
 * count.
 */
import { Worker } from 'node:worker_threads';

/**
 * The control words (Int32, shared): [0] helpers done with the current run, [1] a helper failed, [2] the next call
 * to take, [3] the run's call count, [4 + i] helper i's mailbox sequence number (bumped to wake it for a run). The
 * calls are rows of {@link ARG_SLOTS} float64 words: [export index, argument count, arguments...].
 */
const ARG_SLOTS = 32;
const DONE = 0;
const FAILED = 1;
const NEXT = 2;
const COUNT = 3;
const MAILBOX = 4;
/**
 * Calls a run may hold per thread. A split cut into a few calls per thread balances itself: whichever thread is free
 * takes the next call, so a core slowed by other work (a busy neighbour on a shared machine) takes fewer.
 */
export const CALLS_PER_THREAD = 4;
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
  const slot = ${MAILBOX} + m.index;
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
    const count = Atomics.load(control, ${COUNT});
    try {
      for (let i = Atomics.add(control, ${NEXT}, 1); i < count; i = Atomics.add(control, ${NEXT}, 1)) {
        const row = i * ${ARG_SLOTS};
        const args = [];
        for (let a = 0; a < calls[row + 1]; a++) args.push(calls[row + 2 + a]);
        kernels[names[calls[row]]](...args);
      }
    } catch (error) {
      Atomics.store(control, ${FAILED}, 1);
      parentPort.postMessage({ type: 'error', message: String((error && error.stack) || error) });
    }
    Atomics.add(control, ${DONE}, 1);
    Atomics.notify(control, ${DONE});
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
    const control = new Int32Array(new SharedArrayBuffer(4 * (MAILBOX + helpers)));
    const calls = new Float64Array(new SharedArrayBuffer(8 * ARG_SLOTS * CALLS_PER_THREAD * (helpers + 1)));
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

  /** The most calls one {@link KernelThreads.run} takes. */
  get maxCalls(): number {
    return CALLS_PER_THREAD * this.threads;
  }

  /**
   * Runs `calls` (at most {@link KernelThreads.maxCalls}) on this thread and the helpers, each call taken by whichever
   * thread is free next, returning when all are done. `run` executes a call on this thread.
   */
  run(calls: KernelCall[], run: (call: KernelCall) => void): void {
    if (this.failure) throw new Error(`@wsss/core: a kernel thread failed: ${this.failure}`);
    if (calls.length > this.maxCalls) {
      throw new Error(
        `@wsss/core: ${calls.length} calls for at most ${this.maxCalls} in a kernel thread run`,
      );
    }
    const { control, calls: rows } = this;
    calls.forEach(({ fn, args }, i) => {
      if (args.length > ARG_SLOTS - 2)
        throw new Error(`@wsss/core: ${fn} has more than ${ARG_SLOTS - 2} arguments`);
      const row = i * ARG_SLOTS;
      rows[row] = this.names.indexOf(fn);
      rows[row + 1] = args.length;
      rows.set(args, row + 2);
    });
    // every helper woken for the last run has finished it (below): none can take a call of this one early
    Atomics.store(control, DONE, 0);
    Atomics.store(control, COUNT, calls.length);
    Atomics.store(control, NEXT, 0);
    const helpers = Math.min(this.workers.length, calls.length - 1);
    for (let h = 0; h < helpers; h++) {
      Atomics.add(control, MAILBOX + h, 1);
      Atomics.notify(control, MAILBOX + h);
    }
    try {
      for (let i = Atomics.add(control, NEXT, 1); i < calls.length; i = Atomics.add(control, NEXT, 1)) {
        run(calls[i]);
      }
    } finally {
      // wait until the woken helpers have left the run, whether or not a call was left for them
      let done = Atomics.load(control, DONE);
      for (let spin = 0; done < helpers && spin < SPINS; spin++) done = Atomics.load(control, DONE);
      const deadline = Date.now() + 60_000;
      for (; done < helpers; done = Atomics.load(control, DONE)) {
        if (Atomics.wait(control, DONE, done, Math.max(1, deadline - Date.now())) === 'timed-out') {
          this.failure ??= 'stalled for 60 s';
          break;
        }
      }
    }
    if (Atomics.load(control, FAILED) !== 0 || this.failure) {
      throw new Error(`@wsss/core: a kernel thread failed: ${this.failure ?? 'see its message'}`);
    }
  }
}
