import { writeFileAtomic } from '../util/atomic_write';
import { decodeBmp, isBmp } from './bmp';
import { decodeCompressed, encodePngBytes } from './codec';
import { readInputFile } from './read_input_file';
import type { Pixels8, RgbImage } from './types';

/**
 * Decodes a JPEG, PNG, WebP, GIF, TIFF (through sharp; in a browser, what the browser decodes) or uncompressed BMP
 * file to 8-bit RGB (alpha dropped, grey expanded, palette resolved). In a browser `path` is a URL, fetched.
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
  try {
    return await decodeCompressed(bytes);
  } catch (err) {
    throw new Error(`decodeImage: cannot decode ${name}: ${(err as Error).message}`);
  }
}

/** Encodes interleaved 8-bit pixels (1, 3 or 4 channels) as PNG bytes. */
export async function encodePng(image: Pixels8): Promise<Uint8Array> {
  const { width, height, channels, data } = image;
  if (data.length !== width * height * channels) {
    throw new Error(
      `encodePng: image.data has ${data.length} bytes, expected width*height*channels = ${width}*${height}*${channels}`,
    );
  }
  return encodePngBytes(image);
}

/** Writes an 8-bit image as PNG, atomically (temp file + rename). Node only. */
export async function writePng(path: string, image: Pixels8): Promise<void> {
  await writeFileAtomic(path, await encodePng(image));
}
