#!/usr/bin/env node
/**
 * The packages as a user installs them: `pnpm pack` every library package, install the tarballs into a fresh npm
 * project outside the workspace, and there run an ESM and a CommonJS smoke test (package_smoke/), both builds of
 * @wsss/core in one process, and type-check consumers under TypeScript node16 (ESM and CJS), nodenext and bundler
 * resolution; bundle each library package for the browser (esbuild, platform browser, nothing external) and run a
 * browser bundle. Checks that each tarball holds its LICENSE, README and its builds. Needs `pnpm build` first.
 *
 *   node scripts/package_smoke.mjs [--keep]      (--keep leaves the temporary project for a look)
 */
import { execFileSync } from 'node:child_process';
import {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const LIBRARIES = [
  'core',
  'datasets',
  'models',
  'cam',
  'crf',
  'affinity',
  'label-reassign',
  'pipelines',
  'cli',
];
/** The packages with a browser build (the `browser` export condition); pipelines and cli are Node programs. */
const BROWSER = ['core', 'datasets', 'models', 'cam', 'crf', 'affinity', 'label-reassign'];
const REQUIRED_FILES = [
  'LICENSE',
  'README.md',
  'dist/index.js',
  'dist/index.cjs',
  'dist/index.d.ts',
  'dist/index.d.cts',
];
const keep = process.argv.includes('--keep');
const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
const pnpm = process.platform === 'win32' ? 'pnpm.cmd' : 'pnpm';

const run = (command, args, cwd) =>
  execFileSync(command, args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
const step = (name, fn) => {
  const start = Date.now();
  try {
    const out = fn();
    console.log(
      `ok   ${name} (${((Date.now() - start) / 1000).toFixed(1)} s)${out ? `: ${out.trim().split('\n').pop()}` : ''}`,
    );
  } catch (err) {
    console.error(
      `FAIL ${name}\n${err.stdout ?? ''}${err.stderr ?? ''}${err.stdout || err.stderr ? '' : err.stack}`,
    );
    process.exitCode = 1;
  }
};

for (const name of LIBRARIES) {
  if (!existsSync(join(root, 'packages', name, 'dist', 'index.js'))) {
    console.error(`package_smoke: packages/${name}/dist is missing; run pnpm build first`);
    process.exit(2);
  }
}
const work = mkdtempSync(join(tmpdir(), 'wsss-package-smoke-'));
const packs = join(work, 'packs');
const project = join(work, 'project');
mkdirSync(packs);
mkdirSync(project);
console.log(`package_smoke: packing into ${packs}, consumer project ${project}`);

const tarballs = [];
for (const name of LIBRARIES) {
  step(`pack @wsss/${name}`, () => {
    const before = new Set(readdirSync(packs));
    run(pnpm, ['pack', '--pack-destination', packs], join(root, 'packages', name));
    const tarball = readdirSync(packs).find((f) => !before.has(f));
    tarballs.push(join(packs, tarball));
    const listing = run('tar', ['tzf', join(packs, tarball)])
      .split('\n')
      .map((f) => f.replace(/^package\//, ''));
    const required = [
      ...REQUIRED_FILES,
      ...(BROWSER.includes(name) ? ['dist/browser/index.js'] : []),
      ...(name === 'models' ? ['scripts/torch_to_manifest.py'] : []),
    ];
    const missing = required.filter((f) => !listing.includes(f));
    if (missing.length) throw new Error(`${tarball} lacks ${missing.join(', ')}`);
    return `${tarball} holds ${required.join(', ')}`;
  });
}

const rootPackage = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
writeFileSync(
  join(project, 'package.json'),
  JSON.stringify({ name: 'wsss-package-smoke', private: true }, null, 2),
);
cpSync(join(root, 'scripts', 'package_smoke'), project, { recursive: true });
step('npm install the tarballs in a fresh project', () =>
  run(
    npm,
    [
      'install',
      '--no-audit',
      '--no-fund',
      ...tarballs,
      `typescript@${rootPackage.devDependencies.typescript}`,
      `@types/node@${rootPackage.devDependencies['@types/node']}`,
      `esbuild@${rootPackage.devDependencies.esbuild}`,
    ],
    project,
  ),
);
step('ESM: import every package and run it', () => run(process.execPath, ['esm.mjs'], project));
step('CJS: require every package and run it', () => run(process.execPath, ['cjs.cjs'], project));
step('ESM + CJS builds in one process', () => run(process.execPath, ['both_builds.mjs'], project));
step('the wsss binary: wsss pipelines', () =>
  run(
    process.execPath,
    [join(project, 'node_modules', '@wsss', 'cli', 'dist', 'bin.js'), 'pipelines'],
    project,
  ),
);
for (const pipeline of ['baseline', 'rrm-aa-lr']) {
  // rrm-aa-lr's CRFs run on a worker thread that loads the installed @wsss/crf
  step(`wsss run ${pipeline} --preset smoke in the fresh project`, () =>
    run(
      process.execPath,
      [
        join(project, 'node_modules', '@wsss', 'cli', 'dist', 'bin.js'),
        'run',
        pipeline,
        '--preset',
        'smoke',
        '--backend',
        'wasm',
      ],
      project,
    ),
  );
}

// the browser builds: every package bundles with nothing external and no Node built-in in its graph
const esbuild = join(project, 'node_modules', 'esbuild', 'bin', 'esbuild');
for (const name of BROWSER) {
  step(`browser bundle of @wsss/${name} (esbuild --platform=browser, no externals)`, () => {
    const entry = `browser_${name}.mjs`;
    writeFileSync(join(project, entry), `import * as m from '@wsss/${name}';\nglobalThis.wsss = m;\n`);
    const out = join(project, 'bundles', `${name}.js`);
    const meta = join(project, 'bundles', `${name}.meta.json`);
    run(
      esbuild,
      [
        entry,
        '--bundle',
        '--platform=browser',
        '--format=esm',
        `--outfile=${out}`,
        `--metafile=${meta}`,
        '--log-level=error',
      ],
      project,
    );
    const code = readFileSync(out, 'utf8');
    // a Node built-in in the graph fails the build above; the modules in it: none of the tfjs union's other parts
    // (Layers, WebGL, the converter, tf.data) and no sharp
    const inputs = Object.keys(JSON.parse(readFileSync(meta, 'utf8')).inputs);
    const unwanted =
      /node_modules\/(@tensorflow\/(tfjs|tfjs-layers|tfjs-backend-webgl|tfjs-converter|tfjs-data)|sharp|detect-libc)\//;
    const leaked = [...new Set(inputs.filter((f) => unwanted.test(f)).map((f) => f.match(unwanted)[1]))];
    if (leaked.length) throw new Error(`the bundle holds ${leaked.join(', ')}`);
    return `${(code.length / 1e6).toFixed(2)} MB`;
  });
}
// the bench harness a page runs (@wsss/cli/bench) bundles for the browser too, though @wsss/cli is a Node program
step('browser bundle of @wsss/cli/bench', () => {
  writeFileSync(
    join(project, 'browser_bench.mjs'),
    "import { BENCH_CASES } from '@wsss/cli/bench';\nglobalThis.cases = BENCH_CASES;\n",
  );
  const out = join(project, 'bundles', 'cli-bench.js');
  run(
    esbuild,
    [
      'browser_bench.mjs',
      '--bundle',
      '--platform=browser',
      '--format=esm',
      `--outfile=${out}`,
      '--log-level=error',
    ],
    project,
  );
  return `${(readFileSync(out, 'utf8').length / 1e6).toFixed(2)} MB`;
});
// the browser build's code runs: a dense CRF, CAM labels, a gradient through the bundle, in Node made to look like a
// page to tfjs-core (no `process`, a `window` with a `document`); the demo page's test runs it in Chromium
step('run a browser bundle: gradient, dense CRF, CAM labels, LR loss on cpu', () => {
  const out = join(project, 'bundles', 'browser_run.mjs');
  const pageLike = 'delete globalThis.process; globalThis.window = globalThis; globalThis.document = {};';
  run(
    esbuild,
    [
      'browser_run.mjs',
      '--bundle',
      '--platform=browser',
      '--format=esm',
      `--outfile=${out}`,
      `--banner:js=${pageLike}`,
      '--log-level=error',
    ],
    project,
  );
  return run(process.execPath, [out], project);
});

const tsc = join(project, 'node_modules', 'typescript', 'bin', 'tsc');
const configs = [
  ['node16', 'node16', 'types.mts'],
  ['node16', 'node16', 'types.cts'],
  ['nodenext', 'nodenext', 'types.mts'],
  ['esnext', 'bundler', 'types.mts'],
];
for (const [module, resolution, file] of configs) {
  for (const skipLibCheck of [false, true]) {
    // one file per program: a CJS file in the same program would load the chained-op typings for the ESM one
    const config = `tsconfig.${resolution}.${file}.${skipLibCheck ? 'skip' : 'full'}.json`;
    const compilerOptions = {
      module,
      moduleResolution: resolution,
      target: 'es2022',
      strict: true,
      noEmit: true,
      skipLibCheck,
    };
    writeFileSync(join(project, config), JSON.stringify({ compilerOptions, files: [file] }, null, 2));
    step(`TypeScript ${resolution} ${file}${skipLibCheck ? ' (skipLibCheck)' : ''}`, () =>
      run(process.execPath, [tsc, '-p', config], project),
    );
  }
}

if (keep || process.exitCode) console.log(`package_smoke: left ${work}`);
else rmSync(work, { recursive: true, force: true });
console.log(process.exitCode ? 'package_smoke: FAILED' : 'package_smoke: every check passed');
