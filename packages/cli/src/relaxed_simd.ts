import { setFlagsFromString } from 'node:v8';

/**
 * Node 20 and 21 (V8 11.3 / 11.8) implement WebAssembly relaxed SIMD behind `--experimental-wasm-relaxed-simd`;
 * Node >= 22 has it on (and no longer knows the flag). A program (the `wsss` command, `pnpm demo`) calls this first,
 * before any WebAssembly module compiles, so that `@wsss/core`'s wasm kernels can run their fused multiply-add build
 * on Node 20 too. Returns whether it set the flag: not on other versions, and not when `WSSS_RELAXED_SIMD=0` (the
 * plain SIMD build, results that do not depend on the CPU). Libraries never call it: it changes the whole process.
 */
export function enableRelaxedSimdOnNode20(): boolean {
  const major = Number(process.versions.node.split('.')[0]);
  if ((major !== 20 && major !== 21) || process.env.WSSS_RELAXED_SIMD?.trim() === '0') return false;
  setFlagsFromString('--experimental-wasm-relaxed-simd');
  return true;
}
