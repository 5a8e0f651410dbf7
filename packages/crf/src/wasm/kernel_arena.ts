import { WasmArena } from '@wsss/core';
import type { CrfShareKernels } from '../parallel/crf_share';
import { LATTICE_KERNELS_SHARED_WASM, LATTICE_KERNELS_WASM } from './lattice_kernels_wasm';

/** The functions exported by assembly/lattice_kernels.ts (pointers are byte addresses in the arena's memory). */
export interface LatticeKernelExports extends CrfShareKernels {
  filterChannels(
    pixels: number,
    dims1: number,
    points: number,
    offsets: number,
    splatWeights: number,
    sliceWeights: number,
    neighbours: number,
    input: number,
    output: number,
    channels: number,
    scale: number,
    reverse: boolean,
    values: number,
    scratch: number,
  ): void;
  buildLattice(
    features: number,
    pixels: number,
    dims: number,
    slots: number,
    capacity: number,
    keys: number,
    offsets: number,
    barycentric: number,
    work: number,
  ): number;
  /** Bytes per lattice point of buildLattice's keys array for `dims` features. */
  latticeKeyBytes(dims: number): number;
  /** Bytes of the work area of buildLattice and latticeNeighbours for `dims` features. */
  latticeWorkBytes(dims: number): number;
  latticeNeighbours(
    dims: number,
    points: number,
    slots: number,
    capacity: number,
    keys: number,
    neighbours: number,
    work: number,
  ): void;
  /** The next block of work for `thread` (assembly/context_access.ts). */
  nextShareItem(context: number, thread: number, count: number): number;
  /** The mean-field context layout (assembly/mean_field_context.ts), as immutable globals. */
  [slot: `CTX_${string}` | `TERM_${string}`]: WebAssembly.Global;
}

export type KernelArena = WasmArena<LatticeKernelExports>;

/**
 * The two i32s that the threads of an inference synchronise on (count, generation; see crfShare): reserved in the
 * arena, so that no reset or later buffer overwrites them while a thread is still leaving the last barrier.
 */
export const BARRIER_ADDRESS = 16;

let arena: KernelArena | undefined;

/** The process-wide (per JavaScript realm) arena of the lattice kernels. */
export function kernelArena(): KernelArena {
  arena ??= new WasmArena<LatticeKernelExports>(
    {
      plain: LATTICE_KERNELS_WASM,
      shared: LATTICE_KERNELS_SHARED_WASM,
    },
    8,
  );
  return arena;
}
