import { renameSync, writeFileSync } from 'node:fs';
import { arch, availableParallelism, cpus, platform, totalmem } from 'node:os';
import { BACKEND_PRIORITY, type BackendName, selectBackend, tf } from '@wsss/core';
import { BENCH_CASES, type BenchCase, type BenchSize } from '../bench/cases';
import { type PeerResult, runPeers } from '../bench/peers';
import { markdownTable, type Timing, time } from '../bench/timing';
import { type Io, UsageError } from '../io';

export interface BenchArgs {
  /** Backends to measure, in order; default every one that starts here. */
  backends?: string;
  /** Comma-separated case names (`BENCH_CASES[].op`); default all. */
  ops?: string;
  size: BenchSize;
  runs: number;
  /** Threads of our kernels: the wasm backend (XNNPACK) and the CRF. Default: the cores of this machine. */
  threads?: number;
  /** Where to write the JSON record. */
  json?: string;
  /** Run the peers (pydensecrf, PyTorch, SciPy through python3) in the same run. Default true. */
  peers?: boolean;
  /** Threads the peers may use. Default: `threads`, so that ratios compare the same cores. */
  peerThreads?: number;
  /** The peers' interpreter and script (tests). Default: `python3` (or WSSS_PYTHON) and peers/bench_peers.py. */
  peerCommand?: readonly string[];
}

export interface BenchResult extends Timing {
  op: string;
  backend: string;
  shape: string;
  /** Tensors the case left behind (0 unless it leaks). */
  leakedTensors: number;
}

export interface BenchRecord {
  date: string;
  machine: { platform: string; arch: string; cpu: string; cores: number; memoryGiB: number; node: string };
  versions: { tfjs: string };
  size: BenchSize;
  /** The threads each side ran on: the wasm backend (when it ran), the CRF, the peers. */
  threads: { wasm?: number; crf: number; peers: number };
  /** When wasm ran: whether our training kernels ran their relaxed-SIMD build (fused multiply-adds). */
  relaxedSimd?: boolean;
  results: BenchResult[];
  skipped: { backend: string; reason: string }[];
  /** The peers' timings from the same run, and the kernels without one. */
  peers: PeerResult[];
  peerSkipped: { op: string; reason: string }[];
}

function selectedCases(ops: string | undefined): BenchCase[] {
  if (ops === undefined) return [...BENCH_CASES];
  const names = ops.split(',').map((s) => s.trim());
  const unknown = names.filter((n) => !BENCH_CASES.some((c) => c.op === n));
  if (unknown.length)
    throw new UsageError(
      `bench: unknown --ops ${unknown.join(', ')}; expected some of ${BENCH_CASES.map((c) => c.op).join(', ')}`,
    );
  return BENCH_CASES.filter((c) => names.includes(c.op));
}

function selectedBackends(list: string | undefined): BackendName[] {
  if (list === undefined) return [...BACKEND_PRIORITY];
  const names = list.split(',').map((s) => s.trim());
  for (const n of names)
    if (!(BACKEND_PRIORITY as readonly string[]).includes(n))
      throw new UsageError(
        `bench: unknown backend '${n}' in --backend; expected some of ${BACKEND_PRIORITY.join(', ')}`,
      );
  return names as BackendName[];
}

const fixed = (v: number) => (v >= 100 ? v.toFixed(0) : v >= 10 ? v.toFixed(1) : v.toFixed(2));

/**
 * The table of a bench record: our rows (with the ratio to the op's peer, ours / peer, from the same run) and the
 * peers' rows, then the machine.
 */
export function benchTable(record: BenchRecord): string {
  const peerOf = new Map(record.peers.map((p) => [p.op, p]));
  const rows: (string | number)[][] = [];
  for (const r of record.results) {
    const peer = peerOf.get(r.op);
    rows.push([
      r.op,
      r.shape,
      r.backend,
      fixed(r.medianMs),
      `${fixed(r.q1Ms)}-${fixed(r.q3Ms)}`,
      r.runs,
      peer ? `${(r.medianMs / peer.medianMs).toFixed(2)}x ${peer.peer}` : '-',
    ]);
  }
  for (const p of record.peers)
    rows.push([
      p.op,
      p.shape,
      p.peer,
      fixed(p.medianMs),
      `${fixed(p.q1Ms)}-${fixed(p.q3Ms)}`,
      p.runs,
      'peer',
    ]);
  const { machine, versions, skipped, threads } = record;
  const count = (n: number) => `${n} thread${n > 1 ? 's' : ''}`;
  return (
    `${markdownTable(['op', 'shape', 'backend', 'median ms', 'IQR ms', 'runs', 'ours / peer (same run)'], rows)}\n\n` +
    `${machine.cpu}, ${machine.cores} cores, Node ${machine.node}, tfjs ${versions.tfjs}; ` +
    (threads.wasm === undefined
      ? ''
      : `wasm on ${count(threads.wasm)}${record.relaxedSimd ? ' (relaxed SIMD)' : ''}, `) +
    `CRF on ${count(threads.crf)}, peers on ${count(threads.peers)}` +
    (skipped.length ? `; skipped: ${skipped.map((s) => s.backend).join(', ')}` : '') +
    '\n'
  );
}

/**
 * `wsss bench`: times each kernel (BENCH_CASES) on every backend that starts (cpu, wasm, webgpu with an adapter,
 * tensorflow with tfjs-node), median and interquartile range of `runs` timed calls after one warm-up; prints one
 * markdown table and optionally writes the JSON record. Cases that run outside TensorFlow.js (the CRF) run once.
 * Then the peers (pydensecrf, PyTorch, SciPy, where python3 has them) time the same kernels at the same shapes, in
 * the same run, and each of our rows gets its ratio to the peer.
 */
export async function benchCommand(args: BenchArgs, io: Io): Promise<BenchRecord> {
  const cases = selectedCases(args.ops);
  const backends = selectedBackends(args.backends);
  if (!Number.isInteger(args.runs) || args.runs < 1)
    throw new UsageError(`bench: --runs must be an integer >= 1, got ${args.runs}`);
  const threads = args.threads ?? availableParallelism();
  if (!Number.isInteger(threads) || threads < 1)
    throw new UsageError(`bench: --threads must be an integer >= 1, got ${threads}`);
  const peerThreads = args.peerThreads ?? threads;
  const record: BenchRecord = {
    date: new Date().toISOString(),
    machine: {
      platform: platform(),
      arch: arch(),
      cpu: cpus()[0]?.model ?? 'unknown',
      cores: availableParallelism(),
      memoryGiB: Math.round(totalmem() / 2 ** 30),
      node: process.version,
    },
    versions: { tfjs: tf.version_core },
    size: args.size,
    threads: { crf: threads, peers: peerThreads },
    results: [],
    skipped: [],
    peers: [],
    peerSkipped: [],
  };
  const independentDone = new Set<string>();
  for (const backend of backends) {
    try {
      const selected = await selectBackend({ preference: backend, log: null, threads });
      if (backend === 'wasm') {
        record.threads.wasm = selected.threads;
        record.relaxedSimd = selected.relaxedSimd;
      }
    } catch (err) {
      const reason = (err as Error).message.replace(
        /^selectBackend: backend '\w+' was requested but is unavailable: /,
        '',
      );
      record.skipped.push({ backend, reason });
      io.stderr.write(`bench: ${backend} skipped (${reason})\n`);
      continue;
    }
    for (const c of cases) {
      if (c.backendIndependent && independentDone.has(c.op)) continue;
      const before = tf.memory().numTensors;
      io.stderr.write(`bench: ${c.op} on ${c.backendIndependent ? 'cpu (own kernel)' : backend} ...\n`);
      const run = c.setup(args.size, { threads });
      let timing: Timing;
      try {
        timing = await time(run.run, args.runs, 1);
      } finally {
        run.dispose();
      }
      const result: BenchResult = {
        op: c.op,
        backend: c.backendIndependent ? `own kernel, ${threads} thread${threads > 1 ? 's' : ''}` : backend,
        shape: c.shape(args.size),
        ...timing,
        leakedTensors: tf.memory().numTensors - before,
      };
      record.results.push(result);
      if (result.leakedTensors)
        io.stderr.write(`bench: ${c.op} on ${backend} left ${result.leakedTensors} tensors\n`);
      if (c.backendIndependent) independentDone.add(c.op);
    }
  }
  if (args.peers !== false) {
    io.stderr.write('bench: the peers, in the same run ...\n');
    const peers = await runPeers(
      { ops: cases.map((c) => c.op), size: args.size, runs: args.runs, threads: peerThreads },
      args.peerCommand,
    );
    record.peers = peers.results;
    record.peerSkipped = peers.skipped;
    for (const s of peers.skipped) io.stderr.write(`bench: no peer for ${s.op}: ${s.reason}\n`);
  }
  io.stdout.write(`${benchTable(record)}\n`);
  if (args.json) {
    const temporary = `${args.json}.${process.pid}.tmp`;
    writeFileSync(temporary, `${JSON.stringify(record, null, 2)}\n`);
    renameSync(temporary, args.json);
  }
  return record;
}
