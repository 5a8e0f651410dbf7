/**
 * tfjs-backend-wasm's multi-threaded build (XNNPACK on a pthreadpool) in Node.
 *
 * tfjs ships the build but never starts it in Node: its thread-support flag is hard-wired to false there, and the
 * Emscripten glue would create its pthread workers from `blob:` URLs, which Node's `worker_threads` refuses. Besides,
 * the backend caps XNNPACK at half the logical cores (`emscripten_num_logical_cores() / 2`, meant for
 * hyper-threaded desktops), so a 2-core machine would get one thread. {@link startThreadedWasm} supplies, for the
 * duration of the backend's start only: a `Blob` whose text can be read synchronously and a `URL.createObjectURL`
 * that writes it to a private temporary folder (with the module-scope names the worker's copy of the loader
 * refers to), and `os.cpus()` reporting twice the requested thread count. Everything is restored and the folder
 * removed once the backend runs; the 8 pthread workers the build starts up front are then loaded.
 *
 * The names it supplies are read from the installed Node bundle itself, and the start is attempted only when that
 * bundle looks like the one this was written against (tfjs-backend-wasm 4.22); otherwise the caller runs on one
 * thread and says why.
 */

import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';

/** XNNPACK's pool in tfjs-backend-wasm has 8 pre-started workers: more threads than that cannot start. */
export const MAX_WASM_THREADS = 8;

const MAIN_SCRIPT_PREFIX = 'var WasmBackendModuleThreadedSimd = ';
const MARKERS = [
  'wasmWorkerContents',
  'commonjsGlobal.Worker = nodeWorkerThreads.Worker',
  'mainScriptUrlOrBlob',
  'require$$4.cpus().length',
];

/** The installed Node bundle's text and the module-scope names (`require$$N = require(...)`) its loader uses. */
export interface ThreadedWasmPlan {
  bundle: string;
  moduleNames: [name: string, specifier: string][];
}

/** The default thread count in Node: the cores Node may use, at most {@link MAX_WASM_THREADS}. */
export async function defaultWasmThreads(): Promise<number> {
  return Math.max(1, Math.min(MAX_WASM_THREADS, availableParallelism()));
}

/** Reads the installed tfjs-backend-wasm Node bundle; a string says why its threaded build cannot be started. */
export function planThreadedWasm(): ThreadedWasmPlan | string {
  const require = createRequire(import.meta.url);
  let bundle: string;
  try {
    const file = require.resolve('@tensorflow/tfjs-backend-wasm');
    bundle = readFileSync(file, 'utf8');
  } catch (err) {
    return `tfjs-backend-wasm's Node bundle cannot be read (${(err as Error).message})`;
  }
  const missing = MARKERS.filter((marker) => !bundle.includes(marker));
  if (missing.length > 0) {
    return `the installed tfjs-backend-wasm is not the 4.22 Node bundle this was written for (lacks ${missing[0]})`;
  }
  const moduleNames = [...bundle.matchAll(/^var (require\$\$\d+) = require\('([\w:/-]+)'\);$/gm)].map(
    (m) => [m[1], m[2]] as [string, string],
  );
  return { bundle, moduleNames };
}

/**
 * Starts the backend through `start` (which calls `tf.setBackend('wasm')`) with the threaded build on `threads`
 * threads; `backendModule` then returns the started backend's Emscripten module. `setThreadsCount` and the
 * thread-support flag must be set by the caller.
 */
export async function startThreadedWasm<T>(
  plan: ThreadedWasmPlan,
  threads: number,
  start: () => Promise<T>,
  backendModule: () => unknown,
): Promise<T> {
  const require = createRequire(import.meta.url);
  const os = require('node:os') as typeof import('node:os');
  const folder = mkdtempSync(join(tmpdir(), 'wsss-wasm-threads-'));
  const mainScript = join(folder, 'main.cjs');
  const workerScript = join(folder, 'worker.cjs');
  const prologue =
    `Object.assign(globalThis, { commonjsGlobal: globalThis${plan.moduleNames
      .map(([name, specifier]) => `, ${name}: require(${JSON.stringify(specifier)})`)
      .join('')} });\n` +
    // the worker turns the main script's Blob into a URL and evaluates that file
    `URL.createObjectURL = () => ${JSON.stringify(mainScript)};\nURL.revokeObjectURL = () => {};\n`;

  const saved = {
    Blob: globalThis.Blob,
    createObjectURL: URL.createObjectURL,
    Worker: (globalThis as { Worker?: unknown }).Worker,
    cpus: os.cpus,
  };
  const cpus = saved.cpus.call(os);
  // A Blob stand-in whose text can be read synchronously: the loader only constructs Blobs and passes them on.
  class TextBlob {
    readonly text: string;
    constructor(parts: unknown[]) {
      this.text = parts.map(String).join('');
      if (this.text.startsWith(MAIN_SCRIPT_PREFIX)) {
        // the loader's own source, which the workers evaluate: it must be the bundle read above, whose
        // module-scope names the prologue supplies
        const head = this.text.slice(MAIN_SCRIPT_PREFIX.length, MAIN_SCRIPT_PREFIX.length + 20000);
        if (!plan.bundle.includes(head)) {
          throw new Error('the running tfjs-backend-wasm loader is not the Node bundle that was read');
        }
        writeFileSync(mainScript, this.text);
      }
    }
  }
  globalThis.Blob = TextBlob as unknown as typeof Blob;
  // only the pthread worker's script becomes a URL on this thread
  URL.createObjectURL = (blob: unknown) => {
    writeFileSync(workerScript, prologue + (blob as TextBlob).text);
    return workerScript;
  };
  // the backend runs min(requested, cores / 2) threads
  os.cpus = () => Array.from({ length: 2 * threads }, (_, i) => cpus[i % cpus.length]);
  try {
    const started = await start();
    unrefThreadWorkers(backendModule());
    return started;
  } finally {
    globalThis.Blob = saved.Blob;
    URL.createObjectURL = saved.createObjectURL;
    os.cpus = saved.cpus;
    (globalThis as { Worker?: unknown }).Worker = saved.Worker;
    if (saved.Worker === undefined) delete (globalThis as { Worker?: unknown }).Worker;
    rmSync(folder, { recursive: true, force: true });
  }
}

/**
 * Emscripten keeps a pthread's worker referenced while the thread runs, and XNNPACK's pool threads run (waiting for
 * work) until the backend is disposed: without this a Node program would never exit by itself.
 */
function unrefThreadWorkers(module: unknown): void {
  const workers = (module as { PThread?: { runningWorkers?: { unref?: () => void }[] } } | undefined)?.PThread
    ?.runningWorkers;
  for (const worker of workers ?? []) worker.unref?.();
}
