import type { Pixels8, RgbImage } from './types';

type Sharp = typeof import('sharp');

async function loadSharp(): Promise<Sharp> {
  return ((await import('sharp')) as unknown as { default: Sharp }).default;
}

/** Decodes JPEG / PNG / WebP / GIF / TIFF bytes to 8-bit RGB with sharp (libvips). Throws on undecodable bytes. */
export async function decodeCompressed(bytes: Uint8Array): Promise<RgbImage> {
  const sharp = await loadSharp();
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
}

/** PNG bytes of interleaved 8-bit pixels (1, 3 or 4 channels; sizes checked by the caller), with sharp. */
export async function encodePngBytes(image: Pixels8): Promise<Uint8Array> {
  const { width, height, channels, data } = image;
  const sharp = await loadSharp();
  let pipeline = sharp(data, { raw: { width, height, channels } });
  if (channels === 1) pipeline = pipeline.toColourspace('b-w'); // otherwise libvips writes grey as RGB
  const png = await pipeline.png().toBuffer();
  return new Uint8Array(png.buffer, png.byteOffset, png.length);
}
