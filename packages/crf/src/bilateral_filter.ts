import type { RgbImage } from '@wsss/core';
import { tf } from '@wsss/core';
import { bilateralFeatures, checkRgbBytes } from './lattice/features';
import { PermutohedralLattice } from './lattice/permutohedral_lattice';

export interface BilateralOptions {
  /** Spatial standard deviation in pixels. */
  sxy: number;
  /** Colour standard deviation in 0..255 units. */
  srgb: number;
  /**
   * 'none': `out_i = sum_j k(i, j) v_j` (RRM's dense energy loss); 'row': divided by `sum_j k(i, j)` (an
   * edge-preserving blur). Default 'none'.
   */
  normalization?: 'none' | 'row';
}

/**
 * Bilateral filtering with the permutohedral lattice: `out_i = sum_j exp(-|p_i - p_j|^2 / 2 sxy^2 - |I_i - I_j|^2 /
 * 2 srgb^2) v_j` (approximately, as Kraehenbuehl's and rloss's lattice), optionally row-normalised. The lattice is
 * built once per image; {@link BilateralFilter.apply} filters any number of channels, and
 * {@link BilateralFilter.applyTensor} is differentiable (its gradient is the exact transposed filter).
 *
 * Shape: image H x W x 3 uint8; values [H*W x C] (typed arrays) or [H, W, C] (tensors) -> same shape.
 *
 * @example
 * ```ts
 * const filter = new BilateralFilter(image, { sxy: 50, srgb: 15 });
 * const smoothed = filter.apply(probabilities, 21); // Float32Array [H*W x 21]
 * ```
 */
export class BilateralFilter {
  readonly width: number;
  readonly height: number;
  readonly normalization: 'none' | 'row';
  private readonly lattice: PermutohedralLattice;
  private readonly rowScale: Float32Array;

  constructor(image: Pick<RgbImage, 'width' | 'height' | 'data'>, options: BilateralOptions) {
    const { sxy, srgb, normalization = 'none' } = options;
    if (!(sxy > 0) || !(srgb > 0))
      throw new Error(`BilateralFilter: sxy and srgb must be positive, got ${sxy}, ${srgb}`);
    checkRgbBytes(image, 'BilateralFilter');
    const pixels = image.width * image.height;
    this.width = image.width;
    this.height = image.height;
    this.normalization = normalization;
    const features = bilateralFeatures(image, [sxy, sxy], [srgb, srgb, srgb]);
    this.lattice = PermutohedralLattice.build(features, pixels, 5);
    const correction = this.lattice.magnitudeCorrection;
    this.rowScale =
      normalization === 'row'
        ? this.lattice.filter(new Float32Array(pixels).fill(1), 1).map((n) => 1 / n)
        : new Float32Array(pixels).fill(correction);
  }

  /** Filters `values` ([H*W x channels], pixel-major); `transpose` applies the transposed filter. */
  apply(values: Float32Array, channels: number, options: { transpose?: boolean } = {}): Float32Array {
    const pixels = this.width * this.height;
    if (!Number.isInteger(channels) || channels < 1 || values.length !== pixels * channels) {
      throw new Error(
        `BilateralFilter.apply: values must be [H*W x channels] = ${pixels} x ${channels}, got ${values.length}`,
      );
    }
    const transpose = options.transpose ?? false;
    // row normalisation scales the output (forward) or, transposed, the input
    const scaled =
      transpose && this.normalization === 'row' ? scaleRows(values, this.rowScale, channels) : values;
    const out = this.lattice.filter(scaled, channels, { reverse: transpose });
    return transpose && this.normalization === 'row' ? out : scaleRows(out, this.rowScale, channels, true);
  }

  /** Differentiable filtering of a [H, W, C] tensor; the gradient is the transposed filter applied to dy. */
  applyTensor(values: tf.Tensor3D): tf.Tensor3D {
    const [h, w, c] = values.shape;
    if (h !== this.height || w !== this.width) {
      throw new Error(
        `BilateralFilter.applyTensor: values must be [${this.height}, ${this.width}, C], got [${values.shape}]`,
      );
    }
    const run = (t: tf.Tensor, transpose: boolean) =>
      tf.tensor3d(this.apply(t.dataSync() as Float32Array, c, { transpose }), [h, w, c]);
    const op = tf.customGrad(((x: tf.Tensor) => ({
      value: run(x, false),
      gradFunc: (dy: tf.Tensor) => run(dy, true),
    })) as unknown as Parameters<typeof tf.customGrad>[0]);
    if (values.dtype !== 'float32')
      throw new Error(`BilateralFilter.applyTensor: values must be float32, got ${values.dtype}`);
    return op(values) as tf.Tensor3D;
  }
}

function scaleRows(
  values: Float32Array,
  scale: Float32Array,
  channels: number,
  inPlace = false,
): Float32Array {
  const out = inPlace ? values : new Float32Array(values.length);
  for (let i = 0; i < scale.length; i++) {
    for (let c = 0; c < channels; c++) out[i * channels + c] = values[i * channels + c] * scale[i];
  }
  return out;
}
