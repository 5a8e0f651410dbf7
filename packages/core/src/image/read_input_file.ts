/** Reads a whole file, turning "no such file" into an error that names the caller and the path. */
export async function readInputFile(path: string, caller: string): Promise<Uint8Array> {
  const { readFile } = await import('node:fs/promises');
  try {
    return new Uint8Array(await readFile(path));
  } catch (err) {
    const code = (err as { code?: string }).code;
    if (code === 'ENOENT') throw new Error(`${caller}: file not found: ${path}`);
    if (code === 'EISDIR') throw new Error(`${caller}: expected a file, got a directory: ${path}`);
    throw new Error(`${caller}: cannot read ${path}: ${(err as Error).message}`);
  }
}
