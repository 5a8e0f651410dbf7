import { writeFileAtomic } from '../util/atomic_write';
import { decodeBmp, isBmp } from './bmp';
import { readInputFile } from './read_input_file';
import type { RgbImage } from './types';

type Sharp = typeof import('sharp');

async function loadSharp(): Promise<Sharp> {
  return ((await import('sharp')) as unknown as { default: Sharp }).default;
}

/**
 * Decodes a JPEG, PNG, WebP, GIF, TIFF (through sharp) or uncompressed BMP file to 8-bit RGB (alpha dropped, grey expanded, palette resolved).
 * Throws an error naming the file when it is missing or cannot be decoded.
 *
 * ```ts
 * const img = await readImage('cat.jpg'); // { width, height, channels: 3, data: Uint8Array(w*h*3) }
 * ```
 */
export async function readImage(path: string): Promise<RgbImage> {
  return decodeImage(await readInputFile(path, 'readImage'), path);
}

/** Decodes encoded image bytes to RGB; `name` is used in error messages. */
export async function decodeImage(bytes: Uint8Array, name = '<buffer>'): Promise<RgbImage> {
  if (isBmp(bytes)) return decodeBmp(bytes, name);
  const sharp = await loadSharp();
  try {
    const { data, info } = await sharp(bytes, { failOn: 'error' })
      .removeAlpha()
      .toColourspace('srgb')
      .raw()
      .toBuffer({ resolveWithObject: true });
    if (info.channels !== 3) throw new Error(`decoded to ${info.channels} channels`);
    return {
      width: info.width,
      height: info.height,
      channels: 3,
      data: new Uint8Array(data.buffer, data.byteOffset, data.length),
    };
  } catch (err) {
    throw new Error(`decodeImage: cannot decode ${name}: ${(err as Error).message}`);
  }
}

/** Encodes interleaved 8-bit pixels (1, 3 or 4 channels) as PNG bytes. */
export async function encodePng(image: {
  width: number;
  height: number;
  channels: 1 | 3 | 4;
  data: Uint8Array;
}): Promise<Uint8Array> {
  const { width, height, channels, data } = image;
  if (data.length !== width * height * channels) {
    throw new Error(
      `encodePng: image.data has ${data.length} bytes, expected width*height*channels = ${width}*${height}*${channels}`,
    );
  }
  const sharp = await loadSharp();
  let pipeline = sharp(data, { raw: { width, height, channels } });
  if (channels === 1) pipeline = pipeline.toColourspace('b-w'); // otherwise libvips writes grey as RGB
  const png = await pipeline.png().toBuffer();
  return new Uint8Array(png.buffer, png.byteOffset, png.length);
}

/** Writes an 8-bit image as PNG, atomically (temp file + rename). */
export async function writePng(
  path: string,
  image: { width: number; height: number; channels: 1 | 3 | 4; data: Uint8Array },
): Promise<void> {
  await writeFileAtomic(path, await encodePng(image));
}
