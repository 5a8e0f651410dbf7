import { exists, readText } from './file_access';

export { exists, joinPath, readBytes, readText } from './file_access';

/** Fails with `<dataset>: <what> not found: <path>` unless `path` exists. */
export async function requirePath(dataset: string, what: string, path: string, hint = ''): Promise<void> {
  if (!(await exists(path)))
    throw new Error(`${dataset}: ${what} not found: ${path}${hint ? ` (${hint})` : ''}`);
}

/** Reads an id list: one id per line (only the first whitespace-separated field; psa's "a.jpg b.png" pairs give
 * the stem of the first path), blank lines skipped. */
export async function readIdList(dataset: string, path: string): Promise<string[]> {
  await requirePath(dataset, 'id list', path);
  const text = await readText(path);
  const ids: string[] = [];
  for (const line of text.split(/\r?\n/)) {
    const first = line.trim().split(/\s+/)[0];
    if (!first) continue;
    const base = first.slice(first.lastIndexOf('/') + 1);
    ids.push(base.replace(/\.(jpg|jpeg|png)$/i, ''));
  }
  if (ids.length === 0) throw new Error(`${dataset}: id list ${path} is empty`);
  return ids;
}
