import { defineConfig, type Options } from 'tsup';

/** The build every @wsss package shares: ESM + CJS + .d.ts, with import.meta/__dirname shims. */
export function packageConfig(entry: Record<string, string>): ReturnType<typeof defineConfig> {
  const options: Options = {
    entry,
    format: ['esm', 'cjs'],
    dts: true,
    sourcemap: true,
    clean: true,
    shims: true,
    target: 'es2022',
  };
  return defineConfig(options);
}
