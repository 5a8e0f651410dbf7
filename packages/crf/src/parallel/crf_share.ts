/** The exports of the lattice kernels that one thread's share of a dense-CRF phase calls. */
export interface CrfShareKernels {
  buildShare(context: number, thread: number, threads: number): void;
  buildTerm(context: number, term: number): void;
  startShare(context: number, thread: number, splat: boolean): void;
  blurShare(context: number, axis: number, threads: number): void;
  sliceSoftmaxShare(context: number, thread: number, splat: boolean): void;
  finishShare(context: number): void;
  barrier(context: number, threads: number): void;
}

/** A phase of dense-CRF inference that all threads run together (see assembly/mean_field.ts). */
export type CrfPhase = 'build' | 'infer';

/**
 * One thread's part of a phase on the context at `context`. 'build': items of a shared queue (each term's lattice,
 * neighbours and weights; -U in pixel blocks). 'infer': Q = softmax(-U) and its splat for its pixels; per iteration
 * the blur (its lattice points, axis by axis) and slice + softmax + the next splat (its pixels); the marginals and
 * argmax of its pixels.
 * Every step ends at a barrier, so when thread 0 returns, all results are in memory. Self-contained: worker threads
 * receive this function as source text.
 */
export function crfShare(
  kernels: CrfShareKernels,
  context: number,
  phase: CrfPhase,
  thread: number,
  threads: number,
  iterations: number,
  axes: number,
): void {
  if (phase === 'build') {
    kernels.buildShare(context, thread, threads);
    return;
  }
  kernels.startShare(context, thread, iterations > 0);
  kernels.barrier(context, threads);
  for (let it = 0; it < iterations; it++) {
    for (let axis = 0; axis < axes; axis++) {
      kernels.blurShare(context, axis, threads);
      kernels.barrier(context, threads);
    }
    kernels.sliceSoftmaxShare(context, thread, it + 1 < iterations);
    kernels.barrier(context, threads);
  }
  kernels.finishShare(context);
  kernels.barrier(context, threads);
}
