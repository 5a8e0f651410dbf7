import { latticeWorkBytes } from './lattice/permutohedral_lattice';
import { type CrfPhase, crfShare } from './parallel/crf_share';
import type { KernelWorkers } from './parallel/kernel_workers';
import { BARRIER_ADDRESS, type KernelArena, kernelArena } from './wasm/kernel_arena';

/** How a pairwise kernel's filter is normalised (pydensecrf's NormalizationType). */
export type KernelNormalization = 'symmetric' | 'before' | 'after' | 'none';

const NORMALIZATION_CODES: Record<KernelNormalization, number> = {
  symmetric: 0,
  before: 1,
  after: 2,
  none: 3,
};

/** One Gaussian pairwise term: its lattice features, normalisation and label compatibility. */
export interface PairwiseTerm {
  /** Per-pixel features divided by their standard deviations, [pixels x dims]. */
  features: Float32Array;
  dims: number;
  normalization: KernelNormalization;
  /** Potts weight w (message +w K Q) or a labels x labels matrix mu (message +mu K Q), as pydensecrf. */
  compat: number | Float32Array;
}

/** The unary of a CRF, label-major [labels x pixels]: energies U, or probabilities with U = -log(clip(p, clip, 1)). */
export type UnarySource = { energies: Float32Array } | { probabilities: Float32Array; clip: number };

/** Marginals [labels x pixels] (label-major) and, for at most 256 labels, each pixel's most probable label. */
export interface MeanFieldResult {
  q: Float32Array;
  labels: Uint8Array | undefined;
}

/** Slots of the mean-field context (exported by assembly/mean_field_context.ts). */
type Layout = Record<string, number>;

let layout: Layout | undefined;

function contextLayout(arena: KernelArena): Layout {
  if (!layout) {
    layout = {};
    for (const [name, value] of Object.entries(arena.exports)) {
      if (value instanceof WebAssembly.Global) layout[name] = value.value;
    }
  }
  return layout;
}

/** A first hash-table size for `pixels` points: lattice points rarely exceed half the pixels; it doubles if they do. */
function align(at: number, bytes: number): number {
  return Math.ceil(at / bytes) * bytes;
}

function initialCapacity(pixels: number): number {
  return 2 ** Math.ceil(Math.log2(Math.max(1024, pixels / 2)));
}

/**
 * Mean-field inference of the fully connected CRF (Kraehenbuehl & Koltun 2011): builds every term's permutohedral
 * lattice and normalisation, then Q = softmax(-U) and `iterations` times Q = softmax(-U + sum_k compat_k K~_k Q).
 * The unary is given [labels x pixels] (label-major, as pydensecrf) as energies or as probabilities
 * (U = -log(clip(p, clip, 1))). With `parallel`, `threads` threads build the lattices side by side and split the
 * pixels (splat, slice, softmax) and the lattice points (blur) of every iteration.
 */
export function meanField(
  unary: UnarySource,
  labels: number,
  terms: readonly PairwiseTerm[],
  iterations: number,
  parallel?: { workers: KernelWorkers; threads: number },
): MeanFieldResult {
  const arena = kernelArena();
  const L = contextLayout(arena);
  if (terms.length > L.CTX_MAX_TERMS) {
    throw new Error(`DenseCrf: at most ${L.CTX_MAX_TERMS} pairwise terms are supported, got ${terms.length}`);
  }
  const threads = parallel ? parallel.threads : 1;
  const source = 'energies' in unary ? unary.energies : unary.probabilities;
  const pixels = source.length / labels;
  const rowBytes = Math.ceil(labels / 4) * 16;
  arena.reset();
  const slots = new Int32Array(L.CTX_TERM_BASE + L.CTX_TERM_SLOTS * terms.length);
  const context = arena.alloc(slots.byteLength);
  const termSlot = (k: number, name: string) => L.CTX_TERM_BASE + k * L.CTX_TERM_SLOTS + L[name];
  const write = () => arena.i32(context, slots.length).set(slots);
  const run = (phase: CrfPhase, axes: number) => {
    write();
    if (parallel && threads > 1) parallel.workers.run(arena, context, phase, threads, iterations, axes);
    else crfShare(arena.exports, arena.memory, context, phase, 0, 1, iterations, axes);
  };
  slots[L.CTX_BARRIER] = BARRIER_ADDRESS;
  slots[L.CTX_PIXELS] = pixels;
  slots[L.CTX_LABELS] = labels;
  slots[L.CTX_STRIDE] = rowBytes / 4;
  slots[L.CTX_TERMS] = terms.length;
  slots[L.CTX_SOURCE] = arena.put(source);
  slots[L.CTX_FROM_PROBABILITIES] = 'probabilities' in unary ? 1 : 0;
  new Float32Array(slots.buffer)[L.CTX_CLIP] = 'probabilities' in unary ? unary.clip : 0;
  const allocTable = (k: number, capacity: number) => {
    const { dims } = terms[k];
    slots[termSlot(k, 'TERM_CAPACITY')] = capacity;
    slots[termSlot(k, 'TERM_TABLE')] = arena.alloc(capacity * 4);
    // lattice points never exceed capacity / 2 (the table would be full): size by that, only what is used is touched
    slots[termSlot(k, 'TERM_KEYS')] = arena.alloc((capacity / 2) * dims * 4);
    slots[termSlot(k, 'TERM_NEIGHBOURS')] = arena.alloc((dims + 1) * (capacity / 2) * 8);
    slots[termSlot(k, 'TERM_SCALARS')] = arena.alloc(2 * (capacity / 2 + 1) * 4);
  };
  terms.forEach(({ features, dims, normalization, compat }, k) => {
    const vertexBytes = pixels * (dims + 1) * 4;
    const bary = arena.alloc(vertexBytes);
    const splat =
      normalization === 'symmetric' || normalization === 'before' ? arena.alloc(vertexBytes) : bary;
    slots[termSlot(k, 'TERM_DIMS')] = dims;
    slots[termSlot(k, 'TERM_FEATURES')] = arena.put(features);
    slots[termSlot(k, 'TERM_OFFSETS')] = arena.alloc(vertexBytes);
    slots[termSlot(k, 'TERM_BARYCENTRIC')] = bary;
    slots[termSlot(k, 'TERM_WORK')] = arena.alloc(latticeWorkBytes(dims));
    slots[termSlot(k, 'TERM_NORMALIZATION')] = NORMALIZATION_CODES[normalization];
    slots[termSlot(k, 'TERM_SPLAT_WEIGHTS')] = splat;
    slots[termSlot(k, 'TERM_SLICE_WEIGHTS')] =
      normalization === 'symmetric' ? splat : normalization === 'before' ? bary : arena.alloc(vertexBytes);
    slots[termSlot(k, 'TERM_MATRIX')] =
      typeof compat === 'number' ? 0 : arena.put(symmetrize(compat, labels));
    new Float32Array(slots.buffer)[termSlot(k, 'TERM_COMPAT')] = typeof compat === 'number' ? compat : 0;
    allocTable(k, initialCapacity(pixels));
  });
  slots[L.CTX_NEG_UNARY] = arena.alloc(pixels * rowBytes);
  slots[L.CTX_Q] = arena.alloc(pixels * rowBytes);
  slots[L.CTX_INV_SUM] = arena.alloc(pixels * 4);
  // rows of different threads on different cache lines
  slots[L.CTX_ROW_SCRATCH] = align(arena.alloc(threads * 2 * rowBytes + 64), 64);
  slots[L.CTX_ARGMAX] = labels <= 256 ? arena.alloc(pixels) : 0;
  run('build', 0);
  const builtPoints = (k: number) => arena.i32(context, slots.length)[termSlot(k, 'TERM_POINTS')];
  terms.forEach((_, k) => {
    slots[termSlot(k, 'TERM_POINTS')] = builtPoints(k);
  });
  terms.forEach((_, k) => {
    // a table that filled up doubles and that term is built again
    while (slots[termSlot(k, 'TERM_POINTS')] < 0) {
      allocTable(k, 2 * slots[termSlot(k, 'TERM_CAPACITY')]);
      write();
      arena.exports.buildTerm(context, k);
      slots[termSlot(k, 'TERM_POINTS')] = builtPoints(k);
    }
    const points = slots[termSlot(k, 'TERM_POINTS')];
    const bufferBytes = (points + 1) * rowBytes;
    slots[termSlot(k, 'TERM_BUFFERS')] = arena.alloc(threads * bufferBytes);
    slots[termSlot(k, 'TERM_BUFFER_BYTES')] = bufferBytes;
    slots[termSlot(k, 'TERM_SCRATCH')] = arena.alloc(bufferBytes);
    slots[termSlot(k, 'TERM_BLURRED')] = arena.alloc(bufferBytes);
  });
  // row 0 of the blur buffers is the always-zero missing neighbour
  terms.forEach((_, k) => {
    for (const name of ['TERM_SCRATCH', 'TERM_BLURRED'])
      arena.f32(slots[termSlot(k, name)], rowBytes / 4).fill(0);
  });
  run('infer', Math.max(0, ...terms.map((t) => t.dims + 1)));
  const argmax = slots[L.CTX_ARGMAX];
  return {
    q: arena.f32(slots[L.CTX_SOURCE], labels * pixels).slice(),
    labels: argmax ? new Uint8Array(arena.memory.buffer, argmax, pixels).slice() : undefined,
  };
}

/** pydensecrf's MatrixCompatibility uses (mu + mu^T) / 2. */
function symmetrize(matrix: Float32Array, labels: number): Float32Array {
  const out = new Float32Array(labels * labels);
  for (let a = 0; a < labels; a++) {
    for (let b = 0; b < labels; b++)
      out[a * labels + b] = 0.5 * (matrix[a * labels + b] + matrix[b * labels + a]);
  }
  return out;
}
