import type { RgbImage } from './types';

/** True when the bytes start with the BMP signature "BM". */
export function isBmp(bytes: Uint8Array): boolean {
  return bytes.length >= 2 && bytes[0] === 0x42 && bytes[1] === 0x4d;
}

/**
 * Decodes an uncompressed Windows bitmap (8-bit palette, 24-bit, or 32-bit BI_RGB/BI_BITFIELDS; bottom-up or
 * top-down) to RGB. sharp's prebuilt libvips has no BMP loader, and BMP is common among classic demo images.
 */
export function decodeBmp(bytes: Uint8Array, name = '<buffer>'): RgbImage {
  const fail = (why: string): never => {
    throw new Error(`decodeImage: cannot decode ${name} as BMP: ${why}`);
  };
  if (!isBmp(bytes) || bytes.length < 54) fail('missing BMP header');
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const dataOffset = view.getUint32(10, true);
  const headerSize = view.getUint32(14, true);
  const width = view.getInt32(18, true);
  const rawHeight = view.getInt32(22, true);
  const bpp = view.getUint16(28, true);
  const compression = view.getUint32(30, true);
  const height = Math.abs(rawHeight);
  const topDown = rawHeight < 0;
  if (width <= 0 || height === 0) fail(`invalid size ${width}x${rawHeight}`);
  if (![8, 24, 32].includes(bpp)) fail(`unsupported bit depth ${bpp} (8, 24 and 32 are supported)`);
  if (!(compression === 0 || (compression === 3 && bpp === 32)))
    fail(`unsupported compression ${compression}`);
  const stride = Math.ceil((width * bpp) / 32) * 4;
  if (dataOffset + stride * height > bytes.length) fail('file is truncated');

  let masks = [0x00ff0000, 0x0000ff00, 0x000000ff];
  if (compression === 3) {
    const at = headerSize >= 52 ? 54 : 14 + headerSize;
    masks = [view.getUint32(at, true), view.getUint32(at + 4, true), view.getUint32(at + 8, true)];
  }
  const paletteAt = 14 + headerSize;
  const out = new Uint8Array(width * height * 3);
  for (let y = 0; y < height; y++) {
    const row = dataOffset + (topDown ? y : height - 1 - y) * stride;
    for (let x = 0; x < width; x++) {
      const o = (y * width + x) * 3;
      if (bpp === 24) {
        out[o] = bytes[row + 3 * x + 2];
        out[o + 1] = bytes[row + 3 * x + 1];
        out[o + 2] = bytes[row + 3 * x];
      } else if (bpp === 32) {
        const v = view.getUint32(row + 4 * x, true);
        for (let c = 0; c < 3; c++) out[o + c] = extract(v, masks[c]);
      } else {
        const p = paletteAt + 4 * bytes[row + x];
        out[o] = bytes[p + 2];
        out[o + 1] = bytes[p + 1];
        out[o + 2] = bytes[p];
      }
    }
  }
  return { width, height, channels: 3, data: out };
}

function extract(value: number, mask: number): number {
  if (mask === 0) return 0;
  let shift = 0;
  while (((mask >>> shift) & 1) === 0) shift++;
  const max = mask >>> shift;
  return Math.round((((value & mask) >>> shift) * 255) / max);
}
