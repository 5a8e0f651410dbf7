import { encode } from 'fast-png';
import type { Pixels8, RgbImage } from './types';

/**
 * Browser twin of codec.ts: decodes with the browser's own decoders (`createImageBitmap`, whatever formats the
 * browser reads) and reads the pixels back from an `OffscreenCanvas` without colour-space conversion or premultiplied
 * alpha; alpha is dropped. Works in pages and in workers.
 */
export async function decodeCompressed(bytes: Uint8Array): Promise<RgbImage> {
  if (typeof createImageBitmap !== 'function' || typeof OffscreenCanvas !== 'function')
    throw new Error('this environment has neither createImageBitmap nor OffscreenCanvas');
  const bitmap = await createImageBitmap(new Blob([bytes as Uint8Array<ArrayBuffer>]), {
    colorSpaceConversion: 'none',
    premultiplyAlpha: 'none',
  });
  const { width, height } = bitmap;
  const context = new OffscreenCanvas(width, height).getContext('2d');
  if (!context) throw new Error('no 2d context on an OffscreenCanvas');
  context.drawImage(bitmap, 0, 0);
  bitmap.close();
  const rgba = context.getImageData(0, 0, width, height).data;
  const data = new Uint8Array(width * height * 3);
  for (let i = 0, j = 0; i < data.length; i += 3, j += 4) {
    data[i] = rgba[j];
    data[i + 1] = rgba[j + 1];
    data[i + 2] = rgba[j + 2];
  }
  return { width, height, channels: 3, data };
}

/** Browser twin of codec.ts: PNG bytes with fast-png (pure JavaScript). */
export async function encodePngBytes(image: Pixels8): Promise<Uint8Array> {
  return encode({
    width: image.width,
    height: image.height,
    channels: image.channels,
    data: image.data,
    depth: 8,
  });
}
