import type { KernelArena } from '../wasm/kernel_arena';
import { type CrfPhase, crfBarrier, crfShare } from './crf_share';

/** Runs in each worker thread: instantiates the kernels on the shared memory and runs its share of a phase on request. */
const WORKER_SOURCE = `
const crfBarrier = ${crfBarrier.toString()};
const crfShare = ${crfShare.toString()};
const { parentPort } = require('node:worker_threads');
let kernels;
let memory;
parentPort.on('message', (m) => {
  try {
    if (m.type === 'init') {
      memory = m.memory;
      kernels = new WebAssembly.Instance(m.module, { env: { memory } }).exports;
      parentPort.postMessage({ type: 'ready' });
    } else {
      crfShare(kernels, memory, m.context, m.phase, m.thread, m.threads, m.iterations, m.axes);
      parentPort.postMessage({ type: 'done' });
    }
  } catch (error) {
    parentPort.postMessage({ type: 'error', message: String((error && error.stack) || error) });
  }
});
`;

interface NodeWorker {
  postMessage(message: unknown): void;
  once(event: 'message', listener: (message: { type: string; message?: string }) => void): void;
  on(event: 'message' | 'error', listener: (value: never) => void): void;
  unref(): void;
}

/**
 * Helper threads (Node worker_threads) that run their share of a dense-CRF phase on the arena's shared memory while
 * the calling thread runs its own. Workers are started once, unref'd (they never keep a process alive)
 * and reused.
 */
export class KernelWorkers {
  private constructor(
    private readonly workers: NodeWorker[],
    private failure: string | undefined = undefined,
  ) {
    for (const worker of workers) {
      worker.on('message', (m: { type: string; message?: string }) => {
        if (m.type === 'error') this.failure = m.message;
      });
      worker.on('error', (error: Error) => {
        this.failure = String(error.stack ?? error);
      });
    }
  }

  /** Number of helper threads. */
  get size(): number {
    return this.workers.length;
  }

  /** Starts `count` helpers on `arena`'s memory, or returns undefined where threads are unavailable. */
  static async start(arena: KernelArena, count: number): Promise<KernelWorkers | undefined> {
    if (!arena.shared || count < 1 || typeof process === 'undefined' || !process.versions?.node)
      return undefined;
    const { Worker } = await import('node:worker_threads');
    const workers = Array.from(
      { length: count },
      () => new Worker(WORKER_SOURCE, { eval: true, execArgv: [] }) as unknown as NodeWorker,
    );
    await Promise.all(
      workers.map(
        (worker) =>
          new Promise<void>((resolve, reject) => {
            worker.once('message', (m) =>
              m.type === 'ready' ? resolve() : reject(new Error(`@wsss/crf worker: ${m.message}`)),
            );
            worker.postMessage({ type: 'init', module: arena.module, memory: arena.memory });
          }),
      ),
    );
    const pool = new KernelWorkers(workers);
    for (const worker of workers) worker.unref();
    return pool;
  }

  /**
   * Runs `phase` on `context` with the calling thread as thread 0 and the helpers as threads 1..threads-1; returns
   * when all threads have passed the last barrier (so every result is in memory).
   */
  run(
    arena: KernelArena,
    context: number,
    phase: CrfPhase,
    threads: number,
    iterations: number,
    axes: number,
  ): void {
    if (this.failure) throw new Error(`@wsss/crf: a worker thread failed: ${this.failure}`);
    if (threads < 2 || threads > this.workers.length + 1) {
      throw new Error(`@wsss/crf: threads must be in [2, ${this.workers.length + 1}], got ${threads}`);
    }
    for (let t = 1; t < threads; t++) {
      this.workers[t - 1].postMessage({ type: 'run', context, phase, thread: t, threads, iterations, axes });
    }
    try {
      crfShare(arena.exports, arena.memory, context, phase, 0, threads, iterations, axes);
    } catch (error) {
      // the barrier throws after 30 s without the other threads: a worker died or stalled; the pool is not reused
      this.failure ??= `stalled (${String(error)})`;
      throw new Error(`@wsss/crf: inference stopped waiting for its worker threads: ${this.failure}`);
    }
  }
}

let shared: Promise<KernelWorkers | undefined> | undefined;

/** The process-wide helper threads (one per extra core, at most 7), started on first use. */
export function kernelWorkers(arena: KernelArena): Promise<KernelWorkers | undefined> {
  shared ??= (async () => {
    if (typeof process === 'undefined' || !process.versions?.node) return undefined;
    const { availableParallelism } = await import('node:os');
    return KernelWorkers.start(arena, Math.min(7, availableParallelism() - 1));
  })();
  return shared;
}
