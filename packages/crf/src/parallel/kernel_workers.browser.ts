import type { KernelArena } from '../wasm/kernel_arena';
import type { KernelWorkers } from './kernel_workers';

export type { KernelWorkers } from './kernel_workers';

/**
 * Browser twin of kernel_workers.ts: no helper threads, the mean field runs on the calling thread. (Its threads wait
 * for each other with Atomics.wait, which a page's main thread may not call.)
 */
export function kernelWorkers(_arena: KernelArena): Promise<KernelWorkers | undefined> {
  return Promise.resolve(undefined);
}
