import { decode, encode } from 'fast-png';
import { writeFileAtomic } from '../util/atomic_write';
import { vocPalette } from './palette';
import { readInputFile } from './read_input_file';
import type { LabelMap } from './types';

/**
 * Reads a label PNG as raw class indices. Palette PNGs (VOC `SegmentationClass*`) give their palette indices, 8-bit
 * grey PNGs (CamVid) their values; RGB PNGs coloured with `palette` (default VOC) are mapped back to indices.
 * (sharp expands palettes to RGB, which is why this uses a PNG decoder that keeps indices.)
 */
export async function readLabelPng(path: string, palette: Uint8Array = vocPalette()): Promise<LabelMap> {
  return decodeLabelPng(await readInputFile(path, 'readLabelPng'), path, palette);
}

/** Decodes PNG bytes to a label map; see `readLabelPng`. `name` is used in error messages. */
export function decodeLabelPng(
  bytes: Uint8Array,
  name = '<buffer>',
  palette: Uint8Array = vocPalette(),
): LabelMap {
  let png: ReturnType<typeof decode>;
  try {
    png = decode(bytes);
  } catch (err) {
    throw new Error(`readLabelPng: cannot decode ${name} as PNG: ${(err as Error).message}`);
  }
  const { width, height, channels, depth } = png;
  if (depth !== 8 && !(png.palette && depth < 8)) {
    throw new Error(`readLabelPng: ${name} has bit depth ${depth}; expected an 8-bit palette or grey PNG`);
  }
  if (png.palette || channels === 1) {
    return { width, height, data: unpackIndices(png.data as Uint8Array, width, height, depth) };
  }
  if (channels === 3 || channels === 4)
    return { width, height, data: rgbToIndices(png.data as Uint8Array, channels, palette, name) };
  throw new Error(`readLabelPng: ${name} has ${channels} channels; expected a palette, grey or RGB PNG`);
}

function unpackIndices(data: Uint8Array, width: number, height: number, depth: number): Uint8Array {
  if (depth === 8) return data.length === width * height ? data : data.slice(0, width * height);
  const out = new Uint8Array(width * height);
  const perByte = 8 / depth;
  const rowBytes = Math.ceil(width / perByte);
  const mask = (1 << depth) - 1;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const byte = data[y * rowBytes + Math.floor(x / perByte)];
      out[y * width + x] = (byte >> (8 - depth * ((x % perByte) + 1))) & mask;
    }
  }
  return out;
}

function rgbToIndices(data: Uint8Array, channels: number, palette: Uint8Array, name: string): Uint8Array {
  const lookup = new Map<number, number>();
  for (let i = palette.length / 3 - 1; i >= 0; i--) {
    lookup.set((palette[3 * i] << 16) | (palette[3 * i + 1] << 8) | palette[3 * i + 2], i);
  }
  const n = data.length / channels;
  const out = new Uint8Array(n);
  for (let p = 0; p < n; p++) {
    const key = (data[p * channels] << 16) | (data[p * channels + 1] << 8) | data[p * channels + 2];
    const index = lookup.get(key);
    if (index === undefined) {
      throw new Error(
        `readLabelPng: ${name} is an RGB PNG with colour (${data[p * channels]},${data[p * channels + 1]},` +
          `${data[p * channels + 2]}) at pixel ${p}, which is not in the palette`,
      );
    }
    out[p] = index;
  }
  return out;
}

/** Encodes a label map as an 8-bit palette PNG (default palette: VOC), the format of VOC ground truth. */
export function encodeLabelPng(map: LabelMap, palette: Uint8Array = vocPalette()): Uint8Array {
  if (map.data.length !== map.width * map.height) {
    throw new Error(
      `encodeLabelPng: map.data has ${map.data.length} values, expected width*height = ${map.width}*${map.height}`,
    );
  }
  const colours: [number, number, number][] = [];
  for (let i = 0; i < palette.length / 3; i++)
    colours.push([palette[3 * i], palette[3 * i + 1], palette[3 * i + 2]]);
  return encode({
    width: map.width,
    height: map.height,
    data: map.data,
    depth: 8,
    channels: 1,
    palette: colours,
  });
}

/** Writes a label map as a palette PNG, atomically (temp file + rename). */
export async function writeLabelPng(path: string, map: LabelMap, palette?: Uint8Array): Promise<void> {
  await writeFileAtomic(path, encodeLabelPng(map, palette));
}
