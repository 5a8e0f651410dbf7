import { existsSync, rmSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Plugin } from 'esbuild';
import { defineConfig, type Options } from 'tsup';

/**
 * Swaps a relative import of `x.ts` for its sibling `x.browser.ts` when there is one: the browser build's twin of a
 * Node-only module (file I/O, sharp, worker threads), the way Azure's and other isomorphic SDKs split theirs.
 */
const browserTwins: Plugin = {
  name: 'browser-twins',
  setup(build) {
    build.onResolve({ filter: /^\.\.?\// }, (args) => {
      const base = resolve(args.resolveDir, args.path).replace(/\.(js|ts)$/, '');
      const twin = `${base}.browser.ts`;
      if (!args.importer.endsWith('.browser.ts') && existsSync(twin)) return { path: twin };
      return undefined;
    });
  },
};

/**
 * The build every @wsss package shares: ESM + CJS + .d.ts for Node, with import.meta/__dirname shims, and an ESM
 * build for browsers (`dist/browser/`, the `browser` export condition) in which every module with a `.browser.ts`
 * twin is replaced by it, so that no Node built-in is in its import graph. Declarations carry tfjs' chained-op
 * typings (`t.reshape(...)`), which @wsss/core registers at run time, so that every package and every user sees them.
 */
export function packageConfig(
  entry: Record<string, string>,
  browserEntry: Record<string, string> = { index: entry.index },
): ReturnType<typeof defineConfig> {
  const node: Options = {
    entry,
    format: ['esm', 'cjs'],
    dts: {
      // an import with the file's extension, not `/// <reference types>`: under node16/nodenext ESM resolution the
      // reference (a package subpath without extension, tfjs-core has no exports map) is not found (TS2688)
      banner: "import '@tensorflow/tfjs-core/dist/public/chained_ops/register_all_chained_ops.js';",
    },
    sourcemap: true,
    shims: true,
    target: 'es2022',
  };
  const browser: Options = {
    entry: browserEntry,
    outDir: 'dist/browser',
    format: ['esm'],
    platform: 'browser',
    sourcemap: true,
    target: 'es2022',
    esbuildPlugins: [browserTwins],
  };
  // cleaned once here: the two builds run at the same time, and tsup's own clean of one would race the other
  rmSync('dist', { recursive: true, force: true });
  return defineConfig([node, browser]);
}
