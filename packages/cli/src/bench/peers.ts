import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { BenchSize } from './cases';
import { summarizeTimes, type Timing } from './timing';

/** A peer's timing of one kernel, from the same `wsss bench` run as ours. */
export interface PeerResult extends Timing {
  op: string;
  /** e.g. 'pydensecrf (1 thread)', 'PyTorch 1.13.1 (1 thread)'. */
  peer: string;
  shape: string;
  times: number[];
}

export interface PeerRun {
  results: PeerResult[];
  /** Kernels without a peer here, and why (not installed, no peer written). */
  skipped: { op: string; reason: string }[];
}

/** The Python script of the peers, in the installed package (peers/) or the repository. */
export function peerScript(): string {
  const here = dirname(fileURLToPath(import.meta.url));
  // dist/ (one level) or src/bench/ (two levels) below the package root
  const candidates = [
    join(here, '..', 'peers', 'bench_peers.py'),
    join(here, '..', '..', 'peers', 'bench_peers.py'),
  ];
  const found = candidates.find((f) => existsSync(f));
  if (!found) throw new Error(`bench: the peers' script is missing (looked for ${candidates.join(', ')})`);
  return found;
}

/**
 * Runs the peers of `ops` (python3 with pydensecrf / PyTorch / SciPy where installed; `command` overrides the
 * interpreter, e.g. for tests) right after ours, in the same run, and collects their timings. A missing interpreter
 * or module skips the kernel with the reason; it never fails the benchmark.
 */
export async function runPeers(
  request: { ops: string[]; size: BenchSize; runs: number; threads: number },
  command: readonly string[] = [process.env.WSSS_PYTHON ?? 'python3', peerScript()],
  onLine: (line: string) => void = () => {},
): Promise<PeerRun> {
  const out: PeerRun = { results: [], skipped: [] };
  const [program, ...args] = command;
  const output = await new Promise<{ stdout: string; stderr: string; error?: string }>((resolve) => {
    const child = spawn(program, args, { stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk;
      for (const line of String(chunk).split('\n')) if (line.trim()) onLine(line);
    });
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk;
    });
    child.on('error', (err) => resolve({ stdout, stderr, error: err.message }));
    child.on('close', (code) =>
      resolve({
        stdout,
        stderr,
        error: code === 0 ? undefined : `exited with ${code}: ${stderr.trim().split('\n').pop()}`,
      }),
    );
    child.stdin.end(JSON.stringify(request));
  });
  const seen = new Set<string>();
  for (const line of output.stdout.split('\n')) {
    if (!line.trim()) continue;
    const record = JSON.parse(line) as {
      op: string;
      peer?: string;
      shape?: string;
      times?: number[];
      skipped?: string;
    };
    seen.add(record.op);
    if (record.skipped !== undefined || !record.times?.length)
      out.skipped.push({ op: record.op, reason: record.skipped ?? 'no times' });
    else
      out.results.push({
        op: record.op,
        peer: record.peer ?? 'peer',
        shape: record.shape ?? '',
        times: record.times,
        ...summarizeTimes(record.times),
      });
  }
  for (const op of request.ops)
    if (!seen.has(op))
      out.skipped.push({ op, reason: `the peers did not run (${output.error ?? 'no output'})` });
  return out;
}
