// AssemblyScript: the set-up phases of dense-CRF inference (see mean_field_context.ts): lattices, neighbours and
// normalised weights of each term.

import { buildLattice, latticeNeighbours } from './lattice_build';
import {
  CTX_PIXELS, CTX_STRIDE, CTX_TERM_BASE, CTX_TERM_SLOTS, CTX_TERMS, TERM_BARYCENTRIC, TERM_CAPACITY, TERM_DIMS, TERM_FEATURES, TERM_IMAGE_RGB, TERM_IMAGE_SCALES, TERM_IMAGE_WIDTH, TERM_KEYS, TERM_NEIGHBOURS, TERM_NORMALIZATION, TERM_OFFSETS, TERM_POINTS, TERM_SCALARS, TERM_SLICE_WEIGHTS, TERM_SPLAT_WEIGHTS, TERM_TABLE, TERM_WORK,
} from './mean_field_context';
import { nextItem, PIXEL_BLOCK, slot, termSlot } from './context_access';
import { negUnaryRange } from './mean_field_pixels';

/**
 * Builds the lattice of term k (from its image's features when it has one), its neighbours and its normalised
 * weights into its slots (TERM_POINTS -1 when its hash table filled up: nothing else is written then).
 */
export function buildTerm(ctx: usize, k: i32): void {
  if (termSlot(ctx, k, TERM_IMAGE_WIDTH) != 0) imageFeatures(ctx, k);
  const table = <usize>termSlot(ctx, k, TERM_TABLE);
  const capacity = termSlot(ctx, k, TERM_CAPACITY);
  memory.fill(table, 0xff, <usize>capacity << 2); // every slot -1: empty
  const points = buildLattice(
    <usize>termSlot(ctx, k, TERM_FEATURES), slot(ctx, CTX_PIXELS), termSlot(ctx, k, TERM_DIMS), table, capacity,
    <usize>termSlot(ctx, k, TERM_KEYS), <usize>termSlot(ctx, k, TERM_OFFSETS),
    <usize>termSlot(ctx, k, TERM_BARYCENTRIC), <usize>termSlot(ctx, k, TERM_WORK),
  );
  store<i32>(ctx + (<usize>(CTX_TERM_BASE + k * CTX_TERM_SLOTS + TERM_POINTS) << 2), points);
  if (points >= 0) prepareTerm(ctx, k);
}

/**
 * Term k's features from its image, in float32 as pydensecrf: (x / sx, y / sy), and (r / sr, g / sg, b / sb) with
 * colours.
 */
function imageFeatures(ctx: usize, k: i32): void {
  const pixels = slot(ctx, CTX_PIXELS);
  const width = termSlot(ctx, k, TERM_IMAGE_WIDTH);
  const rgb = <usize>termSlot(ctx, k, TERM_IMAGE_RGB);
  const scales = <usize>termSlot(ctx, k, TERM_IMAGE_SCALES);
  const dims = <usize>termSlot(ctx, k, TERM_DIMS);
  const sx = load<f32>(scales);
  const sy = load<f32>(scales, 4);
  const sr = rgb != 0 ? load<f32>(scales, 8) : 1;
  const sg = rgb != 0 ? load<f32>(scales, 12) : 1;
  const sb = rgb != 0 ? load<f32>(scales, 16) : 1;
  let f = <usize>termSlot(ctx, k, TERM_FEATURES);
  for (let i = 0, x = 0, y = 0; i < pixels; i++, f += dims << 2) {
    store<f32>(f, <f32>x / sx);
    store<f32>(f, <f32>y / sy, 4);
    if (rgb != 0) {
      const colour = rgb + <usize>i * 3;
      store<f32>(f, <f32>load<u8>(colour) / sr, 8);
      store<f32>(f, <f32>load<u8>(colour, 1) / sg, 12);
      store<f32>(f, <f32>load<u8>(colour, 2) / sb, 16);
    }
    if (++x == width) {
      x = 0;
      y++;
    }
  }
}

/** The term with the k-th most dimensions (ties: the lower index first): the costliest builds are taken first. */
function termByCost(ctx: usize, k: i32): i32 {
  const terms = slot(ctx, CTX_TERMS);
  for (let t = 0; t < terms; t++) {
    let rank = 0;
    const dims = termSlot(ctx, t, TERM_DIMS);
    for (let u = 0; u < terms; u++) {
      const other = termSlot(ctx, u, TERM_DIMS);
      if (other > dims || (other == dims && u < t)) rank++;
    }
    if (rank == k) return t;
  }
  return -1;
}

/**
 * The set-up work shared out by a queue (an atomic counter): every term's lattice, neighbours and weights, costliest
 * first, then -U of the pixels in blocks.
 */
export function buildShare(ctx: usize): void {
  const terms = slot(ctx, CTX_TERMS);
  const pixels = slot(ctx, CTX_PIXELS);
  for (let item = nextItem(ctx); ; item = nextItem(ctx)) {
    if (item < terms) buildTerm(ctx, termByCost(ctx, item));
    else {
      const first = (item - terms) * PIXEL_BLOCK;
      if (first >= pixels) break;
      negUnaryRange(ctx, first, min<i32>(first + PIXEL_BLOCK, pixels));
    }
  }
}

/**
 * Neighbours and normalised splat / slice weights of term k. The kernel's row sums come from filtering ones (scalar,
 * in the term's TERM_SCALARS). pydensecrf's lattice scales every output by alpha = 1 / (1 + 2^-d), which the three
 * normalisations cancel (it is left out there) and NO_NORMALIZATION keeps: symmetric: both weights times
 * 1 / sqrt(norm); before: the splat times 1 / norm; after: the slice times 1 / norm; none: the slice times alpha
 * (pydensecrf computes a mean norm for NO_NORMALIZATION but never applies it).
 */
function prepareTerm(ctx: usize, k: i32): void {
  const pixels = slot(ctx, CTX_PIXELS);
  const d = termSlot(ctx, k, TERM_DIMS);
  const d1 = d + 1;
  const points = termSlot(ctx, k, TERM_POINTS);
  const neighbours = <usize>termSlot(ctx, k, TERM_NEIGHBOURS);
  latticeNeighbours(
    d, points, <usize>termSlot(ctx, k, TERM_TABLE), termSlot(ctx, k, TERM_CAPACITY), <usize>termSlot(ctx, k, TERM_KEYS),
    neighbours, <usize>termSlot(ctx, k, TERM_WORK),
  );
  const offsets = <usize>termSlot(ctx, k, TERM_OFFSETS);
  const bary = <usize>termSlot(ctx, k, TERM_BARYCENTRIC);
  const scratch = <usize>termSlot(ctx, k, TERM_SCALARS);
  const blurred = scratch + ((<usize>points + 1) << 2);
  const vertices = <usize>pixels * <usize>d1;
  memory.fill(scratch, 0, (<usize>points + 1) << 2);
  store<f32>(blurred, 0);
  for (let v: usize = 0; v < vertices; v++) {
    const at = scratch + (<usize>(load<i32>(offsets + (v << 2)) + 1) << 2);
    store<f32>(at, load<f32>(at) + load<f32>(bary + (v << 2)));
  }
  let from = scratch;
  let to = blurred;
  for (let axis = 0; axis < d1; axis++) {
    const nb = neighbours + (<usize>(axis * points) << 3);
    for (let p = 0; p < points; p++) {
      const n1 = load<i32>(nb + (<usize>p << 3)) + 1;
      const n2 = load<i32>(nb + (<usize>p << 3) + 4) + 1;
      const sum = load<f32>(from + (<usize>n1 << 2)) + load<f32>(from + (<usize>n2 << 2));
      store<f32>(to + (<usize>(p + 1) << 2), load<f32>(from + (<usize>(p + 1) << 2)) + 0.5 * sum);
    }
    const t = from;
    from = to;
    to = t;
  }
  const normalization = termSlot(ctx, k, TERM_NORMALIZATION);
  const alpha = <f32>1 / (<f32>1 + <f32>1 / <f32>(1 << d)); // d <= 16
  const splatWeights = <usize>termSlot(ctx, k, TERM_SPLAT_WEIGHTS);
  const sliceWeights = <usize>termSlot(ctx, k, TERM_SLICE_WEIGHTS);
  const writeSplat = splatWeights != bary;
  const writeSlice = sliceWeights != bary && sliceWeights != splatWeights;
  for (let i = 0; i < pixels; i++) {
    const base = <usize>i * <usize>d1 << 2;
    let norm: f32 = 0;
    for (let r = 0; r < d1; r++) {
      const v = base + (<usize>r << 2);
      norm += load<f32>(bary + v) * load<f32>(from + (<usize>(load<i32>(offsets + v) + 1) << 2));
    }
    let splatFactor: f32 = 1;
    let sliceFactor: f32 = 1;
    if (normalization == 0) splatFactor = sliceFactor = <f32>1 / Mathf.sqrt(norm + 1e-20);
    else if (normalization == 1) splatFactor = <f32>1 / (norm + 1e-20);
    else if (normalization == 2) sliceFactor = <f32>1 / (norm + 1e-20);
    else sliceFactor = alpha;
    for (let r = 0; r < d1; r++) {
      const v = base + (<usize>r << 2);
      const w = load<f32>(bary + v);
      if (writeSplat) store<f32>(splatWeights + v, w * splatFactor);
      if (writeSlice) store<f32>(sliceWeights + v, w * sliceFactor);
    }
  }
  // from here on the splat, blur and slice address rows: lattice point p becomes the byte offset (p + 1) x rowBytes
  const rowBytes = <usize>slot(ctx, CTX_STRIDE) << 2;
  toRowOffsets(offsets, vertices, rowBytes);
  toRowOffsets(neighbours, <usize>d1 * <usize>points * 2, rowBytes);
}

/** Replaces `count` lattice point indices p (-1: none) at `at` by their rows' byte offsets (p + 1) x rowBytes. */
function toRowOffsets(at: usize, count: usize, rowBytes: usize): void {
  for (let v: usize = 0; v < count; v++) {
    const p = at + (v << 2);
    store<u32>(p, <u32>((<usize>load<i32>(p) + 1) * rowBytes));
  }
}


