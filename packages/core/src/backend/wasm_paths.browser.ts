/** Browser twin of wasm_paths.ts: a page serves the `.wasm` binaries itself (`selectBackend({ wasmPaths })`). */
export async function nodeWasmDirectory(): Promise<string> {
  throw new Error('nodeWasmDirectory: only under Node.js; in a browser pass selectBackend({ wasmPaths })');
}

/** True when running under Node.js: never in the browser build. */
export function isNode(): boolean {
  return false;
}
