/**
 * Every ```ts block of every package README runs as written, in a fresh process (TypeScript through tsx, @wsss/*
 * resolved to the sources by the root tsconfig's paths) and its own working directory. A block that needs files
 * from the shared data folder says so in a comment right above it,
 * `<!-- example needs: data/voc2012/VOC2012 as VOC2012 -->`: the file or folder is linked into its working directory
 * under the second name, and the block is skipped with a message where the shared folder lacks it.
 */
import { execFileSync } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { sharedDataRoot } from '@wsss/core/testing';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const workRoot = join(root, '.readme-examples');

interface Example {
  name: string;
  code: string;
  needs: { from: string; as: string }[];
}

function readmeExamples(readme: string, packageName: string): Example[] {
  const lines = readFileSync(readme, 'utf8').split('\n');
  const examples: Example[] = [];
  for (let i = 0; i < lines.length; i++) {
    if (lines[i].trim() !== '```ts') continue;
    const end = lines.indexOf('```', i + 1);
    const marker = lines[i - 1]?.match(/^<!-- example needs: (.+) -->$/);
    const needs = (marker?.[1] ?? '')
      .split(',')
      .filter((s) => s.trim())
      .map((s) => {
        const [from, as] = s.trim().split(/\s+as\s+/);
        return { from, as: as ?? from.split('/').pop() ?? from };
      });
    examples.push({
      name: `${packageName} README block ${examples.length + 1} (line ${i + 1})`,
      code: lines.slice(i + 1, end).join('\n'),
      needs,
    });
    i = end;
  }
  return examples;
}

const examples = readdirSync(join(root, 'packages'))
  .filter((name) => existsSync(join(root, 'packages', name, 'README.md')))
  .flatMap((name) => readmeExamples(join(root, 'packages', name, 'README.md'), name));
const shared = sharedDataRoot();

describe('package README examples', () => {
  it('finds an example in every package README', () => {
    const packages = readdirSync(join(root, 'packages')).filter((n) =>
      existsSync(join(root, 'packages', n, 'README.md')),
    );
    for (const name of packages) expect(examples.some((e) => e.name.startsWith(`${name} `))).toBe(true);
  });

  it('type-checks every example (strict, against the sources)', () => {
    const dir = join(workRoot, 'typecheck');
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(dir, { recursive: true });
    const files = examples.map((example, i) => {
      const file = `example_${i}.mts`;
      writeFileSync(join(dir, file), `${example.code}\nexport {};\n`);
      return file;
    });
    const config = { extends: '../../tsconfig.json', compilerOptions: { noEmit: true }, include: [], files };
    writeFileSync(join(dir, 'tsconfig.json'), JSON.stringify(config));
    try {
      execFileSync(process.execPath, [join(root, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.json'], {
        cwd: dir,
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'pipe'],
      });
    } catch (err) {
      const out = String((err as { stdout?: string }).stdout ?? '');
      const named = out.replace(/example_(\d+)\.mts/g, (_, i) => examples[Number(i)].name);
      throw new Error(`README examples do not type-check:\n${named}`);
    }
    rmSync(dir, { recursive: true, force: true });
  }, 200000);

  it.each(examples.map((e) => [e.name, e] as const))(
    '%s runs as written',
    (_name, example) => {
      const missing = example.needs.filter((n) => !shared || !existsSync(join(shared, n.from)));
      if (missing.length) {
        console.warn(
          `skipped ${example.name}: needs ${missing.map((n) => n.from).join(', ')} from the shared data folder`,
        );
        return;
      }
      const dir = join(workRoot, example.name.replace(/[^a-z0-9-]+/gi, '_'));
      rmSync(dir, { recursive: true, force: true });
      mkdirSync(dir, { recursive: true });
      for (const need of example.needs) symlinkSync(join(shared ?? '', need.from), join(dir, need.as));
      writeFileSync(join(dir, 'example.mts'), example.code);
      try {
        execFileSync(process.execPath, [join(root, 'node_modules/tsx/dist/cli.mjs'), 'example.mts'], {
          cwd: dir,
          env: { ...process.env, TSX_TSCONFIG_PATH: join(root, 'tsconfig.json') },
          encoding: 'utf8',
          stdio: ['ignore', 'pipe', 'pipe'],
          timeout: 180000,
        });
      } catch (err) {
        const { stdout = '', stderr = '' } = err as { stdout?: string; stderr?: string };
        const tail = `${stdout}\n${stderr}`
          .split('\n')
          .filter((l) => l.length < 400)
          .slice(-25)
          .join('\n');
        throw new Error(`${example.name} failed:\n${tail}`);
      }
      rmSync(dir, { recursive: true, force: true });
    },
    200000,
  );
});
