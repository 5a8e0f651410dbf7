import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import {
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
import { readLabelPng, selectBackend, writeLabelPng, writePng } from '@wsss/core';
import { sharedPath } from '@wsss/core/testing';
import type { RunReport } from '@wsss/pipelines';
import { wsss } from './wsss';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '../../..');

describe('wsss', () => {
  afterAll(() => selectBackend({ preference: 'cpu', log: null }));

  it('prints help for every command and refuses unknown commands and options with exit code 2', async () => {
    expect((await wsss('--help')).stdout).toMatch(/usage: wsss <command>/);
    for (const command of [
      'run',
      'resume',
      'merge',
      'infer',
      'cam',
      'crf',
      'eval',
      'datasets',
      'pipelines',
      'bench',
    ]) {
      const { code, stdout } = await wsss(command, '--help');
      expect(code).toBe(0);
      expect(stdout).toMatch(new RegExp(`usage: wsss ${command}`));
    }
    expect(await wsss('train')).toMatchObject({
      code: 2,
      stderr: expect.stringMatching(/unknown command 'train'/),
    });
    expect(await wsss('run', 'baseline', '--bogus')).toMatchObject({
      code: 2,
      stderr: expect.stringMatching(/Unknown option '--bogus'/),
    });
    expect((await wsss('pipelines')).stdout).toMatch(/^baseline +classifier -> CAM seeds/);
  });

  it('names bad input in one line with exit code 1 and writes nothing', async () => {
    const out = mkdtempSync(join(tmpdir(), 'wsss-cli-'));
    const cases: [string[], RegExp][] = [
      [
        ['run', 'nope', '--out', out],
        /^wsss: unknown pipeline 'nope'; known: baseline, rrm-aa-lr, ial, auxsegnet\n$/,
      ],
      [
        ['run', 'baseline', '--preset', 'fast', '--out', out],
        /^wsss: unknown preset 'fast'; expected one of smoke, quick, paper\n$/,
      ],
      [['run', 'baseline', '--set', 'classifier.stepz=1', '--out', out], /unknown key 'classifier.stepz'/],
      [
        ['run', 'baseline', '--dataset', 'voc', '--data-root', join(out, 'missing'), '--out', out],
        /--data-root: .*missing does not exist/,
      ],
      [
        ['run', 'baseline', '--config', join(out, 'none.json'), '--out', out],
        /--config: .*none.json does not exist/,
      ],
      [['resume', join(out, 'nothing')], /is not a run folder \(no run.json\)/],
      [['eval', '--pred', out], /--pred <dir> and --gt <dir> are required/],
    ];
    for (const [args, message] of cases) {
      const { code, stderr } = await wsss(...args);
      expect(code).toBe(1);
      expect(stderr).toMatch(message);
      expect(stderr.trim().split('\n')).toHaveLength(1);
    }
    expect(existsSync(join(out, 'baseline-quick'))).toBe(false);
    rmSync(out, { recursive: true, force: true });
  });

  it('reads config files in JSON and YAML, and names their errors', async () => {
    const out = mkdtempSync(join(tmpdir(), 'wsss-config-'));
    writeFileSync(join(out, 'c.yaml'), 'classifier:\n  steps: 3\ncams:\n  scales: [1]\n  sweep: [0.3]\n');
    writeFileSync(
      join(out, 'c.json'),
      '{"classifier": {"steps": 3}, "cams": {"scales": [1], "sweep": [0.3]}}',
    );
    for (const file of ['c.yaml', 'c.json']) {
      const args = [
        'run',
        'baseline',
        '--preset',
        'smoke',
        '--config',
        join(out, file),
        '--out',
        out,
        '--name',
        `run-${file}`,
        '--until',
        'cams',
      ];
      const result = await wsss(...args, '--backend', 'wasm');
      expect(result.stderr.split('\n').filter((l) => l.startsWith('wsss:'))).toEqual([]);
      expect(result.code).toBe(0);
      const record = JSON.parse(readFileSync(join(out, `run-${file}`, 'run.json'), 'utf8'));
      expect(record.config.classifier.steps).toBe(3);
      expect(record.config.cams.sweep).toEqual([0.3]);
    }
    writeFileSync(join(out, 'bad.yaml'), 'classifier: [\n');
    expect((await wsss('run', 'baseline', '--config', join(out, 'bad.yaml'))).stderr).toMatch(
      /bad.yaml is not valid YAML/,
    );
    writeFileSync(join(out, 'typo.yaml'), 'classifier:\n  stepz: 3\n');
    expect((await wsss('run', 'baseline', '--config', join(out, 'typo.yaml'))).stderr).toMatch(
      /typo.yaml: unknown key 'classifier.stepz'/,
    );
    rmSync(out, { recursive: true, force: true });
  });

  it('eval scores a folder of label PNGs by hand, and names a missing or mis-sized one', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'wsss-eval-'));
    const map = (data: number[]) => ({ width: 4, height: 2, data: Uint8Array.from(data) });
    await writeLabelPng(join(dir, 'gt', 'a.png'), map([0, 0, 0, 1, 1, 2, 2, 255]));
    await writeLabelPng(join(dir, 'pred', 'a.png'), map([0, 0, 1, 1, 1, 2, 0, 2]));
    const { code, stdout } = await wsss(
      'eval',
      '--pred',
      join(dir, 'pred'),
      '--gt',
      join(dir, 'gt'),
      '--classes',
      'bg,cat,dog',
    );
    expect(code).toBe(0);
    // bg: TP 2, FP 1, FN 1 -> 50.0; cat: TP 2, FP 1 -> 66.7; dog: TP 1, FN 1 -> 50.0; mean 55.6, without bg 58.3
    expect(stdout).toMatch(/mIoU {2}55.6 {3}mIoU without background {2}58.3/);
    expect(stdout).toMatch(/cat +66.7/);
    await writeLabelPng(join(dir, 'pred', 'b.png'), map([0, 0, 0, 0, 0, 0, 0, 0]));
    expect((await wsss('eval', '--pred', join(dir, 'pred'), '--gt', join(dir, 'gt'))).stderr).toMatch(
      /no b.png in/,
    );
    await writeLabelPng(join(dir, 'gt', 'b.png'), { width: 2, height: 2, data: new Uint8Array(4) });
    expect((await wsss('eval', '--pred', join(dir, 'pred'), '--gt', join(dir, 'gt'))).stderr).toMatch(
      /b.png: the prediction is 4x2, the ground truth 2x2/,
    );
    rmSync(dir, { recursive: true, force: true });
  });

  it('datasets check reports a layout and what its lists name but its folders lack', async () => {
    const root = mkdtempSync(join(tmpdir(), 'wsss-voc-'));
    const voc = join(root, 'VOC2012');
    mkdirSync(join(voc, 'ImageSets', 'Segmentation'), { recursive: true });
    mkdirSync(join(voc, 'JPEGImages'));
    mkdirSync(join(voc, 'SegmentationClass'));
    writeFileSync(join(voc, 'ImageSets', 'Segmentation', 'train.txt'), 'a\nb\n');
    for (const f of ['JPEGImages/a.jpg', 'JPEGImages/b.jpg', 'SegmentationClass/a.png', 'cls_labels.npy'])
      writeFileSync(join(voc, f), '');
    const report = await wsss('datasets', 'check', voc);
    expect(report.code).toBe(1);
    expect(report.stdout).toMatch(/PASCAL VOC 2012\n {2}train +2 ids: 1 masks missing \(b\)/);
    writeFileSync(join(voc, 'SegmentationClass', 'b.png'), '');
    expect(await wsss('datasets', 'check', voc)).toMatchObject({
      code: 0,
      stdout: expect.stringMatching(/train +2 ids: complete/),
    });
    expect((await wsss('datasets', 'check', root)).stderr).toMatch(
      /neither a VOC2012 folder .* nor a CamVid folder/,
    );
    expect((await wsss('datasets', 'list')).code).toBe(2);
    rmSync(root, { recursive: true, force: true });
    const camvid = sharedPath('data/camvid');
    if (camvid)
      expect((await wsss('datasets', 'check', camvid)).stdout).toMatch(
        /train +367 ids: complete\n {2}val +101 ids: complete/,
      );
  });

  it('crf refines label maps on their images (noise on two colour halves mostly removed)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'wsss-crf-'));
    const [width, height] = [48, 32];
    const image = new Uint8Array(width * height * 3);
    const labels = new Uint8Array(width * height);
    const truth = (i: number) => (i % width < width / 2 ? 0 : 1);
    for (let i = 0; i < width * height; i++) {
      image.fill(truth(i) ? 220 : 30, 3 * i, 3 * i + 3);
      labels[i] = (i * 7919) % 10 === 0 ? 1 - truth(i) : (i * 104729) % 13 === 0 ? 255 : truth(i);
    }
    await writePng(join(dir, 'images', 'a.png'), { width, height, channels: 3, data: image });
    await writeLabelPng(join(dir, 'labels', 'a.png'), { width, height, data: labels });
    const wrong = (data: Uint8Array) => data.filter((v, i) => v !== truth(i)).length;
    const crf = (...extra: string[]) =>
      wsss('crf', '--images', join(dir, 'images'), '--labels', join(dir, 'labels'), ...extra);
    const { code, stdout } = await crf('--out', join(dir, 'out'));
    expect(code).toBe(0);
    expect(stdout).toMatch(/a.png: .*% of pixels changed/);
    const refined = await readLabelPng(join(dir, 'out', 'a.png'));
    expect(wrong(labels)).toBeGreaterThan(200);
    expect(wrong(refined.data)).toBeLessThan(wrong(labels) / 10);
    expect((await crf('--out', dir, '--preset', 'x')).stderr).toMatch(/unknown CRF preset 'x'/);
    rmSync(dir, { recursive: true, force: true });
  });

  it('infers with the network of a finished run; a corrupt image or an untrained run is one line, exit 1', async () => {
    const out = mkdtempSync(join(tmpdir(), 'wsss-infer-'));
    expect(
      (
        await wsss(
          'run',
          'baseline',
          '--preset',
          'smoke',
          '--backend',
          'wasm',
          '--out',
          out,
          '--until',
          'cams',
        )
      ).code,
    ).toBe(0);
    const run = join(out, 'baseline-smoke');
    const image = join(out, 'photo.png');
    await writePng(image, { width: 40, height: 30, channels: 3, data: new Uint8Array(40 * 30 * 3).fill(90) });
    expect(await wsss('infer', '--run', run, image)).toMatchObject({
      code: 1,
      stderr: expect.stringMatching(/has not been trained yet/),
    });
    // the classifier is trained: its CAMs of every class (threshold 0), one heat map each
    const cams = await wsss('cam', '--run', run, image, '--threshold', '0', '--out', join(out, 'cams'));
    expect(cams.code).toBe(0);
    expect(cams.stdout).toMatch(/photo.png: disc 0\.\d\d, square/);
    expect(readdirSync(join(out, 'cams')).sort()).toEqual(
      ['cross', 'disc', 'ring', 'square', 'star', 'triangle'].map((c) => `photo_${c}.png`),
    );
    expect((await wsss('resume', run, '--backend', 'wasm')).code).toBe(0);
    const done = await wsss('infer', '--run', run, image, '--out', join(out, 'labels'));
    expect(done.code).toBe(0);
    expect(done.stdout).toMatch(/labels\/photo.png: /);
    const labels = await readLabelPng(join(out, 'labels', 'photo.png'));
    expect([labels.width, labels.height]).toEqual([40, 30]);
    writeFileSync(join(out, 'corrupt.jpg'), 'not an image');
    const corrupt = await wsss('infer', '--run', run, join(out, 'corrupt.jpg'));
    expect(corrupt.code).toBe(1);
    expect(corrupt.stderr).toMatch(/^wsss: decodeImage: cannot decode .*corrupt.jpg/m);
    expect(existsSync(join(run, 'infer', 'corrupt.png'))).toBe(false);
    rmSync(out, { recursive: true, force: true });
  }, 120000);

  it('runs the fused multiply-add (relaxed SIMD) build of our wasm kernels, on Node 20 too, unless WSSS_RELAXED_SIMD=0', () => {
    const dir = mkdtempSync(join(tmpdir(), 'wsss-relaxed-'));
    try {
      const build = (relaxed: string) => {
        const json = join(dir, `bench-${relaxed}.json`);
        const child = spawnSync(
          process.execPath,
          [
            '--import',
            'tsx',
            join(root, 'packages/cli/src/bin.ts'),
            ...['bench', '--size', 'small', '--runs', '1', '--backend', 'wasm', '--ops', 'train-step-os32'],
            ...['--threads', '1', '--no-peers', '--json', json],
          ],
          {
            cwd: root,
            encoding: 'utf8',
            timeout: 120_000,
            env: {
              ...process.env,
              TSX_TSCONFIG_PATH: join(root, 'tsconfig.json'),
              WSSS_RELAXED_SIMD: relaxed,
            },
          },
        );
        expect({ status: child.status, stderr: child.status ? child.stderr.slice(-500) : '' }).toEqual({
          status: 0,
          stderr: '',
        });
        return [
          JSON.parse(readFileSync(json, 'utf8')).relaxedSimd,
          /wasm on 1 thread \(relaxed SIMD\)/.test(child.stdout),
        ];
      };
      expect(build('1')).toEqual([true, true]);
      expect(build('0')).toEqual([false, false]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 240_000);

  it('resumes a run killed mid-stage (SIGKILL) to the report of an uninterrupted run', async () => {
    const out = mkdtempSync(join(tmpdir(), 'wsss-kill-'));
    const args = [
      'run',
      'baseline',
      '--preset',
      'smoke',
      '--set',
      'segmentation.steps=80',
      '--backend',
      'wasm',
      '--out',
      out,
    ];
    // tsx as a loader in this one process: tsx's CLI runs the script in a child process of its own, which a SIGKILL
    // of the CLI leaves running, still writing into the run folder while the resume runs
    const spawnCommand = (commandLine: string[]) =>
      spawn(process.execPath, ['--import', 'tsx', join(root, 'packages/cli/src/bin.ts'), ...commandLine], {
        cwd: root,
        env: { ...process.env, TSX_TSCONFIG_PATH: join(root, 'tsconfig.json') },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
    const spawnCli = (name: string) => spawnCommand([...args, '--name', name]);
    // drains the child's output (a full pipe would block it) and keeps its errors for the failure message
    const finished = (child: ChildProcess) =>
      new Promise<{ code: number | null; errors: string }>((done) => {
        let errors = '';
        child.stdout?.resume();
        child.stderr?.on('data', (chunk) => {
          errors = `${errors}${chunk}`.slice(-2000);
        });
        child.on('exit', (code) => done({ code, errors }));
      });
    // uninterrupted
    const whole = spawnCli('whole');
    const wholeRun = await finished(whole);
    expect({ code: wholeRun.code, errors: wholeRun.code ? wholeRun.errors : '' }).toEqual({
      code: 0,
      errors: '',
    });
    // killed once the segmentation network has written a checkpoint, then resumed
    const killed = spawnCli('killed');
    const killedRun = finished(killed);
    const checkpoint = join(out, 'killed', '04-train-segmentation', 'checkpoint', 'model.json');
    await new Promise<void>((resolve) => {
      const poll = setInterval(() => {
        if (existsSync(checkpoint)) {
          clearInterval(poll);
          killed.kill('SIGKILL');
          resolve();
        }
      }, 20);
    });
    expect((await killedRun).code).toBeNull(); // killed by the signal
    expect(existsSync(join(out, 'killed', '04-train-segmentation', 'done.json'))).toBe(false);
    // resumed in a fresh process like the other two (this test process's TensorFlow.js state is shared with other
    // test files and must not enter the comparison)
    const resumedChild = spawnCommand(['resume', join(out, 'killed'), '--backend', 'wasm']);
    let resumeLog = '';
    resumedChild.stderr?.on('data', (chunk) => {
      resumeLog += chunk;
    });
    const resumed = await finished(resumedChild);
    expect({ code: resumed.code, errors: resumed.code ? resumed.errors : '' }).toEqual({
      code: 0,
      errors: '',
    });
    expect(resumeLog).toMatch(/01-train-classifier: complete .* skipped/);
    const report = (name: string) =>
      JSON.parse(readFileSync(join(out, name, 'report.json'), 'utf8')) as RunReport;
    expect(report('killed').rows).toEqual(report('whole').rows);
    // exact resume: the segmentation network ends with the uninterrupted run's weights, bit for bit
    const weights = (name: string) => {
      const dir = join(out, name, '04-train-segmentation', 'checkpoint');
      const manifest = JSON.parse(readFileSync(join(dir, 'model.json'), 'utf8'));
      return readFileSync(join(dir, manifest.weightsManifest[0].paths[0]));
    };
    expect(weights('killed').equals(weights('whole'))).toBe(true);
    rmSync(out, { recursive: true, force: true, maxRetries: 5 });
  }, 240000);
});
