import { renameSync, writeFileSync } from 'node:fs';
import { arch, availableParallelism, cpus, platform, totalmem } from 'node:os';
import { BACKEND_PRIORITY, type BackendName, selectBackend, tf } from '@wsss/core';
import { BENCH_CASES, type BenchCase, type BenchSize } from '../bench/cases';
import { markdownTable, type Timing, time } from '../bench/timing';
import { type Io, UsageError } from '../io';

export interface BenchArgs {
  /** Backends to measure, in order; default every one that starts here. */
  backends?: string;
  /** Comma-separated case names (`BENCH_CASES[].op`); default all. */
  ops?: string;
  size: BenchSize;
  runs: number;
  /** Threads of the CRF (our own kernel). Default: the cores of this machine. */
  threads?: number;
  /** Where to write the JSON record. */
  json?: string;
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
  results: BenchResult[];
  skipped: { backend: string; reason: string }[];
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
 * `wsss bench`: times each kernel (BENCH_CASES) on every backend that starts (cpu, wasm, webgpu with an adapter,
 * tensorflow with tfjs-node), median and interquartile range of `runs` timed calls after one warm-up; prints one
 * markdown table and optionally writes the JSON record. Cases that run outside TensorFlow.js (the CRF) run once.
 */
export async function benchCommand(args: BenchArgs, io: Io): Promise<BenchRecord> {
  const cases = selectedCases(args.ops);
  const backends = selectedBackends(args.backends);
  if (!Number.isInteger(args.runs) || args.runs < 1)
    throw new UsageError(`bench: --runs must be an integer >= 1, got ${args.runs}`);
  const threads = args.threads ?? availableParallelism();
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
    results: [],
    skipped: [],
  };
  const independentDone = new Set<string>();
  for (const backend of backends) {
    try {
      await selectBackend({ preference: backend, log: null });
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
  const rows = record.results.map((r) => [
    r.op,
    r.shape,
    r.backend,
    fixed(r.medianMs),
    `${fixed(r.q1Ms)}-${fixed(r.q3Ms)}`,
    r.runs,
  ]);
  io.stdout.write(
    `${markdownTable(['op', 'shape', 'backend', 'median ms', 'IQR ms', 'runs'], rows)}\n\n` +
      `${record.machine.cpu}, ${record.machine.cores} cores, Node ${record.machine.node}, tfjs ${record.versions.tfjs}` +
      (record.skipped.length ? `; skipped: ${record.skipped.map((s) => s.backend).join(', ')}` : '') +
      '\n',
  );
  if (args.json) {
    const temporary = `${args.json}.${process.pid}.tmp`;
    writeFileSync(temporary, `${JSON.stringify(record, null, 2)}\n`);
    renameSync(temporary, args.json);
  }
  return record;
}
