import { tf } from '../../tf';
import { decodeBase64, type WasmBinaries, wasmBuild } from '../../wasm/wasm_builds';

/** What our heap kernels use of tfjs-backend-wasm's backend (4.22): its Emscripten module, offsets and outputs. */
interface WasmBackendInternals {
  wasm?: {
    wasmMemory?: WebAssembly.Memory;
    asm?: { memory?: WebAssembly.Memory };
    _malloc?: (bytes: number) => number;
    _free?: (at: number) => void;
  };
  getMemoryOffset?: (dataId: object) => number;
  makeOutput?: (shape: number[], dtype: tf.DataType) => tf.TensorInfo;
}

/**
 * A WebAssembly kernel module instantiated on the heap of tfjs-backend-wasm's backend: its functions read and write
 * the backend's tensors where they are (byte addresses from {@link WasmHeapModule.offsetOf}), with no copies.
 */
export interface WasmHeapModule<Exports> {
  exports: Exports;
  /** The byte address of a tensor's data in the heap. */
  offsetOf(info: tf.TensorInfo): number;
  /** A new float32 kernel output on the backend (contents not initialised), what a kernel function returns. */
  makeOutput(shape: number[]): tf.TensorInfo;
  /** A new float32 tensor on the backend (contents not initialised), for an op outside a kernel to write. */
  makeTensor(shape: number[]): tf.Tensor;
  /** A fresh heap block of `bytes` bytes (not zeroed); free it with {@link WasmHeapModule.free}. */
  alloc(bytes: number): number;
  free(at: number): void;
  /** A fresh heap block holding a copy of `values`; free it with {@link WasmHeapModule.free}. */
  put(values: Float32Array | Int32Array): number;
  /** A view of `length` floats at `at` in the heap's current buffer (valid until the heap grows). */
  view(at: number, length: number): Float32Array;
}

/** Compiled modules by their base64 source. */
const compiled = new Map<string, WebAssembly.Module>();

/** The module compiled from base64 `source`, once per process (instances on several memories share it). */
export function compiledModule(source: string): WebAssembly.Module {
  const module = compiled.get(source) ?? new WebAssembly.Module(decodeBase64(source));
  compiled.set(source, module);
  return module;
}
/** Instances by memory and build. */
const instances = new WeakMap<WebAssembly.Memory, Map<string, unknown>>();

/** The memory of tfjs-backend-wasm's backend `backend`, or undefined for any other backend. */
export function wasmBackendMemory(backend: unknown): WebAssembly.Memory | undefined {
  const module = (backend as WasmBackendInternals | undefined)?.wasm;
  const memory = module?.wasmMemory ?? module?.asm?.memory;
  return memory instanceof WebAssembly.Memory ? memory : undefined;
}

/** True when `memory` is shared (the wasm backend's threaded build). */
export function isSharedMemory(memory: WebAssembly.Memory): boolean {
  return typeof SharedArrayBuffer !== 'undefined' && memory.buffer instanceof SharedArrayBuffer;
}

/**
 * `binaries` (an AssemblyScript module built by scripts/build_wasm.mjs: imported memory, no data segments or
 * globals; its shared build for the threaded backend; the relaxed-SIMD builds, see {@link wasmBuild}) instantiated
 * once on the heap of `backend` (default: the active one), or undefined when that is not tfjs-backend-wasm 4.22's backend, or its memory is shared and
 * `binaries` has no shared build. Other packages' kernels use it to work on wasm tensors in place.
 *
 * ```ts
 * const heap = wasmHeapModule<MyExports>({ plain: MY_WASM, shared: MY_SHARED_WASM });
 * if (heap) heap.exports.scale(heap.offsetOf(x), heap.offsetOf(out), x.size, 2);
 * ```
 */
export function wasmHeapModule<Exports>(
  binaries: WasmBinaries,
  backend: unknown = tf.backend(),
): WasmHeapModule<Exports> | undefined {
  const b = backend as WasmBackendInternals;
  const memory = wasmBackendMemory(backend);
  const emscripten = b?.wasm;
  if (
    memory === undefined ||
    typeof b.getMemoryOffset !== 'function' ||
    typeof b.makeOutput !== 'function' ||
    typeof emscripten?._malloc !== 'function' ||
    typeof emscripten._free !== 'function'
  ) {
    return undefined;
  }
  const shared = isSharedMemory(memory);
  const source = wasmBuild(binaries, shared);
  if (source === undefined) return undefined;
  const onMemory = instances.get(memory) ?? new Map<string, unknown>();
  instances.set(memory, onMemory);
  let exports = onMemory.get(source) as Exports | undefined;
  if (exports === undefined) {
    exports = new WebAssembly.Instance(compiledModule(source), { env: { memory } }).exports as Exports;
    onMemory.set(source, exports);
  }
  const getMemoryOffset = b.getMemoryOffset.bind(b);
  const makeOutput = b.makeOutput.bind(b);
  const malloc = emscripten._malloc;
  const free = emscripten._free;
  return {
    exports,
    offsetOf: (info) => getMemoryOffset(info.dataId),
    makeOutput: (shape) => makeOutput(shape, 'float32'),
    makeTensor: (shape) =>
      tf.engine().makeTensorFromTensorInfo(makeOutput(shape, 'float32'), backend as never),
    alloc: (bytes) => malloc(bytes),
    free: (at) => free(at),
    put(values) {
      const at = malloc(values.byteLength);
      // the heap may have grown since the last view: one of the current buffer
      new Uint8Array(memory.buffer, at, values.byteLength).set(
        new Uint8Array(values.buffer, values.byteOffset, values.byteLength),
      );
      return at;
    },
    view: (at, length) => new Float32Array(memory.buffer, at, length),
  };
}
