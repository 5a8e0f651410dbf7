/**
 * Browser twin of file_access.ts: a dataset root is a URL (relative to the page or absolute) of a folder served with
 * the dataset's layout, and its files are fetched.
 */

async function fetched(path: string): Promise<Response> {
  const response = await fetch(path);
  if (!response.ok) throw new Error(`cannot fetch ${path}: HTTP ${response.status}`);
  return response;
}

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
  return (await fetched(path)).text();
}

export async function readBytes(path: string): Promise<Uint8Array> {
  return new Uint8Array(await (await fetched(path)).arrayBuffer());
}

export function joinPath(...parts: string[]): string {
  return parts.map((p, i) => (i === 0 ? p.replace(/\/+$/, '') : p.replace(/^\/+|\/+$/g, ''))).join('/');
}
