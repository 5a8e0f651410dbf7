import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BENCH_CASES, type BenchRecord, benchCommand, runPeers, summarizeTimes, time } from '@wsss/cli';
import { selectBackend } from '@wsss/core';
import { wsss } from './wsss';

describe('bench timing', () => {
  it('summarises times with interpolated quartiles (numpy linear)', () => {
    expect(summarizeTimes([4, 1, 3, 2])).toEqual({
      medianMs: 2.5,
      q1Ms: 1.75,
      q3Ms: 3.25,
      minMs: 1,
      maxMs: 4,
      runs: 4,
    });
    expect(summarizeTimes([7])).toMatchObject({ medianMs: 7, q1Ms: 7, q3Ms: 7, runs: 1 });
    expect(() => summarizeTimes([])).toThrow(/times must not be empty/);
  });

  it('times only the measured calls, after the warm-up', async () => {
    let clock = 0;
    let calls = 0;
    const durations = [100, 5, 1, 3]; // the first call is the warm-up
    const timing = await time(
      async () => {
        clock += durations[calls++];
      },
      3,
      1,
      () => clock,
    );
    expect(calls).toBe(4);
    expect(timing).toMatchObject({ medianMs: 3, minMs: 1, maxMs: 5, runs: 3 });
    await expect(time(async () => {}, 0)).rejects.toThrow(/runs must be an integer >= 1/);
  });
});

describe('wsss bench', () => {
  afterAll(() => selectBackend({ preference: 'cpu', log: null }));

  it('runs every kernel on wasm and cpu without leaking tensors, prints the table and writes the JSON', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'wsss-bench-'));
    try {
      const json = join(dir, 'bench.json');
      // the SGD training steps run on wasm only (next test): on cpu they take a minute
      const ops = BENCH_CASES.map((c) => c.op).filter(
        (op) => op !== 'training-step' && !op.startsWith('train-step-'),
      );
      const { code, stdout, stderr } = await wsss(
        'bench',
        '--size',
        'small',
        '--runs',
        '1',
        '--backend',
        'wasm,cpu',
        '--ops',
        [...ops, 'training-step'].join(','),
        '--json',
        json,
        '--no-peers',
      );
      expect(stderr).not.toMatch(/left \d+ tensors/);
      expect(code).toBe(0);
      const record = JSON.parse(readFileSync(json, 'utf8')) as BenchRecord;
      // the CRF runs once (our own kernel); every other kernel once per backend
      expect(
        record.results.map((r) => `${r.op}@${r.backend.startsWith('own') ? 'own' : r.backend}`).sort(),
      ).toEqual(
        [
          'crf@own',
          ...['wasm', 'cpu'].flatMap((b) =>
            [...ops, 'training-step'].filter((op) => op !== 'crf').map((op) => `${op}@${b}`),
          ),
        ].sort(),
      );
      for (const r of record.results) {
        expect(r.leakedTensors).toBe(0);
        expect(r.medianMs).toBeGreaterThan(0);
        expect(r.q1Ms).toBeLessThanOrEqual(r.q3Ms);
      }
      expect(record.machine.cores).toBeGreaterThan(0);
      expect(record.versions.tfjs).toMatch(/^\d+\.\d+/);
      expect(stdout).toMatch(
        /\| op \| shape \| backend \| median ms \| IQR ms \| runs \| ours \/ peer \(same run\) \|/,
      );
      expect(stdout).toMatch(/\| label-reassign \| \[2,12,12,16\] \| wasm \|/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 120_000);

  it('runs the SGD training steps on wasm on the threads asked for, and the peers on as many', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'wsss-bench-'));
    try {
      const json = join(dir, 'bench.json');
      const { code, stdout, stderr } = await wsss(
        'bench',
        '--size',
        'small',
        '--runs',
        '1',
        '--backend',
        'wasm',
        '--ops',
        'train-step-os32,train-step-os16',
        '--threads',
        '2',
        '--json',
        json,
        '--no-peers',
      );
      expect(stderr).not.toMatch(/left \d+ tensors/);
      expect(code).toBe(0);
      const record = JSON.parse(readFileSync(json, 'utf8')) as BenchRecord;
      expect(record.results.map((r) => r.op)).toEqual(['train-step-os32', 'train-step-os16']);
      expect(record.results.every((r) => r.leakedTensors === 0 && r.medianMs > 0)).toBe(true);
      // the wasm backend starts once per process: it reports the threads it runs on (jest's process may have
      // started it before); the CRF and the peers get the count asked for
      expect(record.threads.wasm).toBeGreaterThanOrEqual(1);
      expect(record.threads).toMatchObject({ crf: 2, peers: 2 });
      expect(stdout).toMatch(/wasm on \d threads?( \(relaxed SIMD\))?, CRF on 2 threads, peers on 2 threads/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 120_000);

  it('names an unknown kernel, backend or size; an unavailable backend is skipped with its reason', async () => {
    expect(await wsss('bench', '--ops', 'crf,nope')).toMatchObject({
      code: 1,
      stderr: expect.stringMatching(/unknown --ops nope; expected some of crf, random-walk/),
    });
    expect(await wsss('bench', '--backend', 'webgl')).toMatchObject({
      code: 1,
      stderr: expect.stringMatching(/unknown backend 'webgl' in --backend/),
    });
    expect(await wsss('bench', '--size', 'huge')).toMatchObject({
      code: 1,
      stderr: expect.stringMatching(/--size must be standard or small, got 'huge'/),
    });
    const skipped = await wsss(
      'bench',
      '--backend',
      'tensorflow,cpu',
      '--ops',
      'affinity-aa',
      '--size',
      'small',
      '--runs',
      '1',
      '--no-peers',
    );
    expect(skipped.code).toBe(0);
    expect(skipped.stderr).toMatch(
      /tensorflow skipped \(neither @tensorflow\/tfjs-node-gpu nor @tensorflow\/tfjs-node/,
    );
    expect(skipped.stdout).toMatch(/\| affinity-aa \| \[2,12,12,4\] \| cpu \|/);
  }, 60_000);
});

describe('wsss bench peers', () => {
  const io = () => {
    const out = { stdout: '', stderr: '' };
    return {
      out,
      io: {
        stdout: { write: (t: string) => (out.stdout += t) },
        stderr: { write: (t: string) => (out.stderr += t) },
      } as never,
    };
  };

  it('runs the peers after ours in the same run and prints ours / peer from that run', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'wsss-peers-'));
    // a stand-in interpreter: answers the request the way peers/bench_peers.py does
    const stub = join(dir, 'peers.mjs');
    writeFileSync(
      stub,
      `let input = '';
process.stdin.on('data', (c) => (input += c)).on('end', () => {
  const { ops, runs } = JSON.parse(input);
  if (runs !== 2) process.exit(3);
  for (const op of ops)
    console.log(JSON.stringify(op === 'affinity-sa'
      ? { op, peer: 'stub 1.0 (1 thread)', shape: '[2,12,12,4]', times: [10, 30, 20] }
      : { op, skipped: 'no peer for this kernel' }));
});`,
    );
    try {
      const { out, io: captured } = io();
      const record = await benchCommand(
        {
          backends: 'cpu',
          ops: 'affinity-sa,affinity-aa',
          size: 'small',
          runs: 2,
          peerCommand: [process.execPath, stub],
        },
        captured,
      );
      expect(record.peers).toMatchObject([
        { op: 'affinity-sa', peer: 'stub 1.0 (1 thread)', medianMs: 20, runs: 3 },
      ]);
      expect(record.peerSkipped).toEqual([{ op: 'affinity-aa', reason: 'no peer for this kernel' }]);
      const ours = record.results.find((r) => r.op === 'affinity-sa')!;
      const ratio = (ours.medianMs / 20).toFixed(2);
      expect(out.stdout).toContain(`| affinity-sa | [2,12,12,4] | cpu |`);
      expect(out.stdout).toContain(`| ${ratio}x stub 1.0 (1 thread) |`);
      expect(out.stdout).toMatch(
        /\| affinity-sa \| \[2,12,12,4\] \| stub 1\.0 \(1 thread\) \| 20\.0 \| 15\.0-25\.0 \| 3 \| peer \|/,
      );
      expect(out.stdout).toMatch(/\| affinity-aa \| .* \| cpu \| .* \| - \|/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);

  it('says why when the interpreter is missing, and still measures ours', async () => {
    const run = await runPeers({ ops: ['crf', 'cross-task'], size: 'small', runs: 1, threads: 1 }, [
      '/nonexistent/python3',
      'x.py',
    ]);
    expect(run.results).toEqual([]);
    expect(run.skipped.map((s) => s.op)).toEqual(['crf', 'cross-task']);
    expect(run.skipped[0].reason).toMatch(/the peers did not run \(.*ENOENT/);
  });

  // the real peers where this machine has them (Debian: python3-torch, python3-scipy, pydensecrf on PYTHONPATH)
  it('runs the real Python peers at small shapes where python3 has them', async () => {
    const run = await runPeers({
      ops: [
        'crf',
        'random-walk',
        'affinity-sa',
        'cross-task',
        'label-reassign',
        'triplet-centre',
        'training-step',
        'train-step-os32',
        'train-step-os16',
      ],
      size: 'small',
      runs: 1,
      threads: 1,
    });
    if (run.results.length === 0) {
      process.stderr.write(
        `[wsss] skipping the real bench peers: ${run.skipped.map((s) => `${s.op}: ${s.reason}`).join('; ')}\n`,
      );
      return;
    }
    for (const r of run.results) expect(r.medianMs).toBeGreaterThan(0);
    for (const s of run.skipped) expect(s.reason).toMatch(/not installed|no peer/);
  }, 120_000);
});
