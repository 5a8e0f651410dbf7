// AssemblyScript: the context of one dense-CRF inference, a block of i32 slots that src/mean_field.ts writes. Every
// thread runs the same steps, taking blocks of work (terms, pixels or lattice points), with barriers in between
// (src/parallel/crf_share.ts):
//   build:  buildShare (each term's lattice, neighbours and normalised weights, costliest first; -U in pixel blocks)
//   infer:  startShare (Q = softmax(-U), splatted into the thread's own lattice buffers) | per iteration: blurShare
//           per axis (lattice points; axis 0 sums the threads' buffers, axis 1 clears them) | sliceSoftmaxShare
//           (slice, softmax, splat for the next iteration) | finishShare (marginals and argmax)
// The build takes its items from one queue (costliest first); the infer steps give each thread its own share of the
// blocks of points or pixels, the same at every step, and let it take over what others leave (nextShareItem).
// Per-pixel rows are pixel-major with a stride that is a multiple of 4 floats, so one v128 holds 4 labels. Q is kept
// unnormalised (entries below 1e-20 of the row's maximum are 0) with 1 / sum in INV_SUM; the splat applies it.

// Slots of the context (exported: the JavaScript side writes the context with these).
export const CTX_PIXELS: i32 = 0;
export const CTX_LABELS: i32 = 1;
export const CTX_STRIDE: i32 = 2;
export const CTX_TERMS: i32 = 3;
/** Label-major unary source [labels x pixels] on entry, label-major marginals on exit. */
export const CTX_SOURCE: i32 = 4;
/** 1: the source holds probabilities (-U = log(clip(p, CLIP, 1))), 0: energies (-U = -source). */
export const CTX_FROM_PROBABILITIES: i32 = 5;
/** f32. */
export const CTX_CLIP: i32 = 6;
export const CTX_NEG_UNARY: i32 = 7;
export const CTX_Q: i32 = 8;
export const CTX_INV_SUM: i32 = 9;
/** u8 per pixel for the argmax, or 0. */
export const CTX_ARGMAX: i32 = 10;
/** Two rows of stride floats per thread. */
export const CTX_ROW_SCRATCH: i32 = 11;
/** Address of the barrier's two i32s (count, generation; src/parallel/crf_share.ts), which outlive every context. */
export const CTX_BARRIER: i32 = 12;
/** Next item of the current step's work queue (atomic; every barrier resets it). */
export const CTX_WORK_QUEUE: i32 = 13;
/** Set to 1 by the set-up when the unary source holds NaN. */
export const CTX_UNARY_NAN: i32 = 14;
/** Threads taking part. */
export const CTX_THREADS: i32 = 15;
/** Address of one 64-byte line per thread: its share's i64 counter (context_access.ts nextShareItem). */
export const CTX_SHARES: i32 = 16;
export const CTX_TERM_BASE: i32 = 20;
export const CTX_TERM_SLOTS: i32 = 23;
export const CTX_MAX_TERMS: i32 = 8;
// Slots of term k, from CTX_TERM_BASE + k * CTX_TERM_SLOTS
export const TERM_DIMS: i32 = 0;
/** Lattice points, written by buildShare (-1: the hash table filled up). */
export const TERM_POINTS: i32 = 1;
export const TERM_FEATURES: i32 = 2;
export const TERM_TABLE: i32 = 3;
export const TERM_CAPACITY: i32 = 4;
export const TERM_KEYS: i32 = 5;
/** Lattice point of each simplex vertex [pixels x (dims + 1)]; after buildShare the byte offset of its row. */
export const TERM_OFFSETS: i32 = 6;
export const TERM_BARYCENTRIC: i32 = 7;
/** May equal TERM_BARYCENTRIC (no normalisation before the splat). */
export const TERM_SPLAT_WEIGHTS: i32 = 8;
/** May equal TERM_BARYCENTRIC or TERM_SPLAT_WEIGHTS. */
export const TERM_SLICE_WEIGHTS: i32 = 9;
/** Neighbours along each axis [(dims + 1) x points x 2]; after buildShare the byte offsets of their rows. */
export const TERM_NEIGHBOURS: i32 = 10;
/** 0 symmetric, 1 before, 2 after, 3 none. */
export const TERM_NORMALIZATION: i32 = 11;
/** f32 Potts weight (when TERM_MATRIX is 0). */
export const TERM_COMPAT: i32 = 12;
/** labels x labels f32 compatibility, or 0. */
export const TERM_MATRIX: i32 = 13;
/** One splat buffer per thread, TERM_BUFFER_BYTES apart: (points + 1) rows, row 0 the always-zero missing neighbour. */
export const TERM_BUFFERS: i32 = 14;
export const TERM_BUFFER_BYTES: i32 = 15;
export const TERM_SCRATCH: i32 = 16;
export const TERM_BLURRED: i32 = 17;
export const TERM_WORK: i32 = 18;
/** Two scalar buffers of (capacity / 2 + 1) floats for the normalisation. */
export const TERM_SCALARS: i32 = 19;
/** When not 0, the image width: the set-up computes TERM_FEATURES from the pixel positions (and colours). */
export const TERM_IMAGE_WIDTH: i32 = 20;
/** Interleaved RGB bytes of the image (3 more features), or 0. */
export const TERM_IMAGE_RGB: i32 = 21;
/** f32 standard deviation of each feature (TERM_DIMS of them). */
export const TERM_IMAGE_SCALES: i32 = 22;

