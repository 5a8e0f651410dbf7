// AssemblyScript: the per-pixel phases of dense-CRF inference (see mean_field_context.ts): the unary and first Q, the
// slice + softmax + splat of every iteration, and the marginals with their argmax.

import {
  CTX_ARGMAX, CTX_CLIP, CTX_FROM_PROBABILITIES, CTX_INV_SUM, CTX_LABELS, CTX_NEG_UNARY, CTX_PIXELS, CTX_Q, CTX_ROW_SCRATCH, CTX_SOURCE, CTX_STRIDE, CTX_TERMS, CTX_UNARY_NAN, TERM_BUFFER_BYTES, TERM_BUFFERS, TERM_COMPAT, TERM_DIMS, TERM_MATRIX, TERM_OFFSETS, TERM_SLICE_WEIGHTS, TERM_SPLAT_WEIGHTS,
} from './mean_field_context';
import { blurResult, nextShareItem, PIXEL_BLOCK, slot, termFloat, termSlot } from './context_access';
import { exp4, hsum, log4 } from './simd_math';

/** Softmax of the row at `acc` into the unnormalised Q row at `out` (entries below 1e-20 of the max 0); returns 1 / sum. */
// @ts-ignore: decorator
@inline function softmaxRow(acc: usize, out: usize, lastChunk: usize): f32 {
  let mx = v128.load(acc);
  for (let k: usize = 16; k <= lastChunk; k += 16) mx = v128.pmax<f32>(mx, v128.load(acc + k));
  // the row's maximum in every lane, without branches (a scalar max compiles to data-dependent jumps)
  mx = v128.pmax<f32>(mx, v128.shuffle<f32>(mx, mx, 2, 3, 0, 1));
  const shift = v128.pmax<f32>(mx, v128.shuffle<f32>(mx, mx, 1, 0, 3, 2));
  let sum = f32x4.splat(0);
  for (let k: usize = 0; k <= lastChunk; k += 16) {
    // exp(t) < 1e-20 becomes 0: such Q are negligible, and keeping them would feed subnormal floats (100x slower
    // arithmetic on x86) into the filters and this exp; the mask also drops exp4's meaningless lanes below -87 and
    // the padding lanes (-infinity)
    const t = f32x4.sub(v128.load(acc + k), shift);
    const e = v128.and(exp4(t), f32x4.gt(t, f32x4.splat(-46)));
    sum = f32x4.add(sum, e);
    v128.store(out + k, e);
  }
  return <f32>1 / hsum(sum);
}

/** Clears this thread's splat buffer of every term. */
function clearSplatBuffers(ctx: usize, thread: i32): void {
  for (let k = 0; k < slot(ctx, CTX_TERMS); k++) {
    const bytes = <usize>termSlot(ctx, k, TERM_BUFFER_BYTES);
    memory.fill(<usize>termSlot(ctx, k, TERM_BUFFERS) + <usize>thread * bytes, 0, bytes);
  }
}

/**
 * Splats labels [4 g', 4 g' + 4 n) of pixel i's Q row (`src` at the group, times `scale` = 1 / sum) onto every term's
 * lattice, into this thread's buffers, the row's vectors in registers. Inlined with n = 6 for whole groups.
 */
// @ts-ignore: decorator
@inline function splatGroup(ctx: usize, thread: i32, i: i32, src: usize, g: usize, scale: f32, terms: i32, n: usize): void {
  const q0 = v128.load(src);
  const q1 = n > 1 ? v128.load(src, 16) : q0;
  const q2 = n > 2 ? v128.load(src, 32) : q0;
  const q3 = n > 3 ? v128.load(src, 48) : q0;
  const q4 = n > 4 ? v128.load(src, 64) : q0;
  const q5 = n > 5 ? v128.load(src, 80) : q0;
  for (let k = 0; k < terms; k++) {
    const d1Bytes = <usize>(termSlot(ctx, k, TERM_DIMS) + 1) << 2;
    const buffer = <usize>termSlot(ctx, k, TERM_BUFFERS) + <usize>thread * <usize>termSlot(ctx, k, TERM_BUFFER_BYTES) + g;
    const rows = <usize>termSlot(ctx, k, TERM_OFFSETS) + <usize>i * d1Bytes;
    const weights = <usize>termSlot(ctx, k, TERM_SPLAT_WEIGHTS) + <usize>i * d1Bytes;
    for (let r: usize = 0; r < d1Bytes; r += 4) {
      const o = buffer + <usize>load<u32>(rows + r);
      const w = f32x4.splat(load<f32>(weights + r) * scale);
      v128.store(o, f32x4.add(v128.load(o), f32x4.mul(w, q0)));
      if (n > 1) v128.store(o, f32x4.add(v128.load(o, 16), f32x4.mul(w, q1)), 16);
      if (n > 2) v128.store(o, f32x4.add(v128.load(o, 32), f32x4.mul(w, q2)), 32);
      if (n > 3) v128.store(o, f32x4.add(v128.load(o, 48), f32x4.mul(w, q3)), 48);
      if (n > 4) v128.store(o, f32x4.add(v128.load(o, 64), f32x4.mul(w, q4)), 64);
      if (n > 5) v128.store(o, f32x4.add(v128.load(o, 80), f32x4.mul(w, q5)), 80);
    }
  }
}

/** Splats pixel i's Q row at `src` (times `scale` = 1 / sum) onto every term's lattice, into this thread's buffers. */
// @ts-ignore: decorator
@inline function splatPixel(ctx: usize, thread: i32, i: i32, src: usize, scale: f32, rowBytes: usize, terms: i32): void {
  let g: usize = 0;
  for (; g + 96 <= rowBytes; g += 96) splatGroup(ctx, thread, i, src + g, g, scale, terms, 6);
  if (g < rowBytes) splatGroup(ctx, thread, i, src + g, g, scale, terms, (rowBytes - g) >> 4);
}

/**
 * -U of pixels [first, end) into NEG_UNARY (from energies or clipped log-probabilities, padding lanes -infinity);
 * sets UNARY_NAN when a source value is NaN. Four pixels at a time, the label-major source is transposed in registers.
 */
export function negUnaryRange(ctx: usize, first: i32, end: i32): void {
  const pixels = slot(ctx, CTX_PIXELS);
  const labels = slot(ctx, CTX_LABELS);
  const rowBytes = <usize>slot(ctx, CTX_STRIDE) << 2;
  const source = <usize>slot(ctx, CTX_SOURCE);
  const negUnary = <usize>slot(ctx, CTX_NEG_UNARY);
  const fromProbabilities = slot(ctx, CTX_FROM_PROBABILITIES) != 0;
  const low = f32x4.splat(load<f32>(ctx + (<usize>CTX_CLIP << 2)));
  const one = f32x4.splat(1);
  const padding = f32x4.splat(-Infinity);
  const planeBytes = <usize>pixels << 2;
  let nan = f32x4.splat(0);
  let nanInTail = false;
  let i = first;
  for (; i + 4 <= end; i += 4) {
    for (let l = 0; l < labels; l += 4) {
      const src = source + <usize>l * planeBytes + (<usize>i << 2);
      let v0 = v128.load(src);
      let v1 = l + 1 < labels ? v128.load(src + planeBytes) : padding;
      let v2 = l + 2 < labels ? v128.load(src + 2 * planeBytes) : padding;
      let v3 = l + 3 < labels ? v128.load(src + 3 * planeBytes) : padding;
      nan = v128.or(nan, v128.or(v128.or(f32x4.ne(v0, v0), f32x4.ne(v1, v1)), v128.or(f32x4.ne(v2, v2), f32x4.ne(v3, v3))));
      if (fromProbabilities) {
        v0 = log4(v128.pmin<f32>(v128.pmax<f32>(v0, low), one));
        if (l + 1 < labels) v1 = log4(v128.pmin<f32>(v128.pmax<f32>(v1, low), one));
        if (l + 2 < labels) v2 = log4(v128.pmin<f32>(v128.pmax<f32>(v2, low), one));
        if (l + 3 < labels) v3 = log4(v128.pmin<f32>(v128.pmax<f32>(v3, low), one));
      } else {
        v0 = f32x4.neg(v0);
        if (l + 1 < labels) v1 = f32x4.neg(v1);
        if (l + 2 < labels) v2 = f32x4.neg(v2);
        if (l + 3 < labels) v3 = f32x4.neg(v3);
      }
      // 4 labels x 4 pixels -> 4 pixels x 4 labels
      const t0 = v128.shuffle<f32>(v0, v1, 0, 4, 1, 5);
      const t1 = v128.shuffle<f32>(v0, v1, 2, 6, 3, 7);
      const t2 = v128.shuffle<f32>(v2, v3, 0, 4, 1, 5);
      const t3 = v128.shuffle<f32>(v2, v3, 2, 6, 3, 7);
      const dst = negUnary + <usize>i * rowBytes + (<usize>l << 2);
      v128.store(dst, v128.shuffle<f32>(t0, t2, 0, 1, 4, 5));
      v128.store(dst + rowBytes, v128.shuffle<f32>(t0, t2, 2, 3, 6, 7));
      v128.store(dst + 2 * rowBytes, v128.shuffle<f32>(t1, t3, 0, 1, 4, 5));
      v128.store(dst + 3 * rowBytes, v128.shuffle<f32>(t1, t3, 2, 3, 6, 7));
    }
  }
  for (; i < end; i++) {
    const row = negUnary + <usize>i * rowBytes;
    for (let l = labels; l < <i32>(rowBytes >> 2); l++) store<f32>(row + (<usize>l << 2), -Infinity);
    for (let l = 0; l < labels; l++) {
      const value = load<f32>(source + <usize>l * planeBytes + (<usize>i << 2));
      if (value != value) nanInTail = true;
      const p = f32x4.extract_lane(log4(v128.pmin<f32>(v128.pmax<f32>(f32x4.splat(value), low), one)), 0);
      store<f32>(row + (<usize>l << 2), fromProbabilities ? p : -value);
    }
  }
  if (v128.any_true(nan) || nanInTail) atomic.store<i32>(ctx + (<usize>CTX_UNARY_NAN << 2), 1);
}

/**
 * Pixels in blocks (this thread's share first, nextShareItem): the first Q = softmax(-U) and, when `splat`, its
 * splat into this thread's buffers for the first iteration (else Q is stored).
 */
export function startShare(ctx: usize, thread: i32, splat: bool): void {
  const pixels = slot(ctx, CTX_PIXELS);
  const labels = slot(ctx, CTX_LABELS);
  const rowBytes = <usize>slot(ctx, CTX_STRIDE) << 2;
  const terms = slot(ctx, CTX_TERMS);
  const negUnary = <usize>slot(ctx, CTX_NEG_UNARY);
  const q = <usize>slot(ctx, CTX_Q);
  const invSum = <usize>slot(ctx, CTX_INV_SUM);
  const lastChunk = <usize>(labels - 1) >> 2 << 4;
  const row = <usize>slot(ctx, CTX_ROW_SCRATCH) + <usize>thread * 2 * rowBytes;
  if (splat) clearSplatBuffers(ctx, thread);
  const blocks = (pixels + PIXEL_BLOCK - 1) / PIXEL_BLOCK;
  for (let block = nextShareItem(ctx, thread, blocks); block >= 0; block = nextShareItem(ctx, thread, blocks)) {
    const first = block * PIXEL_BLOCK;
    const end = min<i32>(first + PIXEL_BLOCK, pixels);
    for (let p = first; p < end; p++) {
      // Q goes straight into the splat: only the last iteration stores it
      if (splat) splatPixel(ctx, thread, p, row, softmaxRow(negUnary + <usize>p * rowBytes, row, lastChunk), rowBytes, terms);
      else {
        const at = <usize>p * rowBytes;
        store<f32>(invSum + (<usize>p << 2), softmaxRow(negUnary + at, q + at, lastChunk));
      }
    }
  }
}

/**
 * Labels [4 g', 4 g' + 4 n) of pixel i (g the group's byte offset, n <= 6 vectors): `unary` plus compat x the slice of
 * every Potts term, summed in registers, into `acc`. Inlined with n = 6 for whole groups, which removes the guards.
 */
// @ts-ignore: decorator
@inline function slicePottsGroup(ctx: usize, i: i32, unary: usize, acc: usize, g: usize, rowBytes: usize, terms: i32, n: usize): void {
  let a0 = v128.load(unary);
  let a1 = n > 1 ? v128.load(unary, 16) : a0;
  let a2 = n > 2 ? v128.load(unary, 32) : a0;
  let a3 = n > 3 ? v128.load(unary, 48) : a0;
  let a4 = n > 4 ? v128.load(unary, 64) : a0;
  let a5 = n > 5 ? v128.load(unary, 80) : a0;
  for (let k = 0; k < terms; k++) {
    if (termSlot(ctx, k, TERM_MATRIX) != 0) continue;
    const d1Bytes = <usize>(termSlot(ctx, k, TERM_DIMS) + 1) << 2;
    const values = blurResult(ctx, k) + g;
    const rows = <usize>termSlot(ctx, k, TERM_OFFSETS) + <usize>i * d1Bytes;
    const weights = <usize>termSlot(ctx, k, TERM_SLICE_WEIGHTS) + <usize>i * d1Bytes;
    const compat = termFloat(ctx, k, TERM_COMPAT);
    for (let r: usize = 0; r < d1Bytes; r += 4) {
      const o = values + <usize>load<u32>(rows + r);
      const w = f32x4.splat(load<f32>(weights + r) * compat);
      a0 = f32x4.add(a0, f32x4.mul(w, v128.load(o)));
      if (n > 1) a1 = f32x4.add(a1, f32x4.mul(w, v128.load(o, 16)));
      if (n > 2) a2 = f32x4.add(a2, f32x4.mul(w, v128.load(o, 32)));
      if (n > 3) a3 = f32x4.add(a3, f32x4.mul(w, v128.load(o, 48)));
      if (n > 4) a4 = f32x4.add(a4, f32x4.mul(w, v128.load(o, 64)));
      if (n > 5) a5 = f32x4.add(a5, f32x4.mul(w, v128.load(o, 80)));
    }
  }
  v128.store(acc, a0);
  if (n > 1) v128.store(acc, a1, 16);
  if (n > 2) v128.store(acc, a2, 32);
  if (n > 3) v128.store(acc, a3, 48);
  if (n > 4) v128.store(acc, a4, 64);
  if (n > 5) v128.store(acc, a5, 80);
}

/**
 * Pixels in blocks (this thread's share first, nextShareItem): logits = -U + sum over terms of compat x (the term's
 * blurred values sliced with its slice weights), Potts (one weight) or a label compatibility matrix;
 * Q = softmax(logits) (unnormalised, see mean_field_context.ts); and, when `splat`, Q splatted into this thread's
 * buffers for the next iteration (else Q is stored). Potts terms are summed in registers, six 4-label vectors at a
 * time.
 */
export function sliceSoftmaxShare(ctx: usize, thread: i32, splat: bool): void {
  const pixels = slot(ctx, CTX_PIXELS);
  const labels = slot(ctx, CTX_LABELS);
  const rowBytes = <usize>slot(ctx, CTX_STRIDE) << 2;
  const terms = slot(ctx, CTX_TERMS);
  const negUnary = <usize>slot(ctx, CTX_NEG_UNARY);
  const q = <usize>slot(ctx, CTX_Q);
  const invSum = <usize>slot(ctx, CTX_INV_SUM);
  const acc = <usize>slot(ctx, CTX_ROW_SCRATCH) + <usize>thread * 2 * rowBytes;
  const filtered = acc + rowBytes;
  const lastChunk = <usize>(labels - 1) >> 2 << 4;
  const blocks = (pixels + PIXEL_BLOCK - 1) / PIXEL_BLOCK;
  for (let block = nextShareItem(ctx, thread, blocks); block >= 0; block = nextShareItem(ctx, thread, blocks)) {
    const first = block * PIXEL_BLOCK;
    const end = min<i32>(first + PIXEL_BLOCK, pixels);
    for (let i = first; i < end; i++) {
      const unary = negUnary + <usize>i * rowBytes;
      let g: usize = 0;
      for (; g + 96 <= rowBytes; g += 96) slicePottsGroup(ctx, i, unary + g, acc + g, g, rowBytes, terms, 6);
      if (g < rowBytes) slicePottsGroup(ctx, i, unary + g, acc + g, g, rowBytes, terms, (rowBytes - g) >> 4);
      for (let k = 0; k < terms; k++) {
        const matrix = <usize>termSlot(ctx, k, TERM_MATRIX);
        if (matrix == 0) continue;
        const d1Bytes = <usize>(termSlot(ctx, k, TERM_DIMS) + 1) << 2;
        const values = blurResult(ctx, k);
        const rows = <usize>termSlot(ctx, k, TERM_OFFSETS) + <usize>i * d1Bytes;
        const weights = <usize>termSlot(ctx, k, TERM_SLICE_WEIGHTS) + <usize>i * d1Bytes;
        for (let c: usize = 0; c < rowBytes; c += 16) {
          let a = f32x4.splat(0);
          for (let r: usize = 0; r < d1Bytes; r += 4) {
            const o = values + <usize>load<u32>(rows + r) + c;
            a = f32x4.add(a, f32x4.mul(f32x4.splat(load<f32>(weights + r)), v128.load(o)));
          }
          v128.store(filtered + c, a);
        }
        for (let a = 0; a < labels; a++) {
          let m: f32 = 0;
          const row = matrix + (<usize>(a * labels) << 2);
          for (let b = 0; b < labels; b++) m += load<f32>(row + (<usize>b << 2)) * load<f32>(filtered + (<usize>b << 2));
          store<f32>(acc + (<usize>a << 2), load<f32>(acc + (<usize>a << 2)) + m);
        }
      }
      // Q goes straight into the next splat: only the last iteration stores it
      if (splat) splatPixel(ctx, thread, i, filtered, softmaxRow(acc, filtered, lastChunk), rowBytes, terms);
      else store<f32>(invSum + (<usize>i << 2), softmaxRow(acc, q + <usize>i * rowBytes, lastChunk));
    }
  }
}

/**
 * Pixels in blocks (this thread's share first, nextShareItem): the normalised marginals into SOURCE (label-major
 * [labels x pixels]) and, when ARGMAX is set, each pixel's most probable label (the first one on ties, as numpy's
 * argmax).
 */
export function finishShare(ctx: usize, thread: i32): void {
  const pixels = slot(ctx, CTX_PIXELS);
  const blocks = (pixels + PIXEL_BLOCK - 1) / PIXEL_BLOCK;
  for (let block = nextShareItem(ctx, thread, blocks); block >= 0; block = nextShareItem(ctx, thread, blocks)) {
    const first = block * PIXEL_BLOCK;
    finishRange(ctx, first, min<i32>(first + PIXEL_BLOCK, pixels));
  }
}

/** Marginals and argmax of pixels [first, end); four pixels at a time, the rows are transposed in registers. */
function finishRange(ctx: usize, first: i32, end: i32): void {
  const pixels = slot(ctx, CTX_PIXELS);
  const labels = slot(ctx, CTX_LABELS);
  const rowBytes = <usize>slot(ctx, CTX_STRIDE) << 2;
  const out = <usize>slot(ctx, CTX_SOURCE);
  const q = <usize>slot(ctx, CTX_Q);
  const invSum = <usize>slot(ctx, CTX_INV_SUM);
  const argmax = <usize>slot(ctx, CTX_ARGMAX);
  const planeBytes = <usize>pixels << 2;
  let i = first;
  for (; i + 4 <= end; i += 4) {
    const scale = v128.load(invSum + (<usize>i << 2));
    let best = f32x4.splat(-1);
    let index = i32x4.splat(0);
    for (let l = 0; l < labels; l += 4) {
      const src = q + <usize>i * rowBytes + (<usize>l << 2);
      const r0 = v128.load(src);
      const r1 = v128.load(src + rowBytes);
      const r2 = v128.load(src + 2 * rowBytes);
      const r3 = v128.load(src + 3 * rowBytes);
      // 4 pixels x 4 labels -> 4 labels x 4 pixels
      const t0 = v128.shuffle<f32>(r0, r1, 0, 4, 1, 5);
      const t1 = v128.shuffle<f32>(r0, r1, 2, 6, 3, 7);
      const t2 = v128.shuffle<f32>(r2, r3, 0, 4, 1, 5);
      const t3 = v128.shuffle<f32>(r2, r3, 2, 6, 3, 7);
      const dst = out + <usize>l * planeBytes + (<usize>i << 2);
      for (let j = 0; j < 4 && l + j < labels; j++) {
        const column = j == 0 ? v128.shuffle<f32>(t0, t2, 0, 1, 4, 5)
          : j == 1 ? v128.shuffle<f32>(t0, t2, 2, 3, 6, 7)
          : j == 2 ? v128.shuffle<f32>(t1, t3, 0, 1, 4, 5)
          : v128.shuffle<f32>(t1, t3, 2, 3, 6, 7);
        const v = f32x4.mul(column, scale);
        v128.store(dst + <usize>j * planeBytes, v);
        const better = f32x4.gt(v, best);
        best = v128.bitselect(v, best, better);
        index = v128.bitselect(i32x4.splat(l + j), index, better);
      }
    }
    if (argmax != 0) {
      store<u8>(argmax + <usize>i, <u8>i32x4.extract_lane(index, 0));
      store<u8>(argmax + <usize>i + 1, <u8>i32x4.extract_lane(index, 1));
      store<u8>(argmax + <usize>i + 2, <u8>i32x4.extract_lane(index, 2));
      store<u8>(argmax + <usize>i + 3, <u8>i32x4.extract_lane(index, 3));
    }
  }
  for (; i < end; i++) {
    const row = q + <usize>i * rowBytes;
    const scale = load<f32>(invSum + (<usize>i << 2));
    let best: f32 = -1;
    let index = 0;
    for (let l = 0; l < labels; l++) {
      const v = load<f32>(row + (<usize>l << 2)) * scale;
      store<f32>(out + <usize>l * planeBytes + (<usize>i << 2), v);
      if (v > best) {
        best = v;
        index = l;
      }
    }
    if (argmax != 0) store<u8>(argmax + <usize>i, <u8>index);
  }
}
