/**
 * Loads an optional peer dependency at run time. The specifier is held in a variable so that neither TypeScript nor
 * a bundler tries to resolve packages the user has not installed. Tests replace the loader to simulate installs.
 */
export type ModuleLoader = (specifier: string) => Promise<unknown>;

const dynamicImport: ModuleLoader = (specifier) =>
  import(/* webpackIgnore: true */ /* @vite-ignore */ specifier);

let loader: ModuleLoader = dynamicImport;

/** Imports `specifier`, or resolves to `undefined` when it is not installed. Other load errors propagate. */
export async function importOptional(specifier: string): Promise<unknown | undefined> {
  try {
    return await loader(specifier);
  } catch (err) {
    if (isModuleNotFound(err, specifier)) return undefined;
    throw err;
  }
}

/**
 * How each environment says that a module is not there: Node's codes and messages (and bundlers' "Cannot find
 * module"), and a browser's refusal of a bare specifier no import map names: Chromium "Failed to resolve module
 * specifier", Firefox "was a bare specifier, but was not remapped", Safari "does not resolve to a valid URL".
 */
const NOT_FOUND = [
  /Cannot find (module|package)/,
  /Failed to resolve module specifier/,
  /bare specifier, but was not remapped/,
  /does not resolve to a valid URL/,
];

function isModuleNotFound(err: unknown, specifier: string): boolean {
  const e = err as { code?: string; message?: string };
  const message = String(e?.message ?? '');
  if (!message.includes(specifier)) return false;
  return (
    e?.code === 'ERR_MODULE_NOT_FOUND' ||
    e?.code === 'MODULE_NOT_FOUND' ||
    NOT_FOUND.some((p) => p.test(message))
  );
}

/** Test hook: replaces the module loader; returns a function that restores the previous one. */
export function setModuleLoaderForTesting(next: ModuleLoader): () => void {
  const previous = loader;
  loader = next;
  return () => {
    loader = previous;
  };
}
