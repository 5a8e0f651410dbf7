/**
 * The demo page: pick or drop a photo, see its CAMs and their CRF and random-walk refinements side by side, with the
 * backend (webgpu > wasm > cpu, or `?backend=`) and the time of each step. `?image=URL&auto=1` runs one image on
 * load and leaves its result in `window.wsssDemo` (the page's test reads it).
 */
import '@tensorflow/tfjs-backend-webgpu';
import { camOverlay } from '@wsss/cam';
import { BENCH_CASES, type BenchSize, time } from '@wsss/cli/bench';
import {
  type BackendName,
  type LabelMap,
  type RgbImage,
  readImage,
  selectBackend,
  vocPalette,
} from '@wsss/core';
import { loadPhotoNetworks, type PhotoOptions, type PhotoResult, segmentPhoto } from './photo_segmentation';

const params = new URLSearchParams(location.search);
const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;
const SAMPLES = [
  'cat.bmp',
  'bird.bmp',
  'dragonfly.bmp',
  'grace_hopper.bmp',
  'pets.jpg',
  'parrot.jpg',
  'owl.jpg',
];

interface DemoState {
  backend?: string;
  done: boolean;
  error?: string;
  /** `?bench=small|standard`: wsss bench's kernels timed in this page. */
  bench?: {
    op: string;
    shape: string;
    backend: string;
    medianMs: number;
    q1Ms: number;
    q3Ms: number;
    runs: number;
  }[];
  result?: {
    backend: string;
    classes: PhotoResult['classes'];
    width: number;
    height: number;
    ms: PhotoResult['ms'];
    camMax: number[];
    labels: { cam: number[]; crf: number[]; walk: number[] };
  };
}
const state: DemoState = { done: false };
(globalThis as unknown as { wsssDemo: DemoState }).wsssDemo = state;

function status(message: string, fraction?: number) {
  $('message').textContent = message;
  const bar = $<HTMLProgressElement>('progress');
  if (fraction === undefined) bar.removeAttribute('value');
  else bar.value = fraction;
}

/** An RGB image as a captioned canvas in the panels. */
function draw(title: string, image: RgbImage) {
  const canvas = document.createElement('canvas');
  canvas.width = image.width;
  canvas.height = image.height;
  const context = canvas.getContext('2d')!;
  const rgba = context.createImageData(image.width, image.height);
  for (let i = 0; i < image.width * image.height; i++) {
    rgba.data.set(image.data.subarray(3 * i, 3 * i + 3), 4 * i);
    rgba.data[4 * i + 3] = 255;
  }
  context.putImageData(rgba, 0, 0);
  const figure = document.createElement('figure');
  const caption = document.createElement('figcaption');
  caption.textContent = title;
  figure.append(canvas, caption);
  $('panels').append(figure);
}

/** A label map blended over the photo (VOC colours, background left as is). */
function overlay(image: RgbImage, labels: LabelMap): RgbImage {
  const palette = vocPalette();
  const data = Uint8Array.from(image.data);
  for (let i = 0; i < labels.data.length; i++) {
    const v = labels.data[i];
    if (v === 0 || v === 255) continue;
    for (let c = 0; c < 3; c++) data[3 * i + c] = (image.data[3 * i + c] + palette[3 * v + c]) >> 1;
  }
  return { ...image, data };
}

async function startBackend(): Promise<string> {
  const choice = params.get('backend') ?? 'auto';
  const order: BackendName[] = choice === 'auto' ? ['webgpu', 'wasm', 'cpu'] : [choice as BackendName];
  const { name } = await selectBackend({ preference: order, wasmPaths: './wasm/', log: null });
  $('backend').textContent = name;
  state.backend = name;
  return name;
}

const options: PhotoOptions = {
  maxSide: Number(params.get('maxSide') ?? 320),
  scales: (params.get('scales') ?? '1,0.5,1.5').split(',').map(Number),
  flip: params.get('flip') !== '0',
};

/** wsss bench's kernels (`@wsss/cli/bench`) on the page's backend: the browser variant of the same harness. */
async function benchmark(backend: string, size: BenchSize, runs: number) {
  const rows: NonNullable<DemoState['bench']> = [];
  $('panels').replaceChildren();
  for (const [i, c] of BENCH_CASES.entries()) {
    status(`benchmark (${size}): ${c.op}`, i / BENCH_CASES.length);
    const run = c.setup(size, { threads: 1 });
    try {
      const t = await time(run.run, runs, 1);
      rows.push({
        op: c.op,
        shape: c.shape(size),
        backend: c.backendIndependent ? 'own kernel, 1 thread' : backend,
        ...t,
      });
    } finally {
      run.dispose();
    }
  }
  $('timings').innerHTML =
    '<tr><th>op</th><th>shape</th><th>backend</th><th>median ms</th><th>IQR ms</th><th>runs</th></tr>' +
    rows
      .map(
        (r) =>
          `<tr><td>${r.op}</td><td>${r.shape}</td><td>${r.backend}</td><td class="ms">${r.medianMs.toFixed(1)}</td>` +
          `<td class="ms">${r.q1Ms.toFixed(1)}-${r.q3Ms.toFixed(1)}</td><td class="ms">${r.runs}</td></tr>`,
      )
      .join('');
  status(`benchmark (${size}): done`, 1);
  return rows;
}

async function main() {
  const backend = await startBackend();
  const benchSize = params.get('bench');
  $('bench').addEventListener('click', () => benchmark(backend, 'small', 5).catch(fail));
  if (benchSize === 'small' || benchSize === 'standard') {
    state.bench = await benchmark(backend, benchSize, Number(params.get('runs') ?? 5));
    state.done = true;
    return;
  }
  status('loading the ImageNet MobileNetV2 weights', 0);
  const weights = params.get('weights') ?? './weights/mobilenet_v2_1.0_224';
  const nets = await loadPhotoNetworks(weights, ({ loadedBytes, totalBytes }) =>
    status(
      `loading weights: ${(loadedBytes / 1e6).toFixed(1)} / ${(totalBytes / 1e6).toFixed(1)} MB`,
      loadedBytes / totalBytes,
    ),
  );
  status('ready: pick, drop or run a sample', 1);

  const run = async (image: RgbImage, name: string) => {
    $('panels').replaceChildren();
    $('timings').replaceChildren();
    const result = await segmentPhoto(image, nets, options, (step) => status(`${name}: ${step}`));
    const { image: shown, labels, ms, classes } = result;
    $('classes').textContent =
      `classes: ${classes.map((c) => `${c.name} ${c.probability.toFixed(2)}`).join(', ')}`;
    draw('photo', shown);
    draw('CAM (max over classes)', camOverlay(shown, result.camMax));
    draw('CAM labels', overlay(shown, labels.cam));
    draw('dense CRF', overlay(shown, labels.crf));
    draw('random walk', overlay(shown, labels.walk));
    $('timings').innerHTML =
      `<tr><th>step (${backend})</th><th>ms</th></tr>` +
      Object.entries(ms)
        .map(([step, t]) => `<tr><td>${step}</td><td class="ms">${t.toFixed(0)}</td></tr>`)
        .join('');
    status(`${name}: done`, 1);
    return result;
  };
  const runUrl = async (url: string) => run(await readImage(url), url.slice(url.lastIndexOf('/') + 1));

  const sample = $<HTMLSelectElement>('sample');
  for (const file of SAMPLES) sample.add(new Option(file, `./images/${file}`));
  $('run').addEventListener('click', () => runUrl(sample.value).catch(fail));
  const fromFile = async (file: File) => runUrl(URL.createObjectURL(file)).catch(fail);
  $<HTMLInputElement>('file').addEventListener('change', (e) => {
    const file = (e.target as HTMLInputElement).files?.[0];
    if (file) void fromFile(file);
  });
  const drop = $('drop');
  drop.addEventListener('dragover', (e) => {
    e.preventDefault();
    drop.classList.add('over');
  });
  drop.addEventListener('dragleave', () => drop.classList.remove('over'));
  drop.addEventListener('drop', (e) => {
    e.preventDefault();
    drop.classList.remove('over');
    const file = e.dataTransfer?.files[0];
    if (file) void fromFile(file);
  });

  const auto = params.get('image');
  if (auto && params.get('auto') === '1') {
    const result = await runUrl(auto);
    state.result = {
      backend,
      classes: result.classes,
      width: result.image.width,
      height: result.image.height,
      ms: result.ms,
      camMax: Array.from(result.camMax),
      labels: {
        cam: Array.from(result.labels.cam.data),
        crf: Array.from(result.labels.crf.data),
        walk: Array.from(result.labels.walk.data),
      },
    };
    state.done = true;
  }
}

function fail(error: unknown) {
  const message = error instanceof Error ? `${error.message}\n${error.stack}` : String(error);
  state.error = message;
  state.done = true;
  status(`error: ${message}`);
}

main().catch(fail);
