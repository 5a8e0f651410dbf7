import { defineConfig, type Options } from 'tsup';

/**
 * The build every @wsss package shares: ESM + CJS + .d.ts, with import.meta/__dirname shims. Declarations carry
 * tfjs' chained-op typings (`t.reshape(...)`), which @wsss/core registers at run time, so that every package and
 * every user sees them.
 */
export function packageConfig(entry: Record<string, string>): ReturnType<typeof defineConfig> {
  const options: Options = {
    entry,
    format: ['esm', 'cjs'],
    dts: {
      // an import with the file's extension, not `/// <reference types>`: under node16/nodenext ESM resolution the
      // reference (a package subpath without extension, tfjs-core has no exports map) is not found (TS2688)
      banner: "import '@tensorflow/tfjs-core/dist/public/chained_ops/register_all_chained_ops.js';",
    },
    sourcemap: true,
    clean: true,
    shims: true,
    target: 'es2022',
  };
  return defineConfig(options);
}
