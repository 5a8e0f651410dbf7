import type { tf } from '../../tf';

/**
 * tfjs-backend-wasm's own kernels that ours replace, kept process-wide: several copies of @wsss/core in one process
 * (its ESM and CJS builds, or a bundler that loads it twice) share one tfjs-core kernel registry, and each copy must
 * pass on to the backend's kernel, never to another copy's replacement (which would pass back: endless recursion).
 */
const ORIGINALS = Symbol.for('@wsss/core: original wasm kernels');
/** Marks the kernel functions of every copy's replacements. */
const REPLACEMENT = Symbol.for('@wsss/core: wasm kernel replacement');

type Store = Map<string, tf.KernelConfig | undefined>;

function store(): Store {
  const global = globalThis as unknown as Record<symbol, Store | undefined>;
  global[ORIGINALS] ??= new Map();
  return global[ORIGINALS];
}

/** Marks `kernelFunc` as one of our replacements (in whichever copy of @wsss/core defines it). */
export function markReplacement(kernelFunc: tf.KernelFunc): void {
  if (!isReplacement(kernelFunc)) Object.defineProperty(kernelFunc, REPLACEMENT, { value: true });
}

function isReplacement(kernelFunc: tf.KernelFunc | undefined): boolean {
  return kernelFunc !== undefined && (kernelFunc as unknown as Record<symbol, unknown>)[REPLACEMENT] === true;
}

/**
 * Records `current` as the backend's own kernel `kernelName` unless one was recorded already (by this or another
 * copy) or it is a replacement itself; returns the recorded original.
 */
export function rememberOriginalKernel(
  kernelName: string,
  current: tf.KernelConfig | undefined,
): tf.KernelConfig | undefined {
  const originals = store();
  if (!originals.has(kernelName)) {
    originals.set(kernelName, current && !isReplacement(current.kernelFunc) ? current : undefined);
  }
  return originals.get(kernelName);
}

/** tfjs-backend-wasm's own kernel `kernelName` (undefined when it had none), for the cases a replacement passes on. */
export function originalKernel(kernelName: string): tf.KernelFunc | undefined {
  return store().get(kernelName)?.kernelFunc;
}

/** Passes a replacement's kernel call on to tfjs-backend-wasm's own kernel `kernelName` (an error if it had none). */
export function runOriginalKernel(kernelName: string, args: unknown): tf.TensorInfo {
  const original = originalKernel(kernelName);
  if (!original) throw new Error(`${kernelName} (wasm): tfjs-backend-wasm's own kernel is missing`);
  return original(args as never) as tf.TensorInfo;
}
