import type { tf } from '../../tf';
import {
  TRAINING_KERNELS_RELAXED_SHARED_WASM,
  TRAINING_KERNELS_RELAXED_WASM,
  TRAINING_KERNELS_SHARED_WASM,
  TRAINING_KERNELS_WASM,
} from '../../wasm/training_kernels_wasm';
import { type WasmBinaries, wasmBuild } from '../../wasm/wasm_builds';
import type { ConvGeometry } from '../conv_geometry';
import { KernelThreads } from './kernel_threads';
import {
  compiledModule,
  isSharedMemory,
  type WasmHeapModule,
  wasmBackendMemory,
  wasmHeapModule,
} from './wasm_heap_module';

/** What tfjs passes a kernel function: its inputs, attributes and the backend. */
export type KernelArgs = { inputs: tf.NamedTensorInfoMap; attrs?: tf.NamedAttrMap; backend?: unknown };

/** The exports of assembly/training_kernels.ts (byte addresses in the backend's heap, and counts). */
export interface TrainingKernelExports {
  depthwiseFilterGradient(
    x: number,
    dy: number,
    partials: number,
    geometry: number,
    k0: number,
    k1: number,
    rowsPerChunk: number,
  ): void;
  depthwiseInputGradient(dy: number, w: number, dx: number, geometry: number, n0: number, n1: number): void;
  depthwiseForward(
    x: number,
    w: number,
    bias: number,
    y: number,
    geometry: number,
    r0: number,
    r1: number,
    activation: number,
  ): void;
  relu6Backprop(dy: number, x: number, dx: number, size: number): void;
  columnSums(x: number, out: number, rows: number, cols: number, c0: number, c1: number, acc: number): void;
  convFilterGradient(
    x: number,
    dy: number,
    dw: number,
    geometry: number,
    gather: number,
    ci0: number,
    ci1: number,
    k0: number,
    k1: number,
    positionsPerChunk: number,
  ): void;
  convFilterGradientPatches(
    x: number,
    dy: number,
    partials: number,
    geometry: number,
    gather: number,
    k0: number,
    k1: number,
  ): void;
  convForwardPatches(
    x: number,
    w: number,
    bias: number,
    y: number,
    geometry: number,
    gather: number,
    packed: number,
    m0: number,
    m1: number,
    activation: number,
  ): void;
  gemm(
    a: number,
    b: number,
    c: number,
    k: number,
    n: number,
    lda: number,
    ldb: number,
    ldc: number,
    m0: number,
    m1: number,
    bias: number,
    activation: number,
    packed: number,
  ): void;
  packColumns(b: number, packed: number, k: number, ldb: number, n: number, s0: number, s1: number): void;
  packColumnsTransposed(bt: number, packed: number, k: number, ldbt: number, s0: number, s1: number): void;
  biasActivationBackprop(
    dy: number,
    y: number,
    dz: number,
    partials: number,
    rows: number,
    cols: number,
    activation: number,
    k0: number,
    k1: number,
    rowsPerChunk: number,
  ): void;
  sgdMomentumUpdate(
    w: number,
    v: number,
    g: number,
    wOut: number,
    vOut: number,
    size: number,
    lr: number,
    momentum: number,
    decay: number,
  ): void;
  adamUpdate(
    w: number,
    m: number,
    s: number,
    g: number,
    wOut: number,
    mOut: number,
    sOut: number,
    size: number,
    lr: number,
    beta1: number,
    beta2: number,
    oneMinusBeta1: number,
    oneMinusBeta2: number,
    epsilon: number,
    decay: number,
    c1: number,
    c2: number,
  ): void;
  softmaxBackprop(dy: number, y: number, dx: number, cols: number, r0: number, r1: number): void;
  transpose2d(x: number, out: number, rows: number, cols: number, r0: number, r1: number): void;
  addArrays(a: number, b: number, out: number, size: number): void;
}

/**
 * Our kernels instantiated on one backend's heap (they read and write its tensors in place), and the threads they
 * share their work with.
 */
export interface WasmHeapKernels extends WasmHeapModule<TrainingKernelExports> {
  /** The threads {@link WasmHeapKernels.split} shares work between (1 without helper threads). */
  threads: number;
  /** The most parts {@link WasmHeapKernels.split} cuts: scratch memory per part is allocated for this many. */
  parts: number;
  /**
   * Calls kernel `fn` on `[0, extent)` cut into contiguous parts (boundaries multiples of `align`), a few per kernel
   * thread (the calling thread included), each taken by whichever thread is free next; `args(start, end, part)`
   * gives a part's arguments (`part` < {@link WasmHeapKernels.parts}, for scratch of its own). Below a minimum of
   * `work` (the call's multiply-adds or elements, see {@link setMinimumSplitWork}) it runs as one call; no part gets
   * less than that minimum.
   */
  split(
    fn: keyof TrainingKernelExports,
    extent: number,
    align: number,
    work: number,
    args: (start: number, end: number, part: number) => number[],
  ): void;
}

/**
 * Below twice this much work (multiply-adds or elements) one thread does it: handing a share to a helper costs
 * ~0.04 ms, about 2^19 multiply-adds of our kernels.
 */
let splitWork = 1 << 19;

/** Sets the work below which kernels run on one thread (tests: 0 splits everything). Returns the previous value. */
export function setMinimumSplitWork(work: number): number {
  const previous = splitWork;
  splitWork = work;
  return previous;
}

/** The builds of our kernels: the threaded backend's memory is shared; relaxed SIMD where the engine has it. */
export const TRAINING_KERNELS: WasmBinaries = {
  plain: TRAINING_KERNELS_WASM,
  shared: TRAINING_KERNELS_SHARED_WASM,
  relaxed: { plain: TRAINING_KERNELS_RELAXED_WASM, shared: TRAINING_KERNELS_RELAXED_SHARED_WASM },
};
const threadsOn = new WeakMap<WebAssembly.Memory, KernelThreads>();
/** One {@link WasmHeapKernels} per backend, made on first use (every kernel call asks for it). */
const onBackend = new WeakMap<object, WasmHeapKernels>();

/**
 * Starts `helpers` threads that run our training kernels on the wasm backend's shared memory (its threaded build),
 * so that they split their work as XNNPACK does; nothing on a single-threaded backend. Node only; once per memory.
 */
export async function startWasmKernelThreads(backend: unknown, helpers: number): Promise<number> {
  const memory = wasmBackendMemory(backend);
  if (!memory || !isSharedMemory(memory) || helpers < 1) return 1;
  const running = threadsOn.get(memory);
  if (running) return running.threads;
  const pool = await KernelThreads.start(
    compiledModule(wasmBuild(TRAINING_KERNELS, true) as string),
    memory,
    helpers,
  );
  if (pool) threadsOn.set(memory, pool);
  onBackend.delete(backend as object); // made before the pool: made again with it
  return pool?.threads ?? 1;
}

/**
 * Our WebAssembly SIMD training kernels (assembly/training_kernels.ts) on the heap of tfjs-backend-wasm's backend
 * `backend`, or undefined when it is not such a backend (or its internals differ from 4.22's). The kernels import
 * their memory and have no data segments or globals, so one instance shares the backend's memory (plain, or shared
 * in the threaded build) and works on the tensors where they are, with no copies.
 */
export function wasmHeapKernels(backend: unknown): WasmHeapKernels | undefined {
  const made = backend ? onBackend.get(backend as object) : undefined;
  if (made) return made;
  const kernels = makeWasmHeapKernels(backend);
  if (kernels) onBackend.set(backend as object, kernels);
  return kernels;
}

function makeWasmHeapKernels(backend: unknown): WasmHeapKernels | undefined {
  if (backend === undefined) return undefined;
  const heap = wasmHeapModule<TrainingKernelExports>(TRAINING_KERNELS, backend);
  const memory = wasmBackendMemory(backend);
  if (!heap || !memory) return undefined;
  const pool = threadsOn.get(memory);
  const kernels = heap.exports;
  const call = (c: { fn: string; args: number[] }) =>
    (kernels[c.fn as keyof TrainingKernelExports] as (...a: number[]) => void)(...c.args);
  return {
    ...heap,
    threads: pool?.threads ?? 1,
    parts: pool?.maxCalls ?? 1,
    split(fn, extent, align, work, args) {
      const parts =
        pool && work >= 2 * splitWork
          ? Math.min(pool.maxCalls, Math.ceil(extent / align), Math.floor(work / Math.max(1, splitWork)))
          : 1;
      if (parts <= 1) {
        call({ fn, args: args(0, extent, 0) });
        return;
      }
      const bounds = Array.from({ length: parts + 1 }, (_, i) =>
        i === parts ? extent : Math.round((extent * i) / parts / align) * align,
      );
      const calls = Array.from({ length: parts }, (_, i) => ({
        fn,
        args: args(bounds[i], bounds[i + 1], i),
      }));
      (pool as KernelThreads).run(calls, call);
    },
  };
}

/** The activation codes of our fused kernels (assembly/training_kernels.ts `activate`). */
export const ACTIVATION_CODES: Readonly<Record<string, number>> = { linear: 0, relu: 1, relu6: 2 };

/**
 * The bias and activation code of a call of a fused convolution kernel (`FusedConv2D`, `FusedDepthwiseConv2D`) when
 * our kernels can apply them: a float32 bias of `outChannels` values or none, a linear, ReLU or ReLU6 activation, no
 * PReLU weights; undefined otherwise (the call goes to the original kernel).
 */
export function fusedEpilogue(
  args: KernelArgs,
  outChannels: number,
): { bias: tf.TensorInfo | undefined; activation: number } | undefined {
  const activation = ACTIVATION_CODES[(args.attrs?.activation as string | undefined) ?? 'linear'];
  const bias = args.inputs.bias as tf.TensorInfo | undefined;
  const biasFits =
    bias === undefined ||
    (bias.dtype === 'float32' && bias.shape.length === 1 && bias.shape[0] === outChannels);
  return activation !== undefined && biasFits && !args.inputs.preluActivationWeights
    ? { bias, activation }
    : undefined;
}

/** Options of {@link heapMatMul}. */
export interface HeapMatMulOptions {
  /** Heap address of a bias of N floats added to each row, 0 (default) for none. */
  bias?: number;
  /** An {@link ACTIVATION_CODES} code applied after the bias. Default 0 (linear). */
  activation?: number;
  /** `b` holds Bᵀ, [N, K] row-major (a filter `W [Ci, Co]` for `dy · Wᵀ`), packed straight from there. */
  transposedB?: boolean;
}

/**
 * `C [M, N] = A [M, K] · B [K, N]` (row-major, at heap addresses) with our kernel: B's 8-column strips packed
 * contiguous first (see packColumns; from Bᵀ with `transposedB`), then rows split between the threads, or, when A
 * has fewer rows than B has columns (deep layers: a few pixels, wide filters), column strips, so that no thread
 * reads all of B; with a bias / activation, `C = act(A · B + bias)`, applied to each tile before it is stored. Each
 * value is one sum over K in order, whatever the split.
 */
export function heapMatMul(
  kernels: WasmHeapKernels,
  a: number,
  b: number,
  c: number,
  m: number,
  k: number,
  n: number,
  options: HeapMatMulOptions = {},
): void {
  const { bias = 0, activation = 0, transposedB = false } = options;
  // B's 8-column strips packed contiguous once (K x N copies for M x K x N multiply-adds; a last, partial strip
  // zero-filled), read by every thread
  const strips = m >= 16 ? Math.ceil(n / 8) : 0;
  if (transposedB && (strips === 0 || n % 8 !== 0)) {
    // the kernel reads columns past the last strip in place: transpose Bᵀ first
    const transposed = kernels.alloc(4 * k * n);
    try {
      heapTranspose(kernels, b, transposed, n, k);
      heapMatMul(kernels, a, transposed, c, m, k, n, { bias, activation });
    } finally {
      kernels.free(transposed);
    }
    return;
  }
  const packed = strips > 0 ? kernels.alloc(32 * k * strips) : 0;
  try {
    if (packed) {
      kernels.split(transposedB ? 'packColumnsTransposed' : 'packColumns', strips, 1, k * n, (s0, s1) => [
        ...(transposedB ? [b, packed, k, k, s0, s1] : [b, packed, k, n, n, s0, s1]),
      ]);
    }
    if (strips >= 2 && m < n) {
      kernels.split('gemm', strips, 1, m * k * n, (s0, s1) => {
        const col = 8 * s0;
        const width = s1 === strips ? n - col : 8 * (s1 - s0);
        return [
          ...[a, b + 4 * col, c + 4 * col, k, width, k, n, n, 0, m],
          ...[bias ? bias + 4 * col : 0, activation, packed + 32 * k * s0],
        ];
      });
      return;
    }
    kernels.split('gemm', m, 4, m * k * n, (m0, m1) => [
      ...[a, b, c, k, n, k, n, n, m0, m1],
      ...[bias, activation, packed],
    ]);
  } finally {
    if (packed) kernels.free(packed);
  }
}

/**
 * True when a convolution with this geometry is a plain matrix product over pixels: a 1x1 filter, stride 1, no
 * dilation and no padding.
 */
export function isPointwise(g: ConvGeometry): boolean {
  return (
    g.filterHeight === 1 &&
    g.filterWidth === 1 &&
    g.strideHeight === 1 &&
    g.strideWidth === 1 &&
    g.dilationHeight === 1 &&
    g.dilationWidth === 1 &&
    g.padTop === 0 &&
    g.padLeft === 0 &&
    g.outHeight === g.inHeight &&
    g.outWidth === g.inWidth
  );
}

/** `out [cols, rows]` = transpose of the row-major `[rows, cols]` matrix at `x`, rows split between the threads. */
export function heapTranspose(
  kernels: WasmHeapKernels,
  x: number,
  out: number,
  rows: number,
  cols: number,
): void {
  kernels.split('transpose2d', rows, 16, rows * cols, (r0, r1) => [x, out, rows, cols, r0, r1]);
}

/** The geometry words of the kernels in assembly/training_kernels.ts (`outChannels` for the convolution). */
export function geometryWords(g: ConvGeometry, outChannels = 0): Int32Array {
  return Int32Array.from([
    g.batch,
    g.inHeight,
    g.inWidth,
    g.inChannels,
    g.outHeight,
    g.outWidth,
    g.filterHeight,
    g.filterWidth,
    g.strideHeight,
    g.strideWidth,
    g.dilationHeight,
    g.dilationWidth,
    g.padTop,
    g.padLeft,
    outChannels,
  ]);
}

/** The longest patch (kh * kw * inC floats) {@link heapConvPatches} takes: 64 of them are 1.2 MB. */
const MAX_PATCH = 4608;

/**
 * Whether a convolution with this geometry runs forward as patches (im2col of 64 positions at a time, see
 * {@link heapConvPatches}): a filter wider than 1x1 with patches of at most 4608 floats (a 3x3 filter on up to 512
 * channels). Faster than XNNPACK's convolution here (an [8, 41, 41, 256] -> 256 3x3 dilated convolution: 343 against
 * 400 ms on two threads, 524 against 720 on one), on our threads, and XNNPACK's pool stays idle.
 */
export function runsAsPatches(g: ConvGeometry): boolean {
  const taps = g.filterHeight * g.filterWidth;
  return taps > 1 && taps * g.inChannels <= MAX_PATCH;
}

/**
 * Whether a convolution's filter gradient runs as patches: fewer than 8 input channels (an RGB stem) and a filter
 * wider than 1x1, where the per-tap kernel would work on short channel rows.
 */
export function filterGradientAsPatches(g: ConvGeometry): boolean {
  return g.inChannels < 8 && g.filterHeight * g.filterWidth > 1;
}

/** Bytes of one part's patch scratch: 64 positions of kh * kw * inC floats. */
function patchScratchBytes(g: ConvGeometry): number {
  return 256 * g.filterHeight * g.filterWidth * g.inChannels + 64;
}

/**
 * The forward convolution `y = act(conv(x, W) + bias)` with geometry `g` as patches times the filter (heap addresses;
 * `bias` 0 for none, `activation` an {@link ACTIVATION_CODES} code): output positions split between the threads,
 * each gathering its patches 64 at a time. For {@link runsAsPatches} geometries.
 */
export function heapConvPatches(
  kernels: WasmHeapKernels,
  x: number,
  w: number,
  y: number,
  g: ConvGeometry,
  outChannels: number,
  epilogue: { bias: number; activation: number },
): void {
  const patch = g.filterHeight * g.filterWidth * g.inChannels;
  const positions = g.batch * g.outHeight * g.outWidth;
  const geometry = kernels.put(geometryWords(g, outChannels));
  const scratch = patchScratchBytes(g);
  const gather = kernels.alloc(scratch * kernels.parts);
  const strips = Math.ceil(outChannels / 8);
  const packed = kernels.alloc(32 * patch * strips);
  try {
    kernels.exports.packColumns(w, packed, patch, outChannels, outChannels, 0, strips);
    kernels.split('convForwardPatches', positions, 4, positions * patch * outChannels, (m0, m1, part) => [
      ...[x, w, epilogue.bias, y, geometry, gather + scratch * part, packed],
      ...[m0, m1, epilogue.activation],
    ]);
  } finally {
    kernels.free(packed);
    kernels.free(gather);
    kernels.free(geometry);
  }
}

/**
 * Output positions per partial sum of the patch filter gradient (assembly/training_kernels.ts `PATCH_CHUNK`): the
 * partials depend on the geometry only, never on the threads.
 */
const PATCH_CHUNK = 2048;

/**
 * The filter gradient `dW [kh, kw, Ci, outChannels]` of a convolution with geometry `g` from `x` and `dy` at heap
 * addresses, into `out`: with many output positions and a small dW, summed in chunks of positions that the threads
 * take, the chunks' sums then added in order; otherwise input channels split between the threads. Each part has its
 * own scratch for gathered rows (pointwise: only the row list). For {@link filterGradientAsPatches} geometries, patchesᵀ · dy
 * summed per chunk of 2048 output positions (threads take the chunks).
 */
export function heapConvFilterGradient(
  kernels: WasmHeapKernels,
  x: number,
  dy: number,
  out: number,
  g: ConvGeometry,
  outChannels: number,
): void {
  const geometry = kernels.put(geometryWords(g, outChannels));
  const work =
    g.batch * g.outHeight * g.outWidth * g.filterHeight * g.filterWidth * g.inChannels * outChannels;
  try {
    if (filterGradientAsPatches(g)) {
      patchFilterGradient(kernels, { x, dy, out, g, outChannels, geometry, work });
      return;
    }
    const gatherBytes = (isPointwise(g) ? 256 : Math.max(256, 256 * g.inChannels)) + 64;
    const gather = kernels.alloc(gatherBytes * kernels.parts);
    const positions = g.batch * g.outHeight * g.outWidth;
    const size = g.filterHeight * g.filterWidth * g.inChannels * outChannels;
    const chunks = positionChunks(positions, size);
    try {
      if (chunks > 1) {
        // many positions, a small dW: threads take chunks of positions (each reads x and dy once)
        const perChunk = 64 * Math.ceil(positions / chunks / 64);
        inChunks(kernels, out, size, Math.ceil(positions / perChunk), (partials) =>
          kernels.split('convFilterGradient', Math.ceil(positions / perChunk), 1, work, (k0, k1, part) => [
            ...[x, dy, partials, geometry, gather + gatherBytes * part],
            ...[0, g.inChannels, k0, k1, perChunk],
          ]),
        );
      } else {
        // threads take input channels, each reading all of dy
        kernels.split('convFilterGradient', g.inChannels, 4, work, (c0, c1, part) => [
          ...[x, dy, out, geometry, gather + gatherBytes * part],
          ...[c0, c1, 0, 1, positions],
        ]);
      }
    } finally {
      kernels.free(gather);
    }
  } finally {
    kernels.free(geometry);
  }
}

/** {@link heapConvFilterGradient} as patches; `geometry` the geometry words on the heap, `work` its multiply-adds. */
function patchFilterGradient(
  kernels: WasmHeapKernels,
  call: {
    x: number;
    dy: number;
    out: number;
    g: ConvGeometry;
    outChannels: number;
    geometry: number;
    work: number;
  },
): void {
  const { x, dy, out, g, outChannels, geometry, work } = call;
  const chunks = Math.ceil((g.batch * g.outHeight * g.outWidth) / PATCH_CHUNK);
  const size = g.filterHeight * g.filterWidth * g.inChannels * outChannels;
  const scratch = patchScratchBytes(g);
  const gather = kernels.alloc(scratch * kernels.parts);
  try {
    inChunks(kernels, out, size, chunks, (partials) =>
      kernels.split('convFilterGradientPatches', chunks, 1, work, (k0, k1, part) => [
        ...[x, dy, partials, geometry, gather + scratch * part],
        ...[k0, k1],
      ]),
    );
  } finally {
    kernels.free(gather);
  }
}

/**
 * How many chunks of output positions a convolution's filter gradient is summed in: up to 16, at least 512
 * positions each, their partial sums (`size` floats each) at most 4 MB together; 1 means the threads split the input
 * channels instead. Depends on the problem only, never on the threads.
 */
function positionChunks(positions: number, size: number): number {
  return Math.max(1, Math.min(16, Math.floor(positions / 512), Math.floor((4 << 20) / (4 * size))));
}

/**
 * A sum taken in `chunks` fixed parts: `run(partials)` writes chunk k's sum of `size` floats at `partials + 4 * size
 * * k` (threads take chunks), then the sums are added in chunk order into `out`; one chunk is written straight into
 * `out`. Since the chunks depend on the problem only, the result does not depend on the threads.
 */
export function inChunks(
  kernels: WasmHeapKernels,
  out: number,
  size: number,
  chunks: number,
  run: (partials: number) => void,
): void {
  const partials = chunks > 1 ? kernels.alloc(4 * size * chunks) : out;
  try {
    run(partials);
    for (let k = 1; k < chunks; k++) {
      kernels.exports.addArrays(k === 1 ? partials : out, partials + 4 * size * k, out, size);
    }
  } finally {
    if (partials !== out) kernels.free(partials);
  }
}

/**
 * `C [M, N] = Aᵀ B` for row-major `A [K, M]` and `B [K, N]` without transposing A: the filter gradient of a 1x1
 * convolution over K positions (M input channels, N output channels).
 */
export function heapMatMulTransposedA(
  kernels: WasmHeapKernels,
  a: number,
  b: number,
  c: number,
  m: number,
  k: number,
  n: number,
): void {
  const positions: ConvGeometry = {
    ...{ batch: 1, inHeight: 1, inWidth: k, inChannels: m, outHeight: 1, outWidth: k },
    ...{
      filterHeight: 1,
      filterWidth: 1,
      strideHeight: 1,
      strideWidth: 1,
      dilationHeight: 1,
      dilationWidth: 1,
    },
    ...{ padTop: 0, padLeft: 0, paddedHeight: 1, paddedWidth: k },
  };
  heapConvFilterGradient(kernels, a, b, c, positions, n);
}

/**
 * An elementwise kernel of two float32 tensors of one shape (`addArrays`, `relu6Backprop`) into a new output. These
 * are memory-bound and run on one thread (a second one made them slower here); a test may split them
 * ({@link setMinimumSplitWork}).
 */
export function heapElementwise(
  kernels: WasmHeapKernels,
  fn: 'addArrays' | 'relu6Backprop',
  a: tf.TensorInfo,
  b: tf.TensorInfo,
): tf.TensorInfo {
  const out = kernels.makeOutput([...a.shape]);
  const [aAt, bAt, outAt] = [kernels.offsetOf(a), kernels.offsetOf(b), kernels.offsetOf(out)];
  const size = a.shape.reduce((n, d) => n * d, 1);
  kernels.split(fn, size, 4, 0, (start, end) => [
    aAt + 4 * start,
    bAt + 4 * start,
    outAt + 4 * start,
    end - start,
  ]);
  return out;
}
