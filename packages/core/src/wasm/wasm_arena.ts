import { decodeBase64, type WasmBinaries, wasmBuild } from './wasm_builds';

const PAGE = 65536;
const MAX_PAGES = 65536;
const ALIGN = 16;

/**
 * One WebAssembly instance of a kernel module and the memory it works on. JavaScript owns the memory: buffers are
 * bump-allocated for one operation ({@link WasmArena.reset} frees them all). The memory is shared (so that worker
 * threads can run the same kernels on it) when the module has a shared build and SharedArrayBuffer exists.
 */
export class WasmArena<Exports> {
  readonly module: WebAssembly.Module;
  readonly memory: WebAssembly.Memory;
  readonly shared: boolean;
  readonly exports: Exports;
  private readonly base: number;
  private top: number;

  /**
   * `reservedBytes` at the start of the memory are never handed out or reused: state that must outlive
   * {@link WasmArena.reset} (e.g. the words worker threads synchronise on) lives there, from address 16.
   */
  constructor(binaries: WasmBinaries, reservedBytes = 0) {
    this.base = ALIGN + Math.ceil(reservedBytes / ALIGN) * ALIGN;
    this.top = this.base;
    this.shared = binaries.shared !== undefined && typeof SharedArrayBuffer !== 'undefined';
    this.module = new WebAssembly.Module(decodeBase64(wasmBuild(binaries, this.shared) as string));
    this.memory = new WebAssembly.Memory(
      this.shared ? { initial: 16, maximum: MAX_PAGES, shared: true } : { initial: 16 },
    );
    const instance = new WebAssembly.Instance(this.module, { env: { memory: this.memory } });
    this.exports = instance.exports as unknown as Exports;
  }

  /** Frees every buffer (not the reserved bytes). */
  reset(): void {
    this.top = this.base;
  }

  /** Allocates `bytes` bytes (16-byte aligned, not zeroed) and returns the address. Views taken before may detach. */
  alloc(bytes: number): number {
    const at = this.top;
    const end = at + Math.ceil(bytes / ALIGN) * ALIGN;
    if (end > MAX_PAGES * PAGE - PAGE) {
      throw new Error(
        `WasmArena: needs ${(end / 2 ** 20).toFixed(0)} MiB of WebAssembly memory, more than the 4 GiB limit`,
      );
    }
    const have = this.memory.buffer.byteLength;
    if (end > have) this.memory.grow(Math.ceil((end - have) / PAGE));
    this.top = end;
    return at;
  }

  /** Copies `data` into a new buffer and returns its address. */
  put(data: Float32Array | Int32Array | Uint8Array | Uint8ClampedArray): number {
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
