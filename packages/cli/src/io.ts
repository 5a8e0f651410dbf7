import { existsSync, statSync } from 'node:fs';
import { type RgbImage, readImage, selectBackend } from '@wsss/core';
import { type RunRecord, readRunRecord } from '@wsss/pipelines';

export interface Io {
  stdout: { write(text: string): unknown; isTTY?: boolean };
  stderr: { write(text: string): unknown; isTTY?: boolean };
}

/** A user error: printed as one line `wsss: <message>`; exit code 1, or 2 for a malformed command line. */

export class UsageError extends Error {
  constructor(
    message: string,
    readonly exitCode = 1,
  ) {
    super(message);
  }
}

/** Starts the backend (`--backend`, or the fastest available), logging the choice to stderr. */
export async function startBackend(backend: string | undefined, io: Io): Promise<void> {
  await selectBackend({
    preference: backend ? (backend.split(',') as never) : undefined,
    log: (line) => io.stderr.write(`${line}\n`),
  });
}

/** The run recorded in `runDir`; a missing or broken record is a usage error. */
export function readRun(runDir: string): RunRecord {
  try {
    return readRunRecord(runDir);
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
}

/** An input image; one that cannot be read or decoded is a usage error naming it. */
export async function readInputImage(path: string): Promise<RgbImage> {
  if (!existsSync(path)) throw new UsageError(`${path} does not exist`);
  try {
    return await readImage(path);
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
}

/** Fails with `<flag>: <dir> is not a folder` unless `dir` is an existing folder. */
export function requireFolder(flag: string, dir: string): void {
  if (!existsSync(dir) || !statSync(dir).isDirectory())
    throw new UsageError(`${flag}: ${dir} is not a folder`);
}
