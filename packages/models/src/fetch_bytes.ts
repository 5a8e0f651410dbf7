/**
 * A URL's bytes through `fetch`, reporting each chunk's size to `onBytes` as it arrives (a body stream where there
 * is one); errors name `what` and the URL.
 */
export async function fetchBytes(
  url: string,
  what: string,
  onBytes?: (bytes: number) => void,
): Promise<Uint8Array> {
  const response = await fetch(url).catch((err: Error) => {
    throw new Error(`loadWeights: cannot fetch ${what} ${url}: ${err.message}`);
  });
  if (!response.ok) throw new Error(`loadWeights: cannot fetch ${what} ${url}: HTTP ${response.status}`);
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
