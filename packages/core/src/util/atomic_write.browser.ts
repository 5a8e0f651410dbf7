/** Browser twin of atomic_write.ts: a page has no file system to write to. */
export async function writeFileAtomic(path: string, _data: Uint8Array | string): Promise<void> {
  throw new Error(
    `writeFileAtomic: writing files (${path}) needs Node.js; in a browser, keep the bytes (e.g. encodePng's) and offer them as a download`,
  );
}
