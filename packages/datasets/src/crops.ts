import { applyGeometry } from './augment';
import { resolveId, type Sample, type SegmentationDataset } from './types';

export interface CropOptions {
  /** Crop size, square or [height, width], in pixels of the rescaled images. */
  size: number | [number, number];
  /** Rescale every image (bilinear) and mask (nearest) by this factor before cropping. Default 1. */
  scale?: number;
  /** Step between crops; default the size (no overlap). The last row and column of crops end at the image's edge. */
  stride?: number | [number, number];
  /**
   * A class is in a crop's image-level labels when at least this many of its pixels are in the crop's mask, so that
   * slivers at the edge do not count. Default 1% of the crop's area.
   */
  minPixels?: number;
}

function pair(value: number | [number, number]): [number, number] {
  return typeof value === 'number' ? [value, value] : value;
}

/** Offsets of the crops along one axis: every `stride`, the last one flush with the end. */
function offsets(length: number, size: number, stride: number): number[] {
  if (size > length)
    throw new Error(`cropDataset: crops of ${size} do not fit images of ${length} (after scale)`);
  const out: number[] = [];
  for (let o = 0; o + size <= length; o += stride) out.push(o);
  if (out[out.length - 1] !== length - size) out.push(length - size);
  return out;
}

/**
 * A dataset of fixed crops of another one's images, with image-level labels taken from each crop's mask: on street
 * scenes (CamVid) whole images all contain sky, road and buildings, but crops let classes come and go (car,
 * pedestrian, sign, pole, tree...), which is what a classifier needs to localise them. Crop ids are
 * `<id>@<top>,<left>`. Every image of the base dataset must have the size of its first (true of CamVid: 480x360).
 *
 * ```ts
 * const crops = await cropDataset(await loadCamVid({ root, split: 'train' }), { scale: 0.5, size: 120 });
 * crops.ids.length; // 4 crops per image: 240x180 images, crops of 120x120 at x 0 and 120, y 0 and 60
 * ```
 */
export async function cropDataset(
  base: SegmentationDataset,
  options: CropOptions,
): Promise<SegmentationDataset> {
  if (!base.hasMasks) throw new Error(`cropDataset: ${base.name} has no masks to take crop labels from`);
  const scale = options.scale ?? 1;
  const [ch, cw] = pair(options.size);
  const [sy, sx] = pair(options.stride ?? options.size);
  const minPixels = options.minPixels ?? Math.max(1, Math.round(0.01 * ch * cw));
  const first = await base.get(0);
  const height = Math.max(1, Math.round(first.image.height * scale));
  const width = Math.max(1, Math.round(first.image.width * scale));
  const windows = offsets(height, ch, sy).flatMap((top) =>
    offsets(width, cw, sx).map((left) => ({ top, left })),
  );
  const ids = base.ids.flatMap((id) => windows.map(({ top, left }) => `${id}@${top},${left}`));
  const known = new Set(ids);
  const name = `${base.name} crops ${ch}x${cw}${scale !== 1 ? ` at ${scale}x` : ''}`;

  const parse = (id: string) => {
    if (!known.has(id)) throw new Error(`${name}: unknown id ${id}`);
    const at = id.lastIndexOf('@');
    const [top, left] = id
      .slice(at + 1)
      .split(',')
      .map(Number);
    return { baseId: id.slice(0, at), top, left };
  };
  const labelsOf = (mask: Uint8Array) => {
    const counts = new Uint32Array(256);
    for (const v of mask) counts[v]++;
    return Uint8Array.from(base.labelClasses, (c) => (counts[c] >= minPixels ? 1 : 0));
  };
  const crop = (sample: Sample, top: number, left: number): Sample => {
    if (sample.image.width !== first.image.width || sample.image.height !== first.image.height) {
      throw new Error(
        `${name}: ${sample.id} is ${sample.image.width}x${sample.image.height}, the first image ${first.image.width}x${first.image.height}`,
      );
    }
    const out = applyGeometry(
      { image: sample.image, labelMaps: { mask: sample.mask! }, floatMaps: sample.floatMaps },
      { scale, flip: false, top, left, outHeight: ch, outWidth: cw },
    );
    const mask = out.labelMaps!.mask;
    return {
      id: `${sample.id}@${top},${left}`,
      image: out.image,
      mask,
      labels: labelsOf(mask.data),
      floatMaps: out.floatMaps,
    };
  };

  return {
    name,
    classNames: base.classNames,
    labelClasses: base.labelClasses,
    backgroundIndex: base.backgroundIndex,
    ignoreIndex: base.ignoreIndex,
    palette: base.palette,
    ids,
    hasMasks: true,
    async imageLabels(id) {
      const { baseId, top, left } = parse(id);
      return crop(await base.get(baseId), top, left).labels;
    },
    async get(idOrIndex) {
      const { baseId, top, left } = parse(resolveId({ name, ids }, idOrIndex));
      return crop(await base.get(baseId), top, left);
    },
  };
}
