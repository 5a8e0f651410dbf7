/**
 * Browser twin of read_input_file.ts: reads a whole file from a URL (relative to the page) with `fetch`, turning a
 * failed request into an error that names the caller and the URL.
 */
export async function readInputFile(path: string, caller: string): Promise<Uint8Array> {
  let response: Response;
  try {
    response = await fetch(path);
  } catch (err) {
    throw new Error(`${caller}: cannot fetch ${path}: ${(err as Error).message}`);
  }
  if (response.status === 404) throw new Error(`${caller}: file not found: ${path}`);
  if (!response.ok) throw new Error(`${caller}: cannot fetch ${path}: HTTP ${response.status}`);
  return new Uint8Array(await response.arrayBuffer());
}
