import { tf } from '../tf';

/**
 * How an op with a fused WebAssembly pass runs: 'fused' (reads its inputs back, one pass on the CPU side), 'ops' (tf
 * ops on the tensors' device, nothing read back) or 'auto': fused on cpu and wasm, ops elsewhere (webgpu reads only
 * asynchronously, and a GPU backend would pay two copies).
 */
export type Implementation = 'auto' | 'fused' | 'ops';

/** Whether `implementation` means the fused pass on the active backend. */
export function usesFusedPass(implementation: Implementation = 'auto'): boolean {
  return (
    implementation === 'fused' || (implementation === 'auto' && ['cpu', 'wasm'].includes(tf.getBackend()))
  );
}
