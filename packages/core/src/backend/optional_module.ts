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

function isModuleNotFound(err: unknown, specifier: string): boolean {
  const e = err as { code?: string; message?: string };
  if (e?.code === 'ERR_MODULE_NOT_FOUND' || e?.code === 'MODULE_NOT_FOUND') {
    return String(e.message ?? '').includes(specifier);
  }
  return (
    /Cannot find (module|package)/.test(String(e?.message ?? '')) && String(e.message).includes(specifier)
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
