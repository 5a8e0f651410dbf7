/**
 * A URL's bytes through `fetch` (pages, workers, and Node for http(s) URLs), reporting each chunk's size to `onBytes`
 * as it arrives (from the body stream where there is one). Errors say `${caller}: ${what} not found: url` (HTTP 404)
 * or `${caller}: cannot fetch ${what} url: ...`.
 */
export async function fetchBytes(
  url: string,
  options: { caller: string; what?: string; onBytes?: (bytes: number) => void },
): Promise<Uint8Array> {
  const { caller, what = 'file', onBytes } = options;
  const response = await fetch(url).catch((err: Error) => {
    throw new Error(`${caller}: cannot fetch ${what} ${url}: ${err.message}`);
  });
  if (response.status === 404) throw new Error(`${caller}: ${what} not found: ${url}`);
  if (!response.ok) throw new Error(`${caller}: cannot fetch ${what} ${url}: HTTP ${response.status}`);
  if (!onBytes || !response.body) {
    const bytes = new Uint8Array(await response.arrayBuffer());
    onBytes?.(bytes.length);
    return bytes;
  }
  const chunks: Uint8Array[] = [];
  let total = 0;
  const reader = response.body.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    chunks.push(value);
    total += value.length;
    onBytes(value.length);
  }
  const bytes = new Uint8Array(total);
  let offset = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, offset);
    offset += chunk.length;
  }
  return bytes;
}
