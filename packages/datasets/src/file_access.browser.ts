import { fetchBytes } from '@wsss/core';

/**
 * Browser twin of file_access.ts: a dataset root is a URL (relative to the page or absolute) of a folder served with
 * the dataset's layout, and its files are fetched.
 */

/**
 * A file exists when a HEAD request for it succeeds. A folder (no extension in its last segment) cannot be checked
 * over HTTP (servers differ: listing, 403, 404): it counts as present, and a missing one shows as its first missing
 * file.
 */
export async function exists(path: string): Promise<boolean> {
  if (!/\.[A-Za-z0-9]+$/.test(path.slice(path.lastIndexOf('/') + 1))) return true;
  try {
    return (await fetch(path, { method: 'HEAD' })).ok;
  } catch {
    return false;
  }
}

export async function readText(path: string): Promise<string> {
  return new TextDecoder().decode(await readBytes(path));
}

export async function readBytes(path: string): Promise<Uint8Array> {
  return fetchBytes(path, { caller: 'dataset' });
}

export function joinPath(...parts: string[]): string {
  return parts.map((p, i) => (i === 0 ? p.replace(/\/+$/, '') : p.replace(/^\/+|\/+$/g, ''))).join('/');
}
