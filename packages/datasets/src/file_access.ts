import { access, readFile } from 'node:fs/promises';
import { join } from 'node:path';

/** How the dataset readers reach their files (Node: the file system); file_access.browser.ts is the browser's. */

/** True when `path` exists. */
export async function exists(path: string): Promise<boolean> {
  try {
    await access(path);
    return true;
  } catch {
    return false;
  }
}

/** A file's UTF-8 text. */
export async function readText(path: string): Promise<string> {
  return readFile(path, 'utf8');
}

/** A file's bytes. */
export async function readBytes(path: string): Promise<Uint8Array> {
  return new Uint8Array(await readFile(path));
}

/** Path segments joined in the platform's syntax. */
export function joinPath(...parts: string[]): string {
  return join(...parts);
}
