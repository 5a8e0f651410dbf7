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
  extractMarginals(q: number, out: number, labels: number, pixels: number, stride: number): void;
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

const PAGE = 65536;
const MAX_PAGES = 65536;
const ALIGN = 16;

function decodeBase64(text: string): Uint8Array<ArrayBuffer> {
  if (typeof Buffer !== 'undefined') return new Uint8Array(Buffer.from(text, 'base64'));
  return Uint8Array.from(atob(text), (c) => c.charCodeAt(0));
}

/**
 * One WebAssembly instance of the lattice kernels and the memory it works on. JavaScript owns the memory: buffers
 * are bump-allocated for one operation ({@link KernelArena.reset} frees them all). The memory is shared (so that
 * worker threads can run the same kernels on it) wherever SharedArrayBuffer is available.
 */
export class KernelArena {
  readonly module: WebAssembly.Module;
  readonly memory: WebAssembly.Memory;
  readonly shared: boolean;
  readonly kernels: LatticeKernelExports;
  private top = ALIGN;

  constructor() {
    this.shared = typeof SharedArrayBuffer !== 'undefined';
    this.module = new WebAssembly.Module(
      decodeBase64(this.shared ? LATTICE_KERNELS_SHARED_WASM : LATTICE_KERNELS_WASM),
    );
    this.memory = new WebAssembly.Memory(
      this.shared ? { initial: 16, maximum: MAX_PAGES, shared: true } : { initial: 16 },
    );
    const instance = new WebAssembly.Instance(this.module, { env: { memory: this.memory } });
    this.kernels = instance.exports as unknown as LatticeKernelExports;
  }

  /** Frees every buffer. */
  reset(): void {
    this.top = ALIGN;
  }

  /** Allocates `bytes` bytes (16-byte aligned, not zeroed) and returns the address. */
  alloc(bytes: number): number {
    const at = this.top;
    const end = at + Math.ceil(bytes / ALIGN) * ALIGN;
    if (end > MAX_PAGES * PAGE - PAGE) {
      throw new Error(
        `@wsss/crf: needs ${(end / 2 ** 20).toFixed(0)} MiB of WebAssembly memory, more than the 4 GiB limit`,
      );
    }
    const have = this.memory.buffer.byteLength;
    if (end > have) this.memory.grow(Math.ceil((end - have) / PAGE));
    this.top = end;
    return at;
  }

  /** Copies `data` into a new buffer and returns its address. */
  put(data: Float32Array | Int32Array): number {
    const at = this.alloc(data.byteLength);
    new Uint8Array(this.memory.buffer, at, data.byteLength).set(
      new Uint8Array(data.buffer, data.byteOffset, data.byteLength),
    );
    return at;
  }

  f32(at: number, length: number): Float32Array {
    return new Float32Array(this.memory.buffer, at, length);
  }

  i32(at: number, length: number): Int32Array {
    return new Int32Array(this.memory.buffer, at, length);
  }
}

let arena: KernelArena | undefined;

/** The process-wide (per JavaScript realm) arena. */
export function kernelArena(): KernelArena {
  arena ??= new KernelArena();
  return arena;
}
