#!/usr/bin/env node
/**
 * Serves the built demo page (dist/) on localhost, with the ImageNet MobileNetV2 weights under /weights/ and sample
 * photos under /images/ from the shared data folder (WSSS_DATA, else ../shared next to the repository): weights are
 * never part of the page. Cross-origin isolated (COOP + COEP), so SharedArrayBuffer is available.
 *
 *   node serve.mjs [--port 8080]
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { createServer } from 'node:http';
import { dirname, extname, join, normalize, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const TYPES = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.map': 'application/json',
  '.json': 'application/json',
  '.wasm': 'application/wasm',
  '.bin': 'application/octet-stream',
  '.bmp': 'image/bmp',
  '.jpg': 'image/jpeg',
  '.png': 'image/png',
};

/** The shared data folder: WSSS_DATA, else ../shared beside the repository. */
export function sharedFolder() {
  return resolve(process.env.WSSS_DATA ?? join(here, '..', '..', '..', 'shared'));
}

/** Starts the server; resolves to its URL and a close function. Port 0 picks a free one. */
export function servePage({ port = 8080, dist = join(here, 'dist'), shared = sharedFolder() } = {}) {
  const roots = [
    ['/weights/', join(shared, 'weights')],
    ['/images/', join(shared, 'images')],
    ['/', dist],
  ];
  const server = createServer((req, res) => {
    const path = decodeURIComponent(new URL(req.url ?? '/', 'http://localhost').pathname);
    const [prefix, root] = roots.find(([p]) => path.startsWith(p));
    let file = normalize(join(root, path.slice(prefix.length)));
    if (!file.startsWith(root)) return res.writeHead(403).end();
    if (existsSync(file) && statSync(file).isDirectory()) file = join(file, 'index.html');
    if (!existsSync(file)) return res.writeHead(404).end(`not found: ${path}`);
    const body = readFileSync(file);
    res.writeHead(200, {
      'content-type': TYPES[extname(file)] ?? 'application/octet-stream',
      'content-length': body.length,
      'cross-origin-opener-policy': 'same-origin',
      'cross-origin-embedder-policy': 'require-corp',
    });
    res.end(body);
  });
  return new Promise((resolveServer) => {
    server.listen(port, '127.0.0.1', () => {
      const url = `http://127.0.0.1:${server.address().port}/`;
      resolveServer({ url, close: () => new Promise((done) => server.close(() => done())) });
    });
  });
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const at = process.argv.indexOf('--port');
  const { url } = await servePage({ port: at > 0 ? Number(process.argv[at + 1]) : 8080 });
  console.log(`demo page at ${url} (weights and photos from ${sharedFolder()}); Ctrl-C stops it`);
}
