import { initialTableCapacity } from './lattice/permutohedral_lattice';
import { type CrfPhase, crfShare } from './parallel/crf_share';
import type { KernelWorkers } from './parallel/kernel_workers';
import { BARRIER_ADDRESS, kernelArena } from './wasm/kernel_arena';
import { MeanFieldContext } from './wasm/mean_field_context';

/** How a pairwise kernel's filter is normalised (pydensecrf's NormalizationType). */
export type KernelNormalization = 'symmetric' | 'before' | 'after' | 'none';

const NORMALIZATION_CODES: Record<KernelNormalization, number> = {
  symmetric: 0,
  before: 1,
  after: 2,
  none: 3,
};

/**
 * Lattice features that the kernels compute from an image of `width` columns (in float32, as pydensecrf):
 * (x / sx, y / sy) with `scales` [sx, sy], and with `rgb` (interleaved bytes) also (r / sr, g / sg, b / sb) with
 * `scales` [sx, sy, sr, sg, sb].
 */
export interface ImageFeatures {
  width: number;
  scales: Float32Array;
  rgb?: Uint8Array | Uint8ClampedArray;
}

/** One Gaussian pairwise term: its lattice features, normalisation and label compatibility. */
export interface PairwiseTerm {
  /** Per-pixel features divided by their standard deviations, [pixels x dims], or image features. */
  features: Float32Array | ImageFeatures;
  dims: number;
  normalization: KernelNormalization;
  /**
   * Potts weight w (logits + w K Q) or a labels x labels matrix mu (logits - mu K Q), as pydensecrf's
   * PottsCompatibility and MatrixCompatibility: the matrix -w I equals Potts w.
   */
  compat: number | Float32Array;
}

/** The unary of a CRF, label-major [labels x pixels]: energies U, or probabilities with U = -log(clip(p, clip, 1)). */
export type UnarySource = { energies: Float32Array } | { probabilities: Float32Array; clip: number };

/** Marginals [labels x pixels] (label-major) and, for at most 256 labels, each pixel's most probable label. */
export interface MeanFieldResult {
  q: Float32Array;
  labels: Uint8Array | undefined;
}

/**
 * Mean-field inference of the fully connected CRF (Kraehenbuehl & Koltun 2011): builds every term's permutohedral
 * lattice and normalisation, then Q = softmax(-U) and `iterations` times Q = softmax(-U + sum_k m_k), m_k = w_k K~_k Q
 * for a Potts term and -mu_k K~_k Q for a matrix term.
 * The unary is given [labels x pixels] (label-major, as pydensecrf) as energies or as probabilities
 * (U = -log(clip(p, clip, 1))); NaN in it is an error (found while the lattices are built). With `parallel`,
 * `threads` threads build the lattices side by side and split the pixels (splat, slice, softmax) and the lattice
 * points (blur) of every iteration.
 */
export function meanField(
  unary: UnarySource,
  labels: number,
  terms: readonly PairwiseTerm[],
  iterations: number,
  parallel?: { workers: KernelWorkers; threads: number },
): MeanFieldResult {
  const arena = kernelArena();
  arena.reset();
  const ctx = new MeanFieldContext(arena, terms.length);
  const threads = parallel ? parallel.threads : 1;
  const source = 'energies' in unary ? unary.energies : unary.probabilities;
  const pixels = source.length / labels;
  const rowBytes = Math.ceil(labels / 4) * 16;
  const run = (phase: CrfPhase, axes: number) => {
    ctx.write();
    if (parallel && threads > 1) parallel.workers.run(arena, ctx.at, phase, threads, iterations, axes);
    else crfShare(arena.exports, arena.memory, ctx.at, phase, 0, 1, iterations, axes);
    ctx.read();
  };
  ctx.set('CTX_BARRIER', BARRIER_ADDRESS);
  ctx.set('CTX_THREADS', threads);
  // one cache line per thread for its share counter (zeroed here, then by every barrier)
  const shares = cacheLines(64 * threads);
  arena.i32(shares, 16 * threads).fill(0);
  ctx.set('CTX_SHARES', shares);
  ctx.set('CTX_PIXELS', pixels);
  ctx.set('CTX_LABELS', labels);
  ctx.set('CTX_STRIDE', rowBytes / 4);
  ctx.set('CTX_TERMS', terms.length);
  ctx.set('CTX_SOURCE', arena.put(source));
  ctx.set('CTX_FROM_PROBABILITIES', 'probabilities' in unary ? 1 : 0);
  ctx.setFloat('CTX_CLIP', 'probabilities' in unary ? unary.clip : 0);
  terms.forEach((term, k) => {
    setUpTerm(ctx, k, term, labels, pixels);
  });
  ctx.set('CTX_NEG_UNARY', arena.alloc(pixels * rowBytes));
  ctx.set('CTX_Q', arena.alloc(pixels * rowBytes));
  ctx.set('CTX_INV_SUM', arena.alloc(pixels * 4));
  // rows of different threads on different cache lines
  ctx.set('CTX_ROW_SCRATCH', cacheLines(threads * 2 * rowBytes));
  ctx.set('CTX_ARGMAX', labels <= 256 ? arena.alloc(pixels) : 0);
  run('build', 0);
  if (ctx.get('CTX_UNARY_NAN')) {
    const name = 'energies' in unary ? 'unary (setUnaryEnergy)' : 'probabilities (setUnaryFromSoftmax)';
    throw new Error(`DenseCrf.inference: ${name} hold NaN at index ${source.findIndex(Number.isNaN)}`);
  }
  terms.forEach((_, k) => {
    // a table that filled up doubles and that term is built again
    while (ctx.term(k, 'TERM_POINTS') < 0) {
      allocateTable(ctx, k, terms[k].dims, 2 * ctx.term(k, 'TERM_CAPACITY'));
      ctx.write();
      arena.exports.buildTerm(ctx.at, k);
      ctx.read();
    }
    allocateBlurBuffers(ctx, k, threads, rowBytes);
  });
  run('infer', Math.max(0, ...terms.map((t) => t.dims + 1)));
  const argmax = ctx.get('CTX_ARGMAX');
  return {
    q: arena.f32(ctx.get('CTX_SOURCE'), labels * pixels).slice(),
    labels: argmax ? new Uint8Array(arena.memory.buffer, argmax, pixels).slice() : undefined,
  };
}

/** `bytes` in the arena starting on a 64-byte cache line. */
function cacheLines(bytes: number): number {
  return Math.ceil(kernelArena().alloc(bytes + 64) / 64) * 64;
}

/** Term k's features, lattice arrays, weights and compatibility in the arena, before its lattice is built. */
function setUpTerm(
  ctx: MeanFieldContext,
  k: number,
  term: PairwiseTerm,
  labels: number,
  pixels: number,
): void {
  const arena = kernelArena();
  const { features, dims, normalization, compat } = term;
  const vertexBytes = pixels * (dims + 1) * 4;
  const bary = arena.alloc(vertexBytes);
  const splat = normalization === 'symmetric' || normalization === 'before' ? arena.alloc(vertexBytes) : bary;
  ctx.setTerm(k, 'TERM_DIMS', dims);
  if (features instanceof Float32Array) ctx.setTerm(k, 'TERM_FEATURES', arena.put(features));
  else {
    ctx.setTerm(k, 'TERM_FEATURES', arena.alloc(pixels * dims * 4));
    ctx.setTerm(k, 'TERM_IMAGE_WIDTH', features.width);
    ctx.setTerm(k, 'TERM_IMAGE_SCALES', arena.put(features.scales));
    ctx.setTerm(k, 'TERM_IMAGE_RGB', features.rgb ? arena.put(features.rgb) : 0);
  }
  ctx.setTerm(k, 'TERM_OFFSETS', arena.alloc(vertexBytes));
  ctx.setTerm(k, 'TERM_BARYCENTRIC', bary);
  ctx.setTerm(k, 'TERM_WORK', arena.alloc(arena.exports.latticeWorkBytes(dims)));
  ctx.setTerm(k, 'TERM_NORMALIZATION', NORMALIZATION_CODES[normalization]);
  ctx.setTerm(k, 'TERM_SPLAT_WEIGHTS', splat);
  ctx.setTerm(
    k,
    'TERM_SLICE_WEIGHTS',
    normalization === 'symmetric' ? splat : normalization === 'before' ? bary : arena.alloc(vertexBytes),
  );
  ctx.setTerm(k, 'TERM_MATRIX', typeof compat === 'number' ? 0 : arena.put(messageMatrix(compat, labels)));
  ctx.setTermFloat(k, 'TERM_COMPAT', typeof compat === 'number' ? compat : 0);
  allocateTable(ctx, k, dims, initialTableCapacity(pixels));
}

/** A hash table of `capacity` slots for term k and the arrays sized by its most points (capacity / 2). */
function allocateTable(ctx: MeanFieldContext, k: number, dims: number, capacity: number): void {
  const arena = kernelArena();
  ctx.setTerm(k, 'TERM_CAPACITY', capacity);
  ctx.setTerm(k, 'TERM_TABLE', arena.alloc(capacity * 4));
  // lattice points never exceed capacity / 2 (the table would be full): size by that, only what is used is touched
  ctx.setTerm(k, 'TERM_KEYS', arena.alloc((capacity / 2) * arena.exports.latticeKeyBytes(dims)));
  ctx.setTerm(k, 'TERM_NEIGHBOURS', arena.alloc((dims + 1) * (capacity / 2) * 8));
  ctx.setTerm(k, 'TERM_SCALARS', arena.alloc(2 * (capacity / 2 + 1) * 4));
}

/** Term k's per-thread splat buffers and its two blur buffers, once its lattice points are known. */
function allocateBlurBuffers(ctx: MeanFieldContext, k: number, threads: number, rowBytes: number): void {
  const arena = kernelArena();
  const bufferBytes = (ctx.term(k, 'TERM_POINTS') + 1) * rowBytes;
  ctx.setTerm(k, 'TERM_BUFFERS', arena.alloc(threads * bufferBytes));
  ctx.setTerm(k, 'TERM_BUFFER_BYTES', bufferBytes);
  for (const name of ['TERM_SCRATCH', 'TERM_BLURRED'] as const) {
    const at = arena.alloc(bufferBytes);
    arena.f32(at, rowBytes / 4).fill(0); // row 0: the always-zero missing neighbour
    ctx.setTerm(k, name, at);
  }
}

/**
 * The matrix the kernels add to the logits (times K Q): pydensecrf's MatrixCompatibility symmetrises mu to
 * (mu + mu^T) / 2 and its message is subtracted from the logits, so the kernels get -(mu + mu^T) / 2.
 */
function messageMatrix(matrix: Float32Array, labels: number): Float32Array {
  const out = new Float32Array(labels * labels);
  for (let a = 0; a < labels; a++) {
    for (let b = 0; b < labels; b++)
      out[a * labels + b] = -0.5 * (matrix[a * labels + b] + matrix[b * labels + a]);
  }
  return out;
}
