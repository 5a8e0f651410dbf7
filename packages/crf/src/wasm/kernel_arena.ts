import { WasmArena } from '@wsss/core';
import type { MeanFieldKernels } from '../parallel/mean_field_share';
import { LATTICE_KERNELS_SHARED_WASM, LATTICE_KERNELS_WASM } from './lattice_kernels_wasm';

/** The functions exported by assembly/lattice_kernels.ts (pointers are byte addresses in the arena's memory). */
export interface LatticeKernelExports extends MeanFieldKernels {
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
    stride: number,
    first: number,
    channels: number,
    scale: number,
    reverse: boolean,
    values: number,
    scratch: number,
    pixelScale: number,
    overwrite: boolean,
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
  prepareNegUnary(
    source: number,
    negUnary: number,
    labels: number,
    pixels: number,
    stride: number,
    fromProbabilities: boolean,
    clip: number,
  ): void;
  extractMarginals(
    q: number,
    invSum: number,
    out: number,
    labels: number,
    pixels: number,
    stride: number,
  ): void;
  latticeNeighbours(
    dims: number,
    points: number,
    slots: number,
    capacity: number,
    keys: number,
    neighbours: number,
    work: number,
  ): void;
}

export type KernelArena = WasmArena<LatticeKernelExports>;

let arena: KernelArena | undefined;

/** The process-wide (per JavaScript realm) arena of the lattice kernels. */
export function kernelArena(): KernelArena {
  arena ??= new WasmArena<LatticeKernelExports>({
    plain: LATTICE_KERNELS_WASM,
    shared: LATTICE_KERNELS_SHARED_WASM,
  });
  return arena;
}
