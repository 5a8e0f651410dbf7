/**
 * Directory (with trailing separator) holding the `.wasm` binaries of the installed `@tensorflow/tfjs-backend-wasm`,
 * resolved from this package's own location so that it works under pnpm's strict layout. Node only; node modules
 * are imported lazily so that browser bundles of `@wsss/core` stay free of them.
 */
export async function nodeWasmDirectory(): Promise<string> {
  const { createRequire } = await import('node:module');
  const { dirname, join } = await import('node:path');
  const require = createRequire(import.meta.url);
  const pkg = require.resolve('@tensorflow/tfjs-backend-wasm/package.json');
  return join(dirname(pkg), 'dist') + '/';
}

/** True when running under Node.js (not a browser or a web worker). */
export function isNode(): boolean {
  return typeof process !== 'undefined' && typeof process.versions?.node === 'string';
}
