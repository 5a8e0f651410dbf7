import { existsSync, rmSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Plugin } from 'esbuild';
import { defineConfig, type Options } from 'tsup';

/**
 * Swaps a relative import of `x.ts` for its first existing sibling among `x.<suffix>.ts`: `.browser.ts`, the browser
 * build's twin of a Node-only module (file I/O, sharp, worker threads), the way Azure's and other isomorphic SDKs
 * split theirs; `.build.ts`, what both builds use instead of a module that serves the sources (tests, tsx).
 */
function twins(suffixes: string[]): Plugin {
  return {
    name: 'twins',
    setup(build) {
      build.onResolve({ filter: /^\.\.?\// }, (args) => {
        if (/\.(browser|build)\.ts$/.test(args.importer)) return undefined;
        const base = resolve(args.resolveDir, args.path).replace(/\.(js|ts)$/, '');
        const twin = suffixes.map((suffix) => `${base}.${suffix}.ts`).find((f) => existsSync(f));
        return twin ? { path: twin } : undefined;
      });
    },
  };
}

/**
 * The build every @wsss package shares: ESM + CJS + .d.ts for Node, with import.meta/__dirname shims, and an ESM
 * build for browsers (`dist/browser/`, the `browser` export condition) in which every module with a `.browser.ts`
 * twin is replaced by it, so that no Node built-in is in its import graph; both use `.build.ts` twins. Declarations carry tfjs' chained-op
 * typings (`t.reshape(...)`), which @wsss/core registers at run time, so that every package and every user sees them.
 */
export function packageConfig(
  entry: Record<string, string>,
  /** The browser build's entries; null for a Node program (pipelines, cli). */
  browserEntry: Record<string, string> | null = { index: entry.index },
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
    esbuildPlugins: [twins(['build'])],
    // tfjs-core's gradient registry (ESM with extensionless imports, which Node cannot load) goes into the build
    noExternal: [/^@tensorflow\/tfjs-core\/dist\//],
  };
  const browser: Options = {
    entry: browserEntry ?? {},
    outDir: 'dist/browser',
    format: ['esm'],
    platform: 'browser',
    sourcemap: true,
    target: 'es2022',
    esbuildPlugins: [twins(['browser', 'build'])],
  };
  // cleaned once here: the two builds run at the same time, and tsup's own clean of one would race the other
  rmSync('dist', { recursive: true, force: true });
  return defineConfig(browserEntry ? [node, browser] : [node]);
}
