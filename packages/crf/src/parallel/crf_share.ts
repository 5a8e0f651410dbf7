/** The exports of the lattice kernels that one thread's share of a dense-CRF phase calls. */
export interface CrfShareKernels {
  buildShare(context: number): void;
  buildTerm(context: number, term: number): void;
  startShare(context: number, thread: number, splat: boolean): void;
  blurShare(context: number, axis: number, thread: number): void;
  sliceSoftmaxShare(context: number, thread: number, splat: boolean): void;
  finishShare(context: number, thread: number): void;
  /** Context slot holding the barrier's address (a WebAssembly.Global). */
  CTX_BARRIER: { value: number };
  /** Context slot of the work queue. */
  CTX_WORK_QUEUE: { value: number };
  /** Context slot holding the address of the threads' share counters. */
  CTX_SHARES: { value: number };
}

/** A phase of dense-CRF inference that all threads run together (see assembly/mean_field_context.ts). */
export type CrfPhase = 'build' | 'infer';

/**
 * One thread's part of a phase on the context at `context` in `memory`. 'build': items of a shared queue (each term's
 * lattice, neighbours and weights; -U in pixel blocks). 'infer': Q = softmax(-U) and its splat; per iteration the blur
 * axis by axis and slice + softmax + the next splat; the marginals and argmax. Work is taken from the queue in blocks.
 * Every step ends at {@link crfBarrier}, so when thread 0 returns, all results are in memory. Self-contained (no
 * closures, no imports): worker threads receive this function and crfBarrier as source text.
 */
export function crfShare(
  kernels: CrfShareKernels,
  memory: WebAssembly.Memory,
  context: number,
  phase: CrfPhase,
  thread: number,
  threads: number,
  iterations: number,
  axes: number,
): void {
  const slots = new Int32Array(memory.buffer);
  const queue = context / 4 + kernels.CTX_WORK_QUEUE.value;
  const shares = slots[context / 4 + kernels.CTX_SHARES.value] / 4;
  const count = slots[context / 4 + kernels.CTX_BARRIER.value] / 4;
  if (phase === 'build') {
    kernels.buildShare(context);
    crfBarrier(slots, count, queue, shares, threads);
    return;
  }
  kernels.startShare(context, thread, iterations > 0);
  crfBarrier(slots, count, queue, shares, threads);
  for (let it = 0; it < iterations; it++) {
    for (let axis = 0; axis < axes; axis++) {
      kernels.blurShare(context, axis, thread);
      crfBarrier(slots, count, queue, shares, threads);
    }
    kernels.sliceSoftmaxShare(context, thread, it + 1 < iterations);
    crfBarrier(slots, count, queue, shares, threads);
  }
  kernels.finishShare(context, thread);
  crfBarrier(slots, count, queue, shares, threads);
}

/**
 * All `threads` threads meet here: a generation barrier on slots[count] (arrivals) and slots[count + 1]
 * (generation), spinning briefly, then sleeping. The last thread to arrive resets the work queue at slots[queue]
 * and the share counters (two i32s every 16 from slots[shares]) for the next step. 30 s without the others (a
 * thread died) throws instead of hanging.
 */
export function crfBarrier(
  slots: Int32Array,
  count: number,
  queue: number,
  shares: number,
  threads: number,
): void {
  if (threads < 2) {
    slots[queue] = 0;
    slots[shares] = 0;
    slots[shares + 1] = 0;
    return;
  }
  const generation = count + 1;
  const current = Atomics.load(slots, generation);
  if (Atomics.add(slots, count, 1) === threads - 1) {
    Atomics.store(slots, queue, 0);
    for (let t = 0; t < threads; t++) {
      Atomics.store(slots, shares + 16 * t, 0);
      Atomics.store(slots, shares + 16 * t + 1, 0);
    }
    Atomics.store(slots, count, 0);
    Atomics.add(slots, generation, 1);
    Atomics.notify(slots, generation);
    return;
  }
  for (let spin = 0; spin < 20000; spin++) if (Atomics.load(slots, generation) !== current) return;
  const deadline = Date.now() + 30000;
  while (Atomics.load(slots, generation) === current) {
    if (Date.now() > deadline) throw new Error('a thread waited 30 s for the others at a barrier');
    Atomics.wait(slots, generation, current, 100);
  }
}
