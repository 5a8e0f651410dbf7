/**
 * The demo page in headless Chromium (Debian's chromium, driven by puppeteer-core; WebGPU through SwiftShader): it
 * loads, runs a photo on wasm and on webgpu, and its label maps equal Node's on the same photo (the page's
 * computation run here on wasm); its benchmark mode runs wsss bench's kernels. With ../shared: the ImageNet weights
 * and cat.bmp; without: seeded random MobileNetV2 weights and a synthetic PNG, served the same way. Screenshots go to
 * artifacts/. Skips, saying why, without chromium or the packages' browser builds (`pnpm build`).
 */
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { BENCH_CASES } from '@wsss/cli/bench';
import { encodePng, readImage, selectBackend } from '@wsss/core';
import { sharedPath } from '@wsss/core/testing';
import { createSyntheticDataset } from '@wsss/datasets';
import { MobileNetV2, saveWeights } from '@wsss/models';
import puppeteer, { type Browser } from 'puppeteer-core';
// @ts-expect-error: plain JavaScript build script, no declarations
import { buildPage } from '../build.mjs';
// @ts-expect-error: plain JavaScript server, no declarations
import { servePage } from '../serve.mjs';
import { loadPhotoNetworks, type PhotoOptions, segmentPhoto } from '../src/photo_segmentation';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..', '..', '..');
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const sharedWeights = sharedPath('weights/mobilenet_v2_1.0_224');
const sharedPhoto = sharedPath('images/cat.bmp');
const withShared = Boolean(sharedWeights && sharedPhoto);
const built = ['core', 'cam', 'crf', 'affinity', 'models', 'datasets'].every((p) =>
  existsSync(join(root, 'packages', p, 'dist', 'browser', 'index.js')),
);
const reason = !existsSync(CHROMIUM)
  ? `no chromium at ${CHROMIUM} (apt-get install chromium, or set CHROMIUM_PATH)`
  : !built
    ? 'the packages have no browser builds (run pnpm build)'
    : undefined;
if (reason) process.stderr.write(`[wsss] skipping the browser demo page test: ${reason}\n`);

// small and single-scale: WebGPU on SwiftShader runs on the CPU
const OPTIONS: PhotoOptions = { maxSide: 160, scales: [1], flip: false };
const PHOTO = withShared ? 'cat.bmp' : 'synthetic.png';
const QUERY = `image=./images/${PHOTO}&auto=1&maxSide=160&scales=1&flip=0`;

/** The folder served as the shared data: ../shared, or seeded random weights and a synthetic photo. */
async function dataFolder(): Promise<string> {
  if (withShared) return dirname(dirname(sharedWeights!));
  const dir = mkdtempSync(join(tmpdir(), 'wsss-page-'));
  const net = new MobileNetV2({ includeTop: true, seed: 7 });
  await saveWeights(join(dir, 'weights', 'mobilenet_v2_1.0_224'), net.params.toNamedTensors());
  net.dispose();
  const sample = await createSyntheticDataset({ size: 1, seed: 2, height: 120, width: 160 }).get(0);
  mkdirSync(join(dir, 'images'));
  writeFileSync(join(dir, 'images', PHOTO), await encodePng(sample.image));
  return dir;
}

interface PageResult {
  backend: string;
  classes: { value: number; name: string }[];
  camMax: number[];
  labels: { cam: number[]; crf: number[]; walk: number[] };
}

function agreement(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let same = 0;
  for (let i = 0; i < a.length; i++) if (a[i] === b[i]) same++;
  return same / a.length;
}

(reason ? describe.skip : describe)('browser demo page (headless Chromium)', () => {
  let browser: Browser;
  let server: { url: string; close: () => Promise<void> };
  let data: string;
  beforeAll(async () => {
    await buildPage();
    data = await dataFolder();
    server = await servePage({ port: 0, shared: data });
    browser = await puppeteer.launch({
      executablePath: CHROMIUM,
      headless: true,
      args: [
        '--no-sandbox',
        '--enable-unsafe-webgpu',
        '--enable-features=Vulkan',
        '--use-vulkan=swiftshader',
        '--use-webgpu-adapter=swiftshader',
        '--use-angle=swiftshader',
        '--disable-vulkan-surface',
      ],
      env: { ...process.env, VK_ICD_FILENAMES: '/usr/lib/chromium/vk_swiftshader_icd.json' },
    });
  }, 120_000);
  afterAll(async () => {
    await browser?.close();
    await server?.close();
    if (!withShared && data) rmSync(data, { recursive: true, force: true });
  });

  let node: Awaited<ReturnType<typeof segmentPhoto>>;
  beforeAll(async () => {
    await selectBackend({ preference: 'wasm', log: null });
    const nets = await loadPhotoNetworks(join(data, 'weights', 'mobilenet_v2_1.0_224'));
    node = await segmentPhoto(await readImage(join(data, 'images', PHOTO)), nets, OPTIONS);
    nets.dispose();
    await selectBackend({ preference: 'cpu', log: null });
  }, 300_000);

  it.each(['wasm', 'webgpu'])(
    'runs a photo on %s and gives Node’s label maps',
    async (backend) => {
      const page = await browser.newPage();
      const errors: string[] = [];
      page.on('pageerror', (e) => errors.push(String(e)));
      await page.goto(`${server.url}?backend=${backend}&${QUERY}`);
      await page.waitForFunction(() => (globalThis as { wsssDemo?: { done: boolean } }).wsssDemo?.done, {
        timeout: 300_000,
        polling: 500,
      });
      const state = (await page.evaluate(() => {
        const s = (globalThis as unknown as { wsssDemo: { error?: string; result?: unknown } }).wsssDemo;
        return { error: s.error, result: s.result };
      })) as { error?: string; result?: PageResult };
      mkdirSync(join(root, 'artifacts'), { recursive: true });
      await page.screenshot({ path: join(root, 'artifacts', `browser-demo-${backend}.png`), fullPage: true });
      await page.close();
      expect(errors).toEqual([]);
      expect(state.error).toBeUndefined();
      const result = state.result!;
      expect(result.backend).toBe(backend);
      expect(result.classes.map((c) => c.name)).toEqual(node.classes.map((c) => c.name));
      let err = 0;
      for (let i = 0; i < node.camMax.length; i++)
        err = Math.max(err, Math.abs(result.camMax[i] - node.camMax[i]));
      expect(err).toBeLessThan(1e-3);
      for (const kind of ['cam', 'crf', 'walk'] as const)
        expect(agreement(result.labels[kind], node.labels[kind].data)).toBeGreaterThan(0.99);
    },
    300_000,
  );

  it('runs wsss bench’s kernels in the page (its benchmark mode, small shapes, wasm)', async () => {
    const page = await browser.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(String(e)));
    await page.goto(`${server.url}?backend=wasm&bench=small&runs=1`);
    await page.waitForFunction(() => (globalThis as { wsssDemo?: { done: boolean } }).wsssDemo?.done, {
      timeout: 300_000,
      polling: 500,
    });
    const state = (await page.evaluate(() => {
      const s = (globalThis as unknown as { wsssDemo: { error?: string; bench?: unknown } }).wsssDemo;
      return { error: s.error, bench: s.bench };
    })) as { error?: string; bench?: { op: string; backend: string; medianMs: number }[] };
    mkdirSync(join(root, 'artifacts'), { recursive: true });
    await page.screenshot({ path: join(root, 'artifacts', 'browser-bench-wasm.png'), fullPage: true });
    await page.close();
    expect(errors).toEqual([]);
    expect(state.error).toBeUndefined();
    expect(state.bench!.map((r) => r.op)).toEqual(BENCH_CASES.map((c) => c.op));
    for (const r of state.bench!) {
      expect(r.medianMs).toBeGreaterThan(0);
      expect(r.backend).toMatch(/^(wasm|own kernel, 1 thread)$/);
    }
  }, 300_000);
});
