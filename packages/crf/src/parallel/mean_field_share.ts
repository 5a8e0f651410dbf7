/** The exports of the lattice kernels that one thread's share of mean field calls. */
export interface MeanFieldKernels {
  filterShare(context: number, term: number, thread: number, threads: number): void;
  softmaxShare(context: number, thread: number, threads: number, messages: boolean): void;
  barrier(context: number, threads: number): void;
}

/**
 * One thread's part of mean-field inference on the context at `context`: Q = softmax(-U), then per iteration its
 * labels through every term, barrier, softmax of its pixels, barrier. Self-contained: worker threads receive this
 * function as source text.
 */
export function meanFieldShare(
  kernels: MeanFieldKernels,
  context: number,
  thread: number,
  threads: number,
  iterations: number,
  terms: number,
): void {
  kernels.softmaxShare(context, thread, threads, false);
  kernels.barrier(context, threads);
  for (let it = 0; it < iterations; it++) {
    for (let term = 0; term < terms; term++) kernels.filterShare(context, term, thread, threads);
    kernels.barrier(context, threads);
    kernels.softmaxShare(context, thread, threads, true);
    kernels.barrier(context, threads);
  }
}
