#!/usr/bin/env node
/**
 * Builds the demo page into dist/: src/main.ts bundled for the browser (the @wsss packages' browser builds: run
 * `pnpm build` at the repository root first), index.html, and tfjs-backend-wasm's binaries under dist/wasm/.
 *
 *   node build.mjs
 */
import { copyFileSync, mkdirSync, readdirSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const here = dirname(fileURLToPath(import.meta.url));

/** Builds the page into `outDir` (default dist/); returns the folder. */
export async function buildPage(outDir = join(here, 'dist')) {
  rmSync(outDir, { recursive: true, force: true });
  mkdirSync(join(outDir, 'wasm'), { recursive: true });
  await build({
    entryPoints: [join(here, 'src', 'main.ts')],
    bundle: true,
    platform: 'browser',
    format: 'esm',
    target: 'es2022',
    outfile: join(outDir, 'main.js'),
    sourcemap: true,
    // the repository's tsconfig maps @wsss/* to their sources; a user's page gets the packages' browser builds
    tsconfigRaw: '{}',
    logLevel: 'error',
  });
  copyFileSync(join(here, 'index.html'), join(outDir, 'index.html'));
  const require = createRequire(import.meta.url);
  const wasmDir = join(dirname(require.resolve('@tensorflow/tfjs-backend-wasm/package.json')), 'dist');
  for (const file of readdirSync(wasmDir).filter((f) => f.endsWith('.wasm')))
    copyFileSync(join(wasmDir, file), join(outDir, 'wasm', file));
  return outDir;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const out = await buildPage();
  console.log(`demo page built in ${out}; serve it with: node serve.mjs`);
}
