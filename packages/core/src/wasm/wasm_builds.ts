/** Decodes base64 (generated WebAssembly binaries) in Node and in browsers. */
export function decodeBase64(text: string): Uint8Array<ArrayBuffer> {
  if (typeof Buffer !== 'undefined') return new Uint8Array(Buffer.from(text, 'base64'));
  return Uint8Array.from(atob(text), (c) => c.charCodeAt(0));
}

/**
 * The builds of an AssemblyScript kernel module (scripts/build_wasm.mjs, base64): for a plain and for a shared
 * memory (worker threads), and optionally the same two compiled with relaxed SIMD (`--relaxed`: fused
 * multiply-adds), used instead where the engine validates them (Node >= 22, Chrome >= 114; Node 20 with
 * `--experimental-wasm-relaxed-simd`) unless {@link setRelaxedSimd}(false).
 */
export interface WasmBinaries {
  plain: string;
  shared?: string;
  relaxed?: { plain: string; shared?: string };
}

let relaxedAllowed = true;
const validated = new Map<string, boolean>();

/**
 * Whether modules made from now on use their relaxed-SIMD build where the engine has one (default true). Fused
 * multiply-adds round once instead of twice: results differ from the plain build in the last bits (up to ~6e-7
 * of an output's largest value measured, < 5e-6 tested), and with them across CPUs (a CPU without FMA computes a multiply and an add). False gives the
 * plain SIMD build everywhere. `selectBackend({ relaxedSimd })` and `WSSS_RELAXED_SIMD=0` set it.
 */
export function setRelaxedSimd(enabled: boolean): void {
  relaxedAllowed = enabled;
}

/** True when `source` (base64) is a module this engine compiles: tells whether it has relaxed SIMD. */
function engineValidates(source: string): boolean {
  let ok = validated.get(source);
  if (ok === undefined) {
    ok = typeof WebAssembly !== 'undefined' && WebAssembly.validate(decodeBase64(source));
    validated.set(source, ok);
  }
  return ok;
}

/**
 * The build of `binaries` for a shared or a plain memory: the relaxed-SIMD one when it exists, is allowed
 * ({@link setRelaxedSimd}) and this engine validates it; undefined when there is no build for a shared memory.
 */
export function wasmBuild(binaries: WasmBinaries, shared: boolean): string | undefined {
  const relaxed = shared ? binaries.relaxed?.shared : binaries.relaxed?.plain;
  if (relaxedAllowed && relaxed !== undefined && engineValidates(relaxed)) return relaxed;
  return shared ? binaries.shared : binaries.plain;
}

/** Whether {@link wasmBuild} picks the relaxed-SIMD build of `binaries` (for a plain memory) now. */
export function usesRelaxedSimd(binaries: WasmBinaries): boolean {
  return binaries.relaxed !== undefined && wasmBuild(binaries, false) === binaries.relaxed.plain;
}
