import { existsSync, readFileSync, rmSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';

/** The file system access of weights and checkpoints (Node); files.browser.ts is the browser's. */

/** A local file's bytes; the error says `what` and whether it is missing or unreadable. */
export async function readLocalFile(
  path: string,
  what: string,
  onBytes?: (bytes: number) => void,
): Promise<Uint8Array> {
  try {
    const bytes = new Uint8Array(await readFile(path));
    onBytes?.(bytes.length);
    return bytes;
  } catch (err) {
    const code = (err as { code?: string }).code;
    throw new Error(`loadWeights: ${what} ${code === 'ENOENT' ? 'not found' : 'unreadable'}: ${path}`);
  }
}

/** `dir/file` in the platform's path syntax. */
export function joinPath(dir: string, file: string): string {
  return join(dir, file);
}

/** A UTF-8 file's text, or undefined when it does not exist. */
export function readTextIfExists(path: string): string | undefined {
  return existsSync(path) ? readFileSync(path, 'utf8') : undefined;
}

/** Removes a file if it is there. */
export function removeFile(path: string): void {
  rmSync(path, { force: true });
}
