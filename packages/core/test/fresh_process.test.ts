import { execFileSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '../../..');

/** Runs test/processes/<script> in a fresh Node process (TypeScript through tsx) and parses its last line. */
function runFresh(script: string): Record<string, unknown> {
  try {
    const out = execFileSync(
      process.execPath,
      [join(root, 'node_modules/tsx/dist/cli.mjs'), join(here, 'processes', script)],
      { cwd: root, encoding: 'utf8', timeout: 120000, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    return JSON.parse(out.trim().split('\n').pop() ?? '{}');
  } catch (err) {
    // the error's stderr can hold a whole minified wasm loader: keep the lines that say what failed
    const stderr = String((err as { stderr?: string }).stderr ?? '');
    const lines = stderr.split('\n').filter((l) => /Error|error:/.test(l) && l.length < 500);
    throw new Error(`${script} failed (exit ${(err as { status?: number }).status}): ${lines.join(' | ')}`);
  }
}

describe('@wsss/core in a fresh process', () => {
  it('runs a tf op on cpu before selectBackend(), which then starts wasm', () => {
    // before the fix: "backend 'wasm' has not yet been initialized" and exit code 7
    expect(runFresh('op_before_select_backend.ts')).toEqual({
      first: 5,
      before: 'cpu',
      name: 'wasm',
      backend: 'wasm',
      after: 5,
    });
  });

  it('works with two copies loaded (ESM and CommonJS): strided Slice and small BatchMatMul on wasm', () => {
    // before the fix: each copy recorded the other's replacement as the original, "Maximum call stack size exceeded"
    const result = runFresh('two_core_copies.ts');
    expect(result.copies).toBe(true);
    expect(result.backend).toBe('wasm');
    expect(result.strided).toEqual([1, 2, 5, 6, 13, 14, 17, 18]);
    expect(result.product).toEqual([6, 6, 22, 22, 38, 38, 54, 54, 70, 70, 86, 86]);
  });
});
