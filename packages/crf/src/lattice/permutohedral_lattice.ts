import { kernelArena } from '../wasm/kernel_arena';

/**
 * A first hash-table size (slots, a power of two) for a lattice over `pixels` points: it holds up to half as many
 * lattice points, which rarely exceed half the pixels; builds double it when it fills up.
 */
export function initialTableCapacity(pixels: number): number {
  return 2 ** Math.ceil(Math.log2(Math.max(1024, pixels / 2)));
}

/**
 * The permutohedral lattice of Adams, Baek & Davis (2010) as used by Kraehenbuehl & Koltun's dense CRF: every point is
 * embedded in the d-dimensional hyperplane of R^(d+1), splatted onto the d + 1 vertices of its enclosing simplex with
 * barycentric weights, blurred with [1/2, 1, 1/2] along each lattice axis and sliced back. The result approximates
 * Gaussian filtering `out_i = sum_j exp(-|f_i - f_j|^2 / 2) v_j` in time linear in the number of points.
 *
 * The lattice stores only its structure; values are filtered with {@link PermutohedralLattice.filter}.
 *
 * @example
 * ```ts
 * const lattice = PermutohedralLattice.build(new Float32Array([0, 0, 0.5, 0, 10, 10]), 3, 2); // 3 points in 2-D
 * const norm = lattice.filter(new Float32Array([1, 1, 1]), 1);
 * lattice.filter(new Float32Array([0, 1, 5]), 1).map((v, i) => v / norm[i]); // ~[0.43, 0.47, 5]: near points mix
 * ```
 */
export class PermutohedralLattice {
  /** Feature dimensionality d. */
  readonly dims: number;
  /** Number of points (pixels). */
  readonly pixels: number;
  /** Number of lattice points M. */
  readonly points: number;
  /** Lattice point of each simplex vertex, [pixels x (d + 1)]. */
  readonly offsets: Int32Array;
  /** Barycentric weight of each simplex vertex, [pixels x (d + 1)]. */
  readonly barycentric: Float32Array;
  /** Both neighbours of every lattice point along every axis, [(d + 1) x M x 2], -1 where absent. */
  readonly neighbours: Int32Array;

  private constructor(dims: number, offsets: Int32Array, barycentric: Float32Array, neighbours: Int32Array) {
    this.dims = dims;
    this.pixels = offsets.length / (dims + 1);
    this.points = neighbours.length / (2 * (dims + 1));
    this.offsets = offsets;
    this.barycentric = barycentric;
    this.neighbours = neighbours;
  }

  /**
   * Builds the lattice of `pixels` points with `dims` features each (`features[i * dims + c]`, already divided by
   * the kernel's standard deviations).
   */
  static build(features: Float32Array, pixels: number, dims: number): PermutohedralLattice {
    if (!Number.isInteger(dims) || dims < 1 || dims > 16) {
      throw new Error(`PermutohedralLattice.build: dims must be an integer in [1, 16], got ${dims}`);
    }
    if (!Number.isInteger(pixels) || pixels < 1 || features.length !== pixels * dims) {
      throw new Error(
        `PermutohedralLattice.build: features must hold pixels x dims = ${pixels} x ${dims} values, got ${features.length}`,
      );
    }
    const arena = kernelArena();
    const d1 = dims + 1;
    // the table doubles (and the build restarts) when it fills up
    for (let capacity = initialTableCapacity(pixels); ; capacity *= 2) {
      arena.reset();
      const featuresAt = arena.put(features);
      const slots = arena.alloc(capacity * 4);
      const keys = arena.alloc((capacity / 2) * arena.exports.latticeKeyBytes(dims));
      const offsets = arena.alloc(pixels * d1 * 4);
      const barycentric = arena.alloc(pixels * d1 * 4);
      const work = arena.alloc(arena.exports.latticeWorkBytes(dims));
      arena.i32(slots, capacity).fill(-1);
      const points = arena.exports.buildLattice(
        featuresAt,
        pixels,
        dims,
        slots,
        capacity,
        keys,
        offsets,
        barycentric,
        work,
      );
      if (points < 0) continue;
      const neighbours = arena.alloc(d1 * points * 2 * 4);
      arena.exports.latticeNeighbours(dims, points, slots, capacity, keys, neighbours, work);
      return new PermutohedralLattice(
        dims,
        arena.i32(offsets, pixels * d1).slice(),
        arena.f32(barycentric, pixels * d1).slice(),
        arena.i32(neighbours, d1 * points * 2).slice(),
      );
    }
  }

  /**
   * Filters the channels of `input` (pixel-major, `input[i * channels + c]`) and returns `scale` times the result.
   * `splatWeights`/`sliceWeights` default to the barycentric weights; pass per-vertex weights to fold a per-pixel
   * normalisation into the splat and the slice. `reverse` blurs the axes in reverse order, which applies the exact
   * transpose of the forward filter. The raw result approximates the Gaussian filter times (1 + 2^-d)
   * (see {@link PermutohedralLattice.magnitudeCorrection}).
   */
  filter(
    input: Float32Array,
    channels: number,
    options: {
      scale?: number;
      reverse?: boolean;
      splatWeights?: Float32Array;
      sliceWeights?: Float32Array;
    } = {},
  ): Float32Array {
    const { scale = 1, reverse = false } = options;
    if (input.length !== this.pixels * channels) {
      throw new Error(
        `PermutohedralLattice.filter: input must hold pixels x channels = ${this.pixels} x ${channels} values, got ${input.length}`,
      );
    }
    const stride = Math.ceil(channels / 4) * 4;
    const arena = kernelArena();
    arena.reset();
    const offsets = arena.put(this.offsets);
    const splat = arena.put(options.splatWeights ?? this.barycentric);
    const slice = options.sliceWeights ? arena.put(options.sliceWeights) : splat;
    const neighbours = arena.put(this.neighbours);
    const inAt = arena.alloc(this.pixels * stride * 4);
    const outAt = arena.alloc(this.pixels * stride * 4);
    const values = arena.alloc((this.points + 1) * stride * 4);
    const scratch = arena.alloc((this.points + 1) * stride * 4);
    const padded = arena.f32(inAt, this.pixels * stride);
    if (stride === channels) padded.set(input);
    else {
      padded.fill(0);
      for (let i = 0; i < this.pixels; i++) {
        for (let c = 0; c < channels; c++) padded[i * stride + c] = input[i * channels + c];
      }
    }
    arena.exports.filterChannels(
      this.pixels,
      this.dims + 1,
      this.points,
      offsets,
      splat,
      slice,
      neighbours,
      inAt,
      outAt,
      stride,
      scale,
      reverse,
      values,
      scratch,
    );
    const result = arena.f32(outAt, this.pixels * stride);
    if (stride === channels) return result.slice();
    const out = new Float32Array(this.pixels * channels);
    for (let i = 0; i < this.pixels; i++) {
      for (let c = 0; c < channels; c++) out[i * channels + c] = result[i * stride + c];
    }
    return out;
  }

  /**
   * The factor 1 / (1 + 2^-d) by which Kraehenbuehl's lattice scales its output so that unnormalised filtering
   * approximates the Gaussian's magnitude; symmetric and row normalisation cancel it.
   */
  get magnitudeCorrection(): number {
    return 1 / (1 + 2 ** -this.dims);
  }
}
