import { registerWasmTrainingKernels } from '../kernels/wasm/register';
import { startWasmKernelThreads, TRAINING_KERNELS, wasmHeapKernels } from '../kernels/wasm/wasm_heap_kernels';
import { tf } from '../tf';
import { setRelaxedSimd, usesRelaxedSimd } from '../wasm/wasm_builds';
import { importOptional } from './optional_module';
import { isNode, nodeWasmDirectory } from './wasm_paths';
import { defaultWasmThreads, MAX_WASM_THREADS, planThreadedWasm, startThreadedWasm } from './wasm_threads';

/** The backends `@wsss/*` knows how to start, fastest first. */
export const BACKEND_PRIORITY = ['tensorflow', 'webgpu', 'wasm', 'cpu'] as const;
export type BackendName = (typeof BACKEND_PRIORITY)[number];

/**
 * The automatic order: BACKEND_PRIORITY in a browser; in Node without webgpu, which starts there only when asked for
 * (`selectBackend('webgpu')`): Node has no OffscreenCanvas, so the webgpu backend cannot read a tensor synchronously,
 * and `dataSync()` (tfjs' own and many callers') fails there.
 */
export function automaticBackendOrder(): readonly BackendName[] {
  return isNode() ? BACKEND_PRIORITY.filter((name) => name !== 'webgpu') : BACKEND_PRIORITY;
}

export interface SelectBackendOptions {
  /**
   * One backend, or an ordered list to try. Default: the `WSSS_BACKEND` environment variable when set, otherwise
   * {@link automaticBackendOrder} (BACKEND_PRIORITY; in Node without webgpu). A backend named explicitly (here or in
   * `WSSS_BACKEND`) that cannot start is an error; in the automatic order unavailable ones are skipped.
   */
  preference?: BackendName | readonly BackendName[];
  /** Where the wasm binaries live (URL prefix in a browser). Default in Node: the installed package's `dist/`. */
  wasmPaths?: string;
  /**
   * Threads of the wasm backend in Node, 1 to 8: our kernels (convolutions, matrix products and their gradients)
   * split their work between this many. Default: the `WSSS_THREADS` environment variable when set, otherwise the
   * cores Node may use (at most 8). 1 runs tfjs' single-threaded SIMD build; more start its threaded build, which
   * tfjs itself never does in Node. Results do not depend on it (tested). The wasm backend starts once per process:
   * later calls report the threads it runs on. In a browser tfjs decides.
   */
  threads?: number;
  /**
   * Node, wasm on several threads: threads of XNNPACK's own pool, which runs the tfjs kernels we do not replace
   * (elementwise ops, pooling, softmax, resizing), 1 to `threads`. Default 1: those ops are light next to ours, and
   * XNNPACK's pool threads keep polling for work after each of its calls, taking the cores from our kernels (the LR
   * loss on two threads: ~129 -> ~108 ms a forward + backward with one). Also the `WSSS_XNNPACK_THREADS` environment
   * variable. Results do not depend on it (tested).
   */
  xnnpackThreads?: number;
  /**
   * wasm: run our training kernels' relaxed-SIMD build (fused multiply-adds, ~1.5x faster products) where the engine
   * has relaxed SIMD (Node >= 22, Chrome >= 114; Node 20 with `--experimental-wasm-relaxed-simd`). Default: true,
   * unless the `WSSS_RELAXED_SIMD` environment variable is `0`. False gives results that do not depend on the CPU.
   * Decided by the first call that starts wasm, like the threads. See {@link setRelaxedSimd}.
   */
  relaxedSimd?: boolean;
  /** Receives the one line saying which backend runs. Default `console.info`; `null` silences it. */
  log?: ((line: string) => void) | null;
}

export interface SelectedBackend {
  name: BackendName;
  /** Why each backend tried before it was skipped. */
  skipped: { name: BackendName; reason: string }[];
  /** wasm only: the threads its kernels run on, and why fewer than requested when so. */
  threads?: number;
  threadsNote?: string;
  /** wasm only: whether our training kernels run their relaxed-SIMD build (fused multiply-adds). */
  relaxedSimd?: boolean;
  /** wasm in Node: the threads of XNNPACK's own pool (see {@link SelectBackendOptions.xnnpackThreads}). */
  xnnpackThreads?: number;
}

interface Started {
  threads?: number;
  threadsNote?: string;
  relaxedSimd?: boolean;
  xnnpackThreads?: number;
}

class BackendUnavailable extends Error {}

let announced: string | undefined;
/** The first selectBackend that starts wasm decides the build of our kernels, as it decides the threads. */
let relaxedSimdChosen = false;

/**
 * Starts the fastest TensorFlow.js backend that is available and makes it current:
 * `tensorflow` (`@tensorflow/tfjs-node-gpu` or `@tensorflow/tfjs-node`, only if installed) > `webgpu` (only if a
 * WebGPU adapter exists: in a browser; in Node, with the `webgpu` package, only when named, see
 * {@link automaticBackendOrder}) > `wasm` (SIMD, with the training kernels of `@wsss/core` registered) > `cpu`.
 *
 * ```ts
 * import { selectBackend, tf } from '@wsss/core';
 * const { name } = await selectBackend();          // e.g. 'wasm'
 * await selectBackend('cpu');                      // explicit choice; throws if unavailable
 * // or: WSSS_BACKEND=cpu node train.js
 * ```
 */
export async function selectBackend(
  preferenceOrOptions?: BackendName | readonly BackendName[] | SelectBackendOptions,
): Promise<SelectedBackend> {
  const options: SelectBackendOptions =
    typeof preferenceOrOptions === 'string' || Array.isArray(preferenceOrOptions)
      ? { preference: preferenceOrOptions as BackendName | BackendName[] }
      : ((preferenceOrOptions as SelectBackendOptions | undefined) ?? {});
  const envChoice = isNode() ? process.env.WSSS_BACKEND?.trim() : undefined;
  const explicit = options.preference ?? (envChoice ? (envChoice.split(',') as BackendName[]) : undefined);
  const order: readonly BackendName[] =
    explicit === undefined ? automaticBackendOrder() : typeof explicit === 'string' ? [explicit] : explicit;
  for (const name of order) {
    if (!(BACKEND_PRIORITY as readonly string[]).includes(name)) {
      throw new Error(
        `selectBackend: unknown backend '${name}'${options.preference ? '' : ' (from WSSS_BACKEND)'}; ` +
          `expected one of ${BACKEND_PRIORITY.join(', ')}`,
      );
    }
  }

  const skipped: SelectedBackend['skipped'] = [];
  for (const name of order) {
    try {
      const started = await STARTERS[name](options);
      const threads =
        started.threads === undefined
          ? ''
          : `, ${started.threads} thread${started.threads > 1 ? 's' : ''}${started.threadsNote ? ` (${started.threadsNote})` : ''}`;
      const line =
        `[wsss] backend: ${name}${threads}${started.relaxedSimd ? ', relaxed SIMD' : ''}` +
        (skipped.length ? ` (skipped ${skipped.map((s) => `${s.name}: ${s.reason}`).join('; ')})` : '');
      if (options.log !== null && announced !== line) {
        (options.log ?? console.info)(line);
        announced = line;
      }
      return { name, skipped, ...started };
    } catch (err) {
      if (!(err instanceof BackendUnavailable)) throw err;
      if (explicit !== undefined && order.length === 1) {
        throw new Error(`selectBackend: backend '${name}' was requested but is unavailable: ${err.message}`);
      }
      skipped.push({ name, reason: err.message });
    }
  }
  throw new Error(
    `selectBackend: none of ${order.join(', ')} could start: ` +
      skipped.map((s) => `${s.name}: ${s.reason}`).join('; '),
  );
}

const STARTERS: Record<BackendName, (options: SelectBackendOptions) => Promise<Started>> = {
  async tensorflow() {
    // already registered: the application imported tfjs-node itself
    if (tf.findBackendFactory('tensorflow')) {
      await activate('tensorflow');
      return {};
    }
    const loaded =
      (await importOptional('@tensorflow/tfjs-node-gpu')) ?? (await importOptional('@tensorflow/tfjs-node'));
    if (loaded === undefined) {
      throw new BackendUnavailable(
        'neither @tensorflow/tfjs-node-gpu nor @tensorflow/tfjs-node is installed (npm i @tensorflow/tfjs-node)',
      );
    }
    await activate('tensorflow');
    return {};
  },

  async webgpu() {
    const nav = globalThis.navigator as (Navigator & { gpu?: GpuLike }) | undefined;
    if (!nav?.gpu && isNode()) {
      const dawn = (await importOptional('webgpu')) as
        | { create: (flags: string[]) => GpuLike; globals: Record<string, unknown> }
        | undefined;
      if (dawn === undefined)
        throw new BackendUnavailable('the `webgpu` package is not installed (npm i webgpu)');
      Object.assign(globalThis, dawn.globals);
      if (!globalThis.navigator)
        Object.defineProperty(globalThis, 'navigator', { value: {}, configurable: true });
      Object.defineProperty(globalThis.navigator, 'gpu', { value: dawn.create([]), configurable: true });
    }
    const gpu = (globalThis.navigator as { gpu?: GpuLike } | undefined)?.gpu;
    if (!gpu) throw new BackendUnavailable('navigator.gpu is not available');
    const adapter = await gpu.requestAdapter().catch(() => null);
    if (!adapter) throw new BackendUnavailable('no WebGPU adapter was found');
    // a page that imported @tensorflow/tfjs-backend-webgpu itself has it registered; a bare import would fail there
    if (
      !tf.findBackendFactory('webgpu') &&
      (await importOptional('@tensorflow/tfjs-backend-webgpu')) === undefined
    ) {
      throw new BackendUnavailable('@tensorflow/tfjs-backend-webgpu is not installed');
    }
    await activate('webgpu');
    return {};
  },

  async wasm(options) {
    const wasm = await import('@tensorflow/tfjs-backend-wasm');
    if (!relaxedSimdChosen) {
      const fromEnv = isNode() ? process.env.WSSS_RELAXED_SIMD?.trim() : undefined;
      setRelaxedSimd(options.relaxedSimd ?? fromEnv !== '0');
      relaxedSimdChosen = true;
    }
    const relaxedSimd = usesRelaxedSimd(TRAINING_KERNELS);
    const paths = options.wasmPaths ?? (isNode() ? await nodeWasmDirectory() : undefined);
    if (paths !== undefined) wasm.setWasmPaths(paths);
    registerWasmTrainingKernels();
    if (!isNode() || tf.findBackend('wasm') !== null) {
      await activate('wasm');
      // in Node our kernels' threads (XNNPACK's pool runs xnnpackThreads); in a browser tfjs' own count
      const ours = isNode() ? wasmHeapKernels(tf.findBackend('wasm'))?.threads : undefined;
      const xnnpackThreads = isNode() ? wasm.getThreadsCount() : undefined;
      return { threads: ours ?? wasm.getThreadsCount(), relaxedSimd, xnnpackThreads };
    }
    const requested = Math.min(await requestedWasmThreads(options), MAX_WASM_THREADS);
    const xnnpackThreads = Math.min(requestedXnnpackThreads(options), requested);
    // Emscripten's Node glue installs process-wide handlers that re-throw every uncaught error from inside the
    // minified wasm loader, so Node prints that whole file instead of the user's stack trace. Remove them.
    const before = processErrorListeners();
    try {
      let threadsNote: string | undefined;
      if (requested > 1) {
        const plan = planThreadedWasm();
        if (typeof plan === 'string') threadsNote = plan;
        else {
          wasm.setThreadsCount(xnnpackThreads);
          tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', true);
          let started = false;
          try {
            await startThreadedWasm(
              plan,
              requested,
              () => activate('wasm'),
              () => (tf.findBackend('wasm') as { wasm?: unknown } | null)?.wasm,
            );
            started = true;
          } catch (err) {
            threadsNote = `the threaded build did not start (${(err as Error).message})`;
          }
          if (started) {
            let threads = requested;
            let note: string | undefined;
            try {
              // our own training kernels share their work between the threads
              threads = await startWasmKernelThreads(tf.findBackend('wasm'), requested - 1);
              if (threads < requested) note = `${requested} requested`;
            } catch (err) {
              threads = 1;
              note = `our training kernels run on one thread: ${(err as Error).message}`;
            }
            return { threads, threadsNote: note, relaxedSimd, xnnpackThreads: wasm.getThreadsCount() };
          }
        }
      }
      tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', false);
      await activate('wasm');
      return { threads: 1, threadsNote, relaxedSimd, xnnpackThreads: 1 };
    } finally {
      removeAddedErrorListeners(before);
    }
  },

  async cpu() {
    await activate('cpu');
    // The cpu backend greets Node users with a banner recommending tfjs-node; we already log the choice.
    const cpu = tf.findBackend('cpu') as { firstUse?: boolean } | null;
    if (cpu && 'firstUse' in cpu) cpu.firstUse = false;
    return {};
  },
};

async function requestedWasmThreads(options: SelectBackendOptions): Promise<number> {
  const fromEnv = process.env.WSSS_THREADS?.trim();
  const value = options.threads ?? (fromEnv ? Number(fromEnv) : undefined);
  if (value === undefined) return defaultWasmThreads();
  if (!Number.isInteger(value) || value < 1) {
    throw new Error(
      `selectBackend: threads must be an integer >= 1, got ${options.threads ?? `'${fromEnv}' (from WSSS_THREADS)`}`,
    );
  }
  return value;
}

function requestedXnnpackThreads(options: SelectBackendOptions): number {
  const fromEnv = process.env.WSSS_XNNPACK_THREADS?.trim();
  const value = options.xnnpackThreads ?? (fromEnv ? Number(fromEnv) : 1);
  if (!Number.isInteger(value) || value < 1) {
    throw new Error(
      `selectBackend: xnnpackThreads must be an integer >= 1, got ${options.xnnpackThreads ?? `'${fromEnv}' (from WSSS_XNNPACK_THREADS)`}`,
    );
  }
  return value;
}

type Listener = (...args: unknown[]) => void;
type ErrorListeners = { uncaughtException: Listener[]; unhandledRejection: Listener[] };

function processErrorListeners(): ErrorListeners {
  return {
    uncaughtException: process.listeners('uncaughtException') as Listener[],
    unhandledRejection: process.listeners('unhandledRejection') as Listener[],
  };
}

function removeAddedErrorListeners(before: ErrorListeners): void {
  const events = ['uncaughtException', 'unhandledRejection'] as const;
  for (const event of events) {
    const added = (process.listeners(event as 'uncaughtException') as Listener[]).filter(
      (l) => !before[event].includes(l),
    );
    for (const listener of added) process.removeListener(event as 'uncaughtException', listener);
  }
}

interface GpuLike {
  requestAdapter(): Promise<unknown | null>;
}

async function activate(name: string): Promise<void> {
  let ok = false;
  try {
    ok = await tf.setBackend(name);
  } catch (err) {
    throw new BackendUnavailable(`it failed to initialise (${(err as Error).message})`);
  }
  if (!ok) throw new BackendUnavailable('it failed to initialise');
  await tf.ready();
}
