import type { CrfResult } from '../dense_crf_inference';
import type { CrfParams, CrfPresetName } from '../presets';

/** Runs in the worker: loads this package's CommonJS build and answers crfOnScores requests one after another. */
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
let crf;
try {
  if (workerData.register) require(workerData.register);
  crf = require(workerData.entry);
} catch (error) {
  parentPort.postMessage({ id: -1, error: 'cannot load ' + workerData.entry + ': ' + String((error && error.message) || error) });
}
parentPort.on('message', async (m) => {
  try {
    const result = await crf.crfOnScores(m.image, { labelMajor: m.labelMajor, classValues: m.classValues }, m.options);
    parentPort.postMessage({ id: m.id, q: result.q, labels: result.labels }, [result.q.buffer, result.labels.buffer]);
  } catch (error) {
    parentPort.postMessage({ id: m.id, error: String((error && error.stack) || error) });
  }
});
`;

interface Reply {
  id: number;
  q?: Float32Array;
  labels?: Uint8Array;
  error?: string;
}

interface NodeWorker {
  postMessage(message: unknown, transfer?: ArrayBuffer[]): void;
  on(event: 'message', listener: (reply: Reply) => void): void;
  on(event: 'error', listener: (error: Error) => void): void;
  terminate(): Promise<number>;
}

/**
 * Dense CRFs on a worker thread of their own (Node): {@link crfOnScores} calls queue there and run while the calling
 * thread does other work, such as a network's training step on TensorFlow.js, which a CRF on the calling thread
 * (even with `threads`) would wait for. Requests run one at a time, in order; submit several before awaiting them to
 * keep the worker busy. The worker loads this package's CommonJS build.
 *
 * ```ts
 * const worker = await BackgroundCrf.start();
 * const pending = images.map((image, k) => worker.crfOnScores(image, { labelMajor: scores[k], classValues }));
 * trainStep(); // runs meanwhile
 * const results = await Promise.all(pending);
 * await worker.close();
 * ```
 */
export class BackgroundCrf {
  private next = 0;
  private readonly waiting = new Map<
    number,
    { resolve: (r: CrfResult) => void; reject: (e: Error) => void }
  >();
  private failure: string | undefined;

  private constructor(private readonly worker: NodeWorker) {
    worker.on('message', (reply) => {
      if (reply.id === -1) {
        this.fail(reply.error ?? 'the worker failed to start');
        return;
      }
      const waiter = this.waiting.get(reply.id);
      if (!waiter) return;
      this.waiting.delete(reply.id);
      if (reply.error !== undefined) waiter.reject(new Error(`BackgroundCrf: ${reply.error}`));
      else waiter.resolve({ q: reply.q!, labels: reply.labels! });
    });
    worker.on('error', (error) => this.fail(String(error.stack ?? error)));
  }

  private fail(message: string): void {
    this.failure = message;
    for (const waiter of this.waiting.values()) waiter.reject(new Error(`BackgroundCrf: ${message}`));
    this.waiting.clear();
  }

  /** Starts the worker thread (Node only). */
  static async start(): Promise<BackgroundCrf> {
    if (typeof process === 'undefined' || !process.versions?.node)
      throw new Error('BackgroundCrf: worker threads need Node.js; in a browser call crfOnScores directly');
    const { Worker } = await import('node:worker_threads');
    const worker = new Worker(WORKER_SOURCE, { eval: true, workerData: await workerEntry(), execArgv: [] });
    return new BackgroundCrf(worker as unknown as NodeWorker);
  }

  /**
   * {@link crfOnScores} on the worker thread (one thread for the mean field), with label-major scores; `labelMajor`
   * is copied to the worker, the caller keeps it.
   */
  crfOnScores(
    image: { width: number; height: number; data: Uint8Array },
    input: { labelMajor: Float32Array; classValues: readonly number[] },
    options: { numClasses?: number; params?: CrfParams | CrfPresetName } = {},
  ): Promise<CrfResult> {
    if (this.failure) return Promise.reject(new Error(`BackgroundCrf: ${this.failure}`));
    const id = this.next++;
    return new Promise<CrfResult>((resolve, reject) => {
      this.waiting.set(id, { resolve, reject });
      this.worker.postMessage({
        id,
        image: { width: image.width, height: image.height, data: image.data },
        labelMajor: input.labelMajor,
        classValues: [...input.classValues],
        options: { ...options, threads: 1 },
      });
    });
  }

  /** Stops the worker; pending requests are rejected. */
  async close(): Promise<void> {
    this.fail('closed');
    await this.worker.terminate();
  }
}

/**
 * What the worker loads: the package's CommonJS build; when this file runs from the TypeScript sources (the
 * repository's tests), the sources' index through tsx.
 */
async function workerEntry(): Promise<{ entry: string; register?: string }> {
  const { createRequire } = await import('node:module');
  const { fileURLToPath } = await import('node:url');
  const { dirname, join } = await import('node:path');
  const here = fileURLToPath(import.meta.url);
  const require = createRequire(import.meta.url);
  if (here.endsWith('.ts'))
    return { entry: join(dirname(here), '..', 'index.ts'), register: require.resolve('tsx/cjs') };
  return { entry: require.resolve('@wsss/crf') };
}
