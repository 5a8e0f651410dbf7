// AssemblyScript: reading the slots of a dense-CRF context (mean_field_context.ts) and sharing work out by a queue.

import { CTX_SHARES, CTX_TERM_BASE, CTX_TERM_SLOTS, CTX_THREADS, CTX_WORK_QUEUE, TERM_BLURRED, TERM_DIMS, TERM_SCRATCH } from './mean_field_context';

// @ts-ignore: decorator
@inline export function slot(ctx: usize, index: i32): i32 {
  return load<i32>(ctx + (<usize>index << 2));
}

// @ts-ignore: decorator
@inline export function termSlot(ctx: usize, term: i32, index: i32): i32 {
  return load<i32>(ctx + (<usize>(CTX_TERM_BASE + term * CTX_TERM_SLOTS + index) << 2));
}

// @ts-ignore: decorator
@inline export function termFloat(ctx: usize, term: i32, index: i32): f32 {
  return load<f32>(ctx + (<usize>(CTX_TERM_BASE + term * CTX_TERM_SLOTS + index) << 2));
}

/** Where a term's blurred values end up: the blur alternates scratch (even axes) and blurred (odd axes). */
// @ts-ignore: decorator
@inline export function blurResult(ctx: usize, term: i32): usize {
  return <usize>termSlot(ctx, term, (termSlot(ctx, term, TERM_DIMS) & 1) == 0 ? TERM_SCRATCH : TERM_BLURRED);
}

/**
 * The next item of the current phase's work queue: threads take blocks of work until they run out, so a thread that
 * runs slower (another process on its core) takes fewer.
 */
// @ts-ignore: decorator
@inline export function nextItem(ctx: usize): i32 {
  return atomic.add<i32>(ctx + (<usize>CTX_WORK_QUEUE << 2), 1);
}

/**
 * The next of `count` items of the current step for `thread`, or -1 when all are taken. Thread t owns the contiguous
 * share [t count / T, (t + 1) count / T) and takes it from the front, so that it works on the same lattice points
 * and pixels at every step (their rows stay in its core's cache instead of moving between cores); then it takes
 * what is left of the other shares from their back, so a thread slowed by another process takes less. A share's
 * counter is one i64 (items taken from the front in the low half, from the back in the high half): an item is
 * taken when front + back was below the share's size, so each goes exactly once. Every barrier resets the counters.
 */
export function nextShareItem(ctx: usize, thread: i32, count: i32): i32 {
  const threads = slot(ctx, CTX_THREADS);
  const shares = <usize>slot(ctx, CTX_SHARES);
  for (let v = 0; v < threads; v++) {
    const owner = (thread + v) % threads;
    const first = <i32>(<i64>count * owner / threads);
    const size = <i32>(<i64>count * (owner + 1) / threads) - first;
    const old = atomic.add<i64>(shares + (<usize>owner << 6), v == 0 ? 1 : <i64>1 << 32);
    const front = <i32>(old & 0xffffffff);
    const back = <i32>(old >>> 32);
    if (front + back < size) return v == 0 ? first + front : first + size - 1 - back;
  }
  return -1;
}

/** Pixels per item of the pixel phases (a multiple of 4). */
export const PIXEL_BLOCK: i32 = 512;
