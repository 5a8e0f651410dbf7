import { fetchBytes } from '../util/fetch_bytes';

/** Browser twin of read_input_file.ts: reads a whole file from a URL (relative to the page) with `fetch`. */
export async function readInputFile(path: string, caller: string): Promise<Uint8Array> {
  return fetchBytes(path, { caller });
}
