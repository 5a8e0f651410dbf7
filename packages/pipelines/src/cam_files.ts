import { readFile } from 'node:fs/promises';
import { writeFileAtomic } from '@wsss/core';

/**
 * CAMs of one image on disk: a JSON header line (`width`, `height`, `classValues` of the stored channels), then the
 * maps [H, W, K] quantised to 16 bits (values in [0, 1]; quantisation error < 8e-6).
 */
export interface CamFile {
  width: number;
  height: number;
  /** Mask value of each stored channel (the classes present in the image). */
  classValues: number[];
  /** [H, W, K] pixel-major, values in [0, 1]. */
  data: Float32Array;
}

export async function writeCamFile(path: string, cams: CamFile): Promise<void> {
  const header = new TextEncoder().encode(
    `${JSON.stringify({ width: cams.width, height: cams.height, classValues: cams.classValues })}\n`,
  );
  const padded = Math.ceil(header.length / 2) * 2;
  const bytes = new Uint8Array(padded + cams.data.length * 2);
  bytes.fill(0x20, header.length, padded); // spaces keep the 16-bit data aligned
  bytes.set(header);
  const values = new Uint16Array(bytes.buffer, padded, cams.data.length);
  for (let i = 0; i < cams.data.length; i++)
    values[i] = Math.round(Math.min(1, Math.max(0, cams.data[i])) * 65535);
  await writeFileAtomic(path, bytes);
}

export async function readCamFile(path: string): Promise<CamFile> {
  const bytes = new Uint8Array(await readFile(path));
  const end = bytes.indexOf(10);
  if (end < 0) throw new Error(`readCamFile: ${path} has no header line`);
  const header = JSON.parse(new TextDecoder().decode(bytes.subarray(0, end)));
  const start = Math.ceil((end + 1) / 2) * 2;
  const count = header.width * header.height * header.classValues.length;
  if (bytes.length - start !== count * 2) {
    throw new Error(
      `readCamFile: ${path} should hold ${count} values after its header, holds ${(bytes.length - start) / 2}`,
    );
  }
  const values = new Uint16Array(
    bytes.buffer.slice(bytes.byteOffset + start, bytes.byteOffset + bytes.length),
  );
  return { ...header, data: Float32Array.from(values, (v) => v / 65535) };
}
