// AssemblyScript: the blur phase of each mean-field iteration (see mean_field_context.ts).

import {
  CTX_STRIDE, CTX_TERMS, TERM_BLURRED, TERM_BUFFER_BYTES, TERM_BUFFERS, TERM_DIMS, TERM_NEIGHBOURS, TERM_POINTS, TERM_SCRATCH,
} from './mean_field_context';
import { shareStart, slot, termSlot } from './context_access';

/**
 * This thread's lattice points of every term blurred with [1/2, 1, 1/2] along `axis` (terms with fewer axes skip).
 * Axis 0 reads the sum of all threads' splat buffers; the result alternates between scratch and blurred.
 */
export function blurShare(ctx: usize, axis: i32, thread: i32, threads: i32): void {
  const rowBytes = <usize>slot(ctx, CTX_STRIDE) << 2;
  const half = f32x4.splat(0.5);
  for (let k = 0; k < slot(ctx, CTX_TERMS); k++) {
    if (axis > termSlot(ctx, k, TERM_DIMS)) continue;
    const points = termSlot(ctx, k, TERM_POINTS);
    const nb = <usize>termSlot(ctx, k, TERM_NEIGHBOURS) + (<usize>(axis * points) << 3);
    const to = <usize>termSlot(ctx, k, (axis & 1) == 0 ? TERM_SCRATCH : TERM_BLURRED);
    const end = shareStart(points, thread + 1, threads);
    if (axis == 0) {
      const buffers = <usize>termSlot(ctx, k, TERM_BUFFERS);
      const bufferBytes = <usize>termSlot(ctx, k, TERM_BUFFER_BYTES);
      const last = buffers + <usize>(threads - 1) * bufferBytes;
      for (let p = shareStart(points, thread, threads); p < end; p++) {
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
      for (let p = shareStart(points, thread, threads); p < end; p++) {
        const o = <usize>(p + 1) * rowBytes;
        const n1 = <usize>load<u32>(nb + (<usize>p << 3));
        const n2 = <usize>load<u32>(nb + (<usize>p << 3) + 4);
        for (let c: usize = 0; c < rowBytes; c += 16) {
          const sum = f32x4.add(v128.load(from + n1 + c), v128.load(from + n2 + c));
          v128.store(to + o + c, f32x4.add(v128.load(from + o + c), f32x4.mul(half, sum)));
        }
      }
    }
  }
}

