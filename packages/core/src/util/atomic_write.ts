/**
 * Writes `data` to `path` without ever leaving a half-written file: the bytes go to a temporary file in the same
 * directory, which is then renamed over `path` (rename is atomic on one file system). Parent directories are created.
 * Node only.
 */
export async function writeFileAtomic(path: string, data: Uint8Array | string): Promise<void> {
  const { mkdir, rename, rm, writeFile } = await import('node:fs/promises');
  const { dirname } = await import('node:path');
  await mkdir(dirname(path), { recursive: true });
  const tmp = `${path}.tmp-${process.pid}-${Math.random().toString(36).slice(2)}`;
  try {
    await writeFile(tmp, data);
    await rename(tmp, path);
  } catch (err) {
    await rm(tmp, { force: true });
    throw err;
  }
}
