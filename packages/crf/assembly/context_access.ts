// AssemblyScript: reading the slots of a dense-CRF context (mean_field_context.ts) and sharing work out by a queue.

import { CTX_TERM_BASE, CTX_TERM_SLOTS, CTX_WORK_QUEUE, TERM_BLURRED, TERM_DIMS, TERM_SCRATCH } from './mean_field_context';

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

/** Pixels per item of the pixel phases (a multiple of 4). */
export const PIXEL_BLOCK: i32 = 512;
