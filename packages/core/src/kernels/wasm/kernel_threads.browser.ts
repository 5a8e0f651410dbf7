/** Browser twin of kernel_threads.ts: our training kernels run on the calling thread. */
export interface KernelCall {
  fn: string;
  args: number[];
}

export class KernelThreads {
  get threads(): number {
    return 1;
  }

  static async start(
    _module: WebAssembly.Module,
    _memory: WebAssembly.Memory,
    _helpers: number,
  ): Promise<KernelThreads | undefined> {
    return undefined;
  }

  run(calls: KernelCall[], run: (call: KernelCall) => void): void {
    for (const call of calls) run(call);
  }
}
