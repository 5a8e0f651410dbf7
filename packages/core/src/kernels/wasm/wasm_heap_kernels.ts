import type { tf } from '../../tf';
import { TRAINING_KERNELS_SHARED_WASM, TRAINING_KERNELS_WASM } from '../../wasm/training_kernels_wasm';
import { decodeBase64 } from '../../wasm/wasm_arena';

/** The exports of assembly/training_kernels.ts (byte addresses in the backend's heap, and counts). */
export interface TrainingKernelExports {
  depthwiseFilterGradient(x: number, dy: number, dw: number, geometry: number, c0: number, c1: number): void;
  depthwiseInputGradient(dy: number, w: number, dx: number, geometry: number, c0: number, c1: number): void;
  relu6Backprop(dy: number, x: number, dx: number, size: number): void;
  columnSums(x: number, out: number, rows: number, cols: number, c0: number, c1: number): void;
}

/** What our kernels use of tfjs-backend-wasm's backend (4.22): its Emscripten module, offsets and outputs. */
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

/** Our kernels instantiated on one backend's heap: they read and write its tensors in place. */
export interface WasmHeapKernels {
  exports: TrainingKernelExports;
  offsetOf(info: tf.TensorInfo): number;
  makeOutput(shape: number[]): tf.TensorInfo;
  /** Copies `words` into a fresh heap block; free it with {@link WasmHeapKernels.free}. */
  putWords(words: Int32Array): number;
  free(at: number): void;
}

const compiled: { plain?: WebAssembly.Module; shared?: WebAssembly.Module } = {};
const onMemory = new WeakMap<WebAssembly.Memory, TrainingKernelExports>();

/**
 * Our WebAssembly SIMD training kernels (assembly/training_kernels.ts) on the heap of tfjs-backend-wasm's backend
 * `backend`, or undefined when it is not such a backend (or its internals differ from 4.22's). The kernels import
 * their memory and have no data segments or globals, so one instance shares the backend's memory (plain, or shared
 * in the threaded build) and works on the tensors where they are, with no copies.
 */
export function wasmHeapKernels(backend: unknown): WasmHeapKernels | undefined {
  const b = backend as WasmBackendInternals | undefined;
  const module = b?.wasm;
  const memory = module?.wasmMemory ?? module?.asm?.memory;
  if (
    !(memory instanceof WebAssembly.Memory) ||
    typeof b?.getMemoryOffset !== 'function' ||
    typeof b.makeOutput !== 'function' ||
    typeof module?._malloc !== 'function' ||
    typeof module._free !== 'function'
  ) {
    return undefined;
  }
  let exports = onMemory.get(memory);
  if (exports === undefined) {
    const shared = typeof SharedArrayBuffer !== 'undefined' && memory.buffer instanceof SharedArrayBuffer;
    const key = shared ? 'shared' : 'plain';
    compiled[key] ??= new WebAssembly.Module(
      decodeBase64(shared ? TRAINING_KERNELS_SHARED_WASM : TRAINING_KERNELS_WASM),
    );
    exports = new WebAssembly.Instance(compiled[key], { env: { memory } })
      .exports as unknown as TrainingKernelExports;
    onMemory.set(memory, exports);
  }
  const backendWithOffsets = b as Required<Pick<WasmBackendInternals, 'getMemoryOffset' | 'makeOutput'>>;
  const malloc = module._malloc;
  const free = module._free;
  return {
    exports,
    offsetOf: (info) => backendWithOffsets.getMemoryOffset(info.dataId),
    makeOutput: (shape) => backendWithOffsets.makeOutput(shape, 'float32'),
    putWords(words) {
      const at = malloc(words.byteLength);
      // the heap may have grown: a view of the current buffer
      new Int32Array(memory.buffer, at, words.length).set(words);
      return at;
    },
    free,
  };
}
