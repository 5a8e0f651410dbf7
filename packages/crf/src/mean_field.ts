import type { PermutohedralLattice } from './lattice/permutohedral_lattice';
import type { KernelWorkers } from './parallel/kernel_workers';
import { meanFieldShare } from './parallel/mean_field_share';
import { kernelArena } from './wasm/kernel_arena';

/** How a pairwise kernel's filter is normalised (pydensecrf's NormalizationType). */
export type KernelNormalization = 'symmetric' | 'before' | 'after' | 'none';

/** One Gaussian pairwise term: a lattice over its features, its normalisation and its label compatibility. */
export interface PairwiseTerm {
  lattice: PermutohedralLattice;
  normalization: KernelNormalization;
  /** Potts weight w (message +w K Q) or a labels x labels matrix mu (message +mu K Q), as pydensecrf. */
  compat: number | Float32Array;
}

/** The unary of a CRF, label-major [labels x pixels]: energies U, or probabilities with U = -log(clip(p, clip, 1)). */
export type UnarySource = { energies: Float32Array } | { probabilities: Float32Array; clip: number };

/**
 * Per-vertex splat and slice weights of a term: the barycentric weights times the normalisation. pydensecrf's
 * lattice scales every output by 1 / (1 + 2^-d); every normalisation cancels that factor, so it is left out.
 */
export function termWeights(term: PairwiseTerm): { splat: Float32Array; slice: Float32Array } {
  const { lattice, normalization } = term;
  const d1 = lattice.dims + 1;
  const pixels = lattice.pixels;
  const norm = lattice.filter(new Float32Array(pixels).fill(1), 1);
  const bary = lattice.barycentric;
  if (normalization === 'none') {
    let total = 0;
    for (let i = 0; i < pixels; i++) total += norm[i];
    const slice = new Float32Array(bary.length);
    const mean = pixels / total;
    for (let v = 0; v < bary.length; v++) slice[v] = bary[v] * mean;
    return { splat: bary, slice };
  }
  const scaled = new Float32Array(bary.length);
  for (let i = 0; i < pixels; i++) {
    const n = normalization === 'symmetric' ? 1 / Math.sqrt(norm[i] + 1e-20) : 1 / (norm[i] + 1e-20);
    for (let r = 0; r < d1; r++) scaled[i * d1 + r] = bary[i * d1 + r] * n;
  }
  if (normalization === 'symmetric') return { splat: scaled, slice: scaled };
  return normalization === 'before' ? { splat: scaled, slice: bary } : { splat: bary, slice: scaled };
}

/**
 * Mean-field inference of the fully connected CRF (Kraehenbuehl & Koltun 2011): Q = softmax(-U), then
 * `iterations` times Q = softmax(-U + sum_k compat_k K~_k Q). The unary is given [labels x pixels] (label-major,
 * as pydensecrf) as energies or as probabilities (U = -log(clip(p, clip, 1))); returns Q in the same layout. With `workers`, `threads` threads split the labels while filtering
 * and the pixels while normalising.
 */
export function meanField(
  unary: UnarySource,
  labels: number,
  terms: PairwiseTerm[],
  iterations: number,
  parallel?: { workers: KernelWorkers; threads: number },
): Float32Array {
  const source = 'energies' in unary ? unary.energies : unary.probabilities;
  const pixels = source.length / labels;
  const stride = Math.ceil(labels / 4) * 4;
  const weights = terms.map(termWeights);
  const arena = kernelArena();
  arena.reset();
  const threads = parallel ? parallel.threads : 1;
  const slotCount = 64 + 16 * terms.length;
  const context = arena.alloc(slotCount * 4);
  const slots = new Int32Array(slotCount);
  const floatSlots = new Float32Array(slots.buffer);
  const cells = pixels * stride;
  const sourceAt = arena.put(source);
  const negUnary = arena.alloc(cells * 4);
  const q = arena.alloc(cells * 4);
  const logits = arena.alloc(cells * 4);
  const invSum = arena.alloc(pixels * 4);
  const firstPotts = terms.findIndex((t) => typeof t.compat === 'number');
  // 8-9: the barrier; logits hold the pairwise messages (Q is kept unnormalised with 1 / sum in invSum)
  slots.set([pixels, labels, stride, 0, terms.length, negUnary, q, logits, 0, 0, invSum, firstPotts]);
  let maxPoints = 0;
  terms.forEach((term, k) => {
    const { lattice, compat } = term;
    maxPoints = Math.max(maxPoints, lattice.points);
    const base = 64 + 16 * k;
    const matrix = typeof compat === 'number' ? 0 : arena.put(symmetrize(compat, labels));
    const filtered = typeof compat === 'number' ? 0 : arena.alloc(cells * 4);
    const { splat, slice } = weights[k];
    const splatAt = arena.put(splat);
    slots.set(
      [
        lattice.dims + 1,
        lattice.points,
        arena.put(lattice.offsets),
        splatAt,
        slice === splat ? splatAt : arena.put(slice), // symmetric normalisation: one array
        arena.put(lattice.neighbours),
        0,
        matrix,
        filtered,
      ],
      base,
    );
    floatSlots[base + 6] = typeof compat === 'number' ? compat : 0;
  });
  const widest = Math.ceil(stride / 4 / threads) * 4;
  for (let t = 0; t < threads; t++) {
    const size = (maxPoints + 1) * widest * 4;
    slots.set([arena.alloc(size), arena.alloc(size)], 16 + 2 * t);
  }
  // every allocation is done: views taken from here on stay valid
  arena.i32(context, slotCount).set(slots);
  const fromProbabilities = 'probabilities' in unary;
  arena.exports.prepareNegUnary(
    sourceAt,
    negUnary,
    labels,
    pixels,
    stride,
    fromProbabilities,
    fromProbabilities ? unary.clip : 0,
  );
  arena.f32(logits, cells).fill(0);
  if (parallel && threads > 1)
    parallel.workers.runMeanField(arena, context, threads, iterations, terms.length);
  else meanFieldShare(arena.exports, context, 0, 1, iterations, terms.length);
  arena.exports.extractMarginals(q, invSum, sourceAt, labels, pixels, stride);
  return arena.f32(sourceAt, labels * pixels).slice();
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
