import { fetchBytes } from '@wsss/core';

/**
 * Browser twin of files.ts: a local path is a URL relative to the page, fetched; checkpoints (reading what is on
 * disk, removing files) need Node.js.
 */

export async function readLocalFile(
  path: string,
  what: string,
  onBytes?: (bytes: number) => void,
): Promise<Uint8Array> {
  return fetchBytes(path, { caller: 'loadWeights', what, onBytes });
}

export function joinPath(dir: string, file: string): string {
  return `${dir.replace(/\/$/, '')}/${file}`;
}

function nodeOnly(path: string): never {
  throw new Error(`checkpoints on disk (${path}) need Node.js; in a browser, train without checkpointDir`);
}

export function readTextIfExists(path: string): string | undefined {
  return nodeOnly(path);
}

export function removeFile(path: string): void {
  nodeOnly(path);
}
