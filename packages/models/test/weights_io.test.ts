import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { selectBackend, tf } from '@wsss/core';
import { loadWeights, saveWeights } from '@wsss/models';

describe('loadWeights progress', () => {
  const dir = mkdtempSync(join(tmpdir(), 'wsss-weights-'));
  // 40,000 floats: 160,000 bytes, several chunks over HTTP
  beforeAll(async () => {
    await selectBackend({ preference: 'cpu', log: null });
    const tensors = { a: tf.range(0, 30000), b: tf.ones([100, 100]) };
    await saveWeights(dir, tensors, { note: 'progress' });
    tf.dispose(Object.values(tensors));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('reports the bytes of the shards up to the manifest total, from a folder and over HTTP', async () => {
    const server = createServer((req, res) => {
      try {
        const body = readFileSync(join(dir, (req.url ?? '/').slice(1)));
        res.writeHead(200, { 'content-length': body.length });
        // two writes: the client sees more than one chunk
        res.write(body.subarray(0, body.length >> 1));
        setTimeout(() => res.end(body.subarray(body.length >> 1)), 20);
      } catch {
        res.writeHead(404).end();
      }
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    try {
      for (const location of [dir, url]) {
        const seen: { loadedBytes: number; totalBytes: number }[] = [];
        const { tensors: loaded, metadata } = await loadWeights(location, {
          onProgress: (p) => seen.push(p),
        });
        expect(metadata.note).toBe('progress');
        expect(seen.at(-1)).toEqual({ loadedBytes: 160000, totalBytes: 160000 });
        expect(seen.every((p, i) => i === 0 || p.loadedBytes > seen[i - 1].loadedBytes)).toBe(true);
        if (location === url) expect(seen.length).toBeGreaterThan(1);
        expect(Array.from(loaded.a.dataSync().slice(0, 3))).toEqual([0, 1, 2]);
        tf.dispose(Object.values(loaded));
      }
    } finally {
      server.close();
    }
  });
});
