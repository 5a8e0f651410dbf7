/**
 * Rasterisation of COCO segmentations (polygons, uncompressed RLE, compressed RLE) into binary masks, following
 * the conventions of pycocotools: RLE counts run over the image in column-major order starting with a run of 0s;
 * compressed counts use its 6-bit ASCII variable-length code with deltas from the run two back.
 */

export interface Rle {
  size: [number, number];
  counts: number[] | string;
}

export type Segmentation = number[][] | Rle;

/** Decodes pycocotools' compressed RLE string to run lengths. */
export function decodeRleString(counts: string): number[] {
  const runs: number[] = [];
  let p = 0;
  while (p < counts.length) {
    let x = 0;
    let k = 0;
    let more = true;
    while (more) {
      if (p >= counts.length) throw new Error(`COCO RLE: truncated counts string at character ${p}`);
      const c = counts.charCodeAt(p) - 48;
      x |= (c & 0x1f) << (5 * k);
      more = (c & 0x20) !== 0;
      p++;
      k++;
      if (!more && (c & 0x10) !== 0) x |= -1 << (5 * k);
    }
    if (runs.length > 2) x += runs[runs.length - 2];
    runs.push(x);
  }
  return runs;
}

/** Encodes run lengths as pycocotools' compressed RLE string (for tests and for writing annotations). */
export function encodeRleString(runs: readonly number[]): string {
  let out = '';
  for (let i = 0; i < runs.length; i++) {
    let x = runs[i];
    if (i > 2) x -= runs[i - 2];
    let more = true;
    while (more) {
      let c = x & 0x1f;
      x >>= 5;
      more = c & 0x10 ? x !== -1 : x !== 0;
      if (more) c |= 0x20;
      out += String.fromCharCode(c + 48);
    }
  }
  return out;
}

/** Binary mask (row-major, 1 = inside) of one segmentation in an image of height x width. */
export function rasterizeSegmentation(
  seg: Segmentation,
  height: number,
  width: number,
  where = 'segmentation',
): Uint8Array {
  if (Array.isArray(seg)) return rasterizePolygons(seg, height, width, where);
  const [h, w] = seg.size ?? [];
  if (h !== height || w !== width) {
    throw new Error(`${where}: RLE size [${h},${w}] differs from the image size [${height},${width}]`);
  }
  const runs = typeof seg.counts === 'string' ? decodeRleString(seg.counts) : seg.counts;
  const out = new Uint8Array(height * width);
  let pos = 0;
  for (let r = 0; r < runs.length; r++) {
    const end = pos + runs[r];
    if (runs[r] < 0 || end > height * width)
      throw new Error(`${where}: RLE runs exceed the image (${end} > ${height * width})`);
    if (r % 2 === 1) {
      for (let i = pos; i < end; i++) {
        const x = Math.floor(i / height);
        const y = i - x * height;
        out[y * width + x] = 1;
      }
    }
    pos = end;
  }
  return out;
}

/**
 * Polygons (`[x1, y1, x2, y2, ...]` in pixel coordinates, several per object) -> pixels whose centres lie inside
 * (even-odd rule within a polygon, union of the polygons of one object; scanline at y + 0.5).
 */
function rasterizePolygons(polygons: number[][], height: number, width: number, where: string): Uint8Array {
  const out = new Uint8Array(height * width);
  for (const poly of polygons) {
    if (poly.length < 6 || poly.length % 2 !== 0) {
      throw new Error(`${where}: a polygon needs an even number (>= 6) of coordinates, got ${poly.length}`);
    }
    const n = poly.length / 2;
    const xs: number[] = [];
    for (let y = 0; y < height; y++) {
      const cy = y + 0.5;
      xs.length = 0;
      for (let i = 0; i < n; i++) {
        const x0 = poly[2 * i];
        const y0 = poly[2 * i + 1];
        const x1 = poly[(2 * ((i + 1) % n)) % poly.length];
        const y1 = poly[(2 * ((i + 1) % n) + 1) % poly.length];
        if (y0 <= cy !== y1 <= cy) xs.push(x0 + ((cy - y0) * (x1 - x0)) / (y1 - y0));
      }
      xs.sort((a, b) => a - b);
      for (let k = 0; k + 1 < xs.length; k += 2) {
        const from = Math.max(0, Math.ceil(xs[k] - 0.5));
        const to = Math.min(width - 1, Math.ceil(xs[k + 1] - 0.5) - 1);
        for (let x = from; x <= to; x++) out[y * width + x] = 1;
      }
    }
  }
  return out;
}
