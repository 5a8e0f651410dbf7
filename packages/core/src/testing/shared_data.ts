import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';

/**
 * Root of the shared data folder (papers, real VOC/CamVid data, weights, fixtures): `$WSSS_DATA` when set, else the
 * first `shared/` found beside the current directory or one of its parents (`../shared` from a checkout).
 * `undefined` when there is none, e.g. on a fresh machine.
 */
export function sharedDataRoot(): string | undefined {
  const fromEnv = process.env.WSSS_DATA;
  if (fromEnv) return existsSync(fromEnv) ? resolve(fromEnv) : undefined;
  let dir = process.cwd();
  for (;;) {
    const candidate = join(dir, '..', 'shared');
    if (existsSync(candidate)) return resolve(candidate);
    const parent = dirname(dir);
    if (parent === dir) return undefined;
    dir = parent;
  }
}

/**
 * Absolute path of `relative` inside the shared data folder, or `undefined` (with a one-line note on stderr saying
 * what is skipped) when it is absent. Tests use it to skip cleanly on machines without the data:
 *
 * ```ts
 * const masks = sharedPath('data/voc2012/VOC2012/SegmentationClassAug', 'VOC mask tests');
 * (masks ? describe : describe.skip)('VOC masks', () => { ... });
 * ```
 */
export function sharedPath(relative: string, whatIsSkipped?: string): string | undefined {
  const root = sharedDataRoot();
  const path = root ? join(root, relative) : undefined;
  if (path && existsSync(path)) return path;
  if (whatIsSkipped) {
    process.stderr.write(
      `[wsss] skipping ${whatIsSkipped}: ${relative} not found (set WSSS_DATA to the shared data folder)\n`,
    );
  }
  return undefined;
}
