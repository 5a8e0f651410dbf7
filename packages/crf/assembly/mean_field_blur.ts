// AssemblyScript: the blur phase of each mean-field iteration (see mean_field_context.ts).

import {
  CTX_STRIDE, CTX_TERMS, CTX_THREADS, TERM_BLURRED, TERM_BUFFER_BYTES, TERM_BUFFERS, TERM_DIMS, TERM_NEIGHBOURS, TERM_POINTS, TERM_SCRATCH,
} from './mean_field_context';
import { nextShareItem, slot, termSlot } from './context_access';

const POINT_BLOCK = 256;

/** Blocks of lattice points of term k. */
// @ts-ignore: decorator
@inline function pointBlocks(ctx: usize, k: i32): i32 {
  return (termSlot(ctx, k, TERM_POINTS) + POINT_BLOCK - 1) / POINT_BLOCK;
}

/**
 * Lattice points of every term blurred with [1/2, 1, 1/2] along `axis` (terms with fewer axes skip), in blocks of
 * points (this thread's share first). Axis 0 reads the sum of all threads' splat buffers, axis 1 clears them for the
 * next splat; the result alternates between scratch (even axes) and blurred (odd axes).
 */
export function blurShare(ctx: usize, axis: i32, thread: i32): void {
  const terms = slot(ctx, CTX_TERMS);
  let count = 0;
  for (let k = 0; k < terms; k++) if (axis <= termSlot(ctx, k, TERM_DIMS)) count += pointBlocks(ctx, k);
  for (let item = nextShareItem(ctx, thread, count); item >= 0; item = nextShareItem(ctx, thread, count)) {
    // item -> (term k, block) over the terms that have this axis
    let k = 0;
    let block = item;
    for (; k < terms; k++) {
      if (axis > termSlot(ctx, k, TERM_DIMS)) continue;
      if (block < pointBlocks(ctx, k)) break;
      block -= pointBlocks(ctx, k);
    }
    const first = block * POINT_BLOCK;
    blurPoints(ctx, k, axis, first, min<i32>(first + POINT_BLOCK, termSlot(ctx, k, TERM_POINTS)));
  }
}

/** Points [first, end) of term k blurred along `axis`. */
function blurPoints(ctx: usize, k: i32, axis: i32, first: i32, end: i32): void {
  const rowBytes = <usize>slot(ctx, CTX_STRIDE) << 2;
  const half = f32x4.splat(0.5);
  const nb = <usize>termSlot(ctx, k, TERM_NEIGHBOURS) + (<usize>(axis * termSlot(ctx, k, TERM_POINTS)) << 3);
  const to = <usize>termSlot(ctx, k, (axis & 1) == 0 ? TERM_SCRATCH : TERM_BLURRED);
  if (axis == 0) {
    const buffers = <usize>termSlot(ctx, k, TERM_BUFFERS);
    const bufferBytes = <usize>termSlot(ctx, k, TERM_BUFFER_BYTES);
    const last = buffers + <usize>(slot(ctx, CTX_THREADS) - 1) * bufferBytes;
    for (let p = first; p < end; p++) {
      const o = <usize>(p + 1) * rowBytes;
      const n1 = <usize>load<u32>(nb + (<usize>p << 3));
      const n2 = <usize>load<u32>(nb + (<usize>p << 3) + 4);
      for (let c: usize = 0; c < rowBytes; c += 16) {
        let centre = v128.load(buffers + o + c);
        let sum = f32x4.add(v128.load(buffers + n1 + c), v128.load(buffers + n2 + c));
        for (let from = buffers + bufferBytes; from <= last; from += bufferBytes) {
          centre = f32x4.add(centre, v128.load(from + o + c));
          sum = f32x4.add(sum, f32x4.add(v128.load(from + n1 + c), v128.load(from + n2 + c)));
        }
        v128.store(to + o + c, f32x4.add(centre, f32x4.mul(half, sum)));
      }
    }
  } else {
    const from = <usize>termSlot(ctx, k, (axis & 1) == 0 ? TERM_BLURRED : TERM_SCRATCH);
    for (let p = first; p < end; p++) {
      const o = <usize>(p + 1) * rowBytes;
      const n1 = <usize>load<u32>(nb + (<usize>p << 3));
      const n2 = <usize>load<u32>(nb + (<usize>p << 3) + 4);
      for (let c: usize = 0; c < rowBytes; c += 16) {
        const sum = f32x4.add(v128.load(from + n1 + c), v128.load(from + n2 + c));
        v128.store(to + o + c, f32x4.add(v128.load(from + o + c), f32x4.mul(half, sum)));
      }
    }
    // axis 0, the splat buffers' only reader, is done: their rows of these points start the next splat at 0
    if (axis == 1) {
      const bufferBytes = <usize>termSlot(ctx, k, TERM_BUFFER_BYTES);
      const rows = <usize>termSlot(ctx, k, TERM_BUFFERS) + <usize>(first + 1) * rowBytes;
      for (let t = 0; t < slot(ctx, CTX_THREADS); t++) memory.fill(rows + <usize>t * bufferBytes, 0, <usize>(end - first) * rowBytes);
    }
  }
}
