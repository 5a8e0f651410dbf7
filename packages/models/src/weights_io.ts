import { fetchBytes, tf, writeFileAtomic } from '@wsss/core';
import { joinPath, readLocalFile, readTextIfExists, removeFile } from './files';
import type { Parameters } from './parameters';

/** One entry of a TF.js weights manifest. */
export type WeightSpec = tf.io.WeightsManifestEntry;

/** The `model.json` of a TF.js weights manifest, plus any metadata the writer added. */
export interface WeightsManifestJson {
  format?: string;
  weightsManifest: tf.io.WeightsManifestConfig;
  [metadata: string]: unknown;
}

export interface LoadedWeights {
  tensors: tf.NamedTensorMap;
  /** Everything in model.json besides the manifest (architecture notes, training state). */
  metadata: Record<string, unknown>;
}

function isUrl(location: string): boolean {
  return /^(https?|blob):/.test(location);
}

async function readBytes(
  location: string,
  what: string,
  onBytes?: (bytes: number) => void,
): Promise<Uint8Array> {
  return isUrl(location)
    ? fetchBytes(location, { caller: 'loadWeights', what, onBytes })
    : readLocalFile(location, what, onBytes);
}

export interface LoadWeightsOptions {
  /**
   * Called as the binary shards arrive (chunk by chunk over HTTP): bytes so far and the total the manifest
   * describes, e.g. for a progress bar while a page loads its weights.
   */
  onProgress?: (progress: { loadedBytes: number; totalBytes: number }) => void;
}

/** `dir` -> `dir/model.json`; a path or URL ending in .json is used as is. */
function manifestLocation(urlOrPath: string): string {
  if (urlOrPath.endsWith('.json')) return urlOrPath;
  if (isUrl(urlOrPath)) return `${urlOrPath.replace(/\/$/, '')}/model.json`;
  return joinPath(urlOrPath, 'model.json');
}

function sibling(manifest: string, file: string): string {
  return manifest.slice(0, manifest.lastIndexOf('/') + 1) + file;
}

/**
 * Loads the tensors of a TF.js weights manifest (`model.json` + binary shards) from a directory, a path to its
 * `model.json`, or a URL. Weights are never bundled with `@wsss/*`: users point this at their copy.
 *
 * ```ts
 * const { tensors } = await loadWeights('weights/mobilenet_v2_1.0_224');
 * tensors['MobilenetV2/Conv/kernel'].shape; // [3, 3, 3, 32]
 * ```
 */
export async function loadWeights(
  urlOrPath: string,
  options: LoadWeightsOptions = {},
): Promise<LoadedWeights> {
  const location = manifestLocation(urlOrPath);
  let json: WeightsManifestJson;
  try {
    json = JSON.parse(new TextDecoder().decode(await readBytes(location, 'manifest')));
  } catch (err) {
    if ((err as Error).message.startsWith('loadWeights:')) throw err;
    throw new Error(`loadWeights: ${location} is not valid JSON: ${(err as Error).message}`);
  }
  if (!Array.isArray(json.weightsManifest)) {
    throw new Error(
      `loadWeights: ${location} has no weightsManifest array (expected a TF.js weights manifest)`,
    );
  }
  const tensors: tf.NamedTensorMap = {};
  const totalBytes = json.weightsManifest.reduce(
    (n, group) => n + group.weights.reduce((m, w) => m + byteSize(w), 0),
    0,
  );
  let loadedBytes = 0;
  const onBytes = options.onProgress
    ? (bytes: number) => {
        loadedBytes += bytes;
        options.onProgress?.({ loadedBytes, totalBytes });
      }
    : undefined;
  for (const group of json.weightsManifest) {
    const shards = await Promise.all(
      group.paths.map((p) => readBytes(sibling(location, p), 'weights shard', onBytes)),
    );
    const total = shards.reduce((n, s) => n + s.length, 0);
    const buffer = new Uint8Array(total);
    let offset = 0;
    for (const s of shards) {
      buffer.set(s, offset);
      offset += s.length;
    }
    const expected = group.weights.reduce((n, w) => n + byteSize(w), 0);
    if (expected > total) {
      throw new Error(
        `loadWeights: shards of ${location} hold ${total} bytes, the manifest describes ${expected}`,
      );
    }
    Object.assign(tensors, tf.io.decodeWeights(buffer.buffer, group.weights));
  }
  const { weightsManifest: _, ...metadata } = json;
  return { tensors, metadata };
}

function byteSize(spec: WeightSpec): number {
  const count = spec.shape.reduce((a, b) => a * b, 1);
  if (spec.quantization)
    return count * (spec.quantization.dtype === 'uint16' || spec.quantization.dtype === 'float16' ? 2 : 1);
  return count * (spec.dtype === 'bool' ? 1 : 4);
}

/** The two names a manifest's binary alternates between (see {@link saveWeights}). */
const WEIGHT_FILES = ['weights.bin', 'weights-b.bin'] as const;

/**
 * Saves tensors as a TF.js weights manifest (`model.json` + its binary) in `dir`, atomically as a pair: the binary
 * goes to the one of `weights.bin` / `weights-b.bin` that the current manifest does not name, then the manifest
 * naming it replaces the old one (each through a temporary file and a rename), then the old binary is removed. A
 * process killed at any moment leaves a manifest and the binary it names, old or new, never a mix. `metadata`
 * goes into model.json (e.g. `{ step: 1200, rng: rng.state() }` for a checkpoint).
 */
export async function saveWeights(
  dir: string,
  tensors: tf.NamedTensorMap,
  metadata: Record<string, unknown> = {},
): Promise<void> {
  const manifest = joinPath(dir, 'model.json');
  let current: string | undefined;
  try {
    const text = readTextIfExists(manifest);
    current =
      text === undefined
        ? undefined
        : (JSON.parse(text) as WeightsManifestJson).weightsManifest?.[0]?.paths?.[0];
  } catch {
    current = undefined; // an unreadable manifest is replaced below
  }
  const file = current === WEIGHT_FILES[0] ? WEIGHT_FILES[1] : WEIGHT_FILES[0];
  const { data, specs } = await tf.io.encodeWeights(tensors);
  await writeFileAtomic(joinPath(dir, file), new Uint8Array(data));
  const json: WeightsManifestJson = {
    format: 'weights-manifest',
    ...metadata,
    weightsManifest: [{ paths: [file], weights: specs }],
  };
  await writeFileAtomic(manifest, JSON.stringify(json, null, 1));
  for (const other of WEIGHT_FILES) if (other !== file) removeFile(joinPath(dir, other));
}

/** Loads a weights manifest into a network's parameters (every parameter must be present) and frees the copies. */
export async function loadParameters(params: Parameters, urlOrPath: string): Promise<void> {
  const { tensors } = await loadWeights(urlOrPath);
  try {
    params.load(tensors, { strict: true });
  } finally {
    tf.dispose(Object.values(tensors));
  }
}
