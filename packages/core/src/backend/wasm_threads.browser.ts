/**
 * Browser twin of wasm_threads.ts: in a page tfjs-backend-wasm starts its threaded build by itself when the page is
 * cross-origin isolated (SharedArrayBuffer), on up to half of `navigator.hardwareConcurrency` threads.
 */
export const MAX_WASM_THREADS = 8;

export interface ThreadedWasmPlan {
  bundle: string;
  moduleNames: [name: string, specifier: string][];
}

export async function defaultWasmThreads(): Promise<number> {
  return 1;
}

export function planThreadedWasm(): ThreadedWasmPlan | string {
  return 'in a browser tfjs-backend-wasm chooses its threads itself';
}

export async function startThreadedWasm<T>(
  _plan: ThreadedWasmPlan,
  _threads: number,
  start: () => Promise<T>,
  _backendModule: () => unknown,
): Promise<T> {
  return start();
}
