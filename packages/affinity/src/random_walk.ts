import { WasmArena } from '@wsss/core';
import type { PairIndices } from './neighbourhood';
import { RANDOM_WALK_WASM } from './wasm/random_walk_wasm';

interface RandomWalkExports {
  randomWalkStep(
    height: number,
    width: number,
    margin: number,
    offsetCount: number,
    shifts: number,
    weights: number,
    invDegree: number,
    v: number,
    out: number,
    stride: number,
    result: number,
  ): void;
}

let arena: WasmArena<RandomWalkExports> | undefined;

export interface RandomWalkOptions {
  /** Exponent applied to the affinities (psa 8, IRN 10). Default 8. */
  beta?: number;
  /** log2 of the number of steps (psa and IRN 8: 256 steps). Default 8. */
  logSteps?: number;
  /**
   * Stop early once a step changes no score by more than `tolerance` times the largest score. Default 1e-5
   * (0: always run every step).
   */
  tolerance?: number;
}

export interface RandomWalkResult {
  /** Propagated scores [channels x N] (row vector times T^t, as psa's v · T). */
  scores: Float32Array;
  /** Steps actually run. */
  steps: number;
}

/**
 * The sparse transition structure of psa's random walk: A = the pair affinities^beta placed at (from, to) and
 * (to, from), diagonal 1; T = A column-normalised. Stored as a stencil: for each pixel a weight per each of the
 * 2 K + 1 offsets (0, the half-plane offsets and their reverses), 0 where the pair does not exist.
 */
export class RandomWalkGraph {
  readonly height: number;
  readonly width: number;
  /** [dy, dx] of each stencil entry. */
  readonly offsets: [number, number][];
  /** [N x offsets] (pixel-major, as the kernel reads it): A[i, i + offset] for pixel i (0 where the pair does not exist). */
  readonly weights: Float32Array;
  /** Column sums of A, [N]. */
  readonly degree: Float32Array;

  /** Builds the graph from pair affinities [offsets x from] (e.g. one image of {@link pairAffinity}). */
  constructor(affinity: ArrayLike<number>, pairs: PairIndices, beta = 8) {
    const { height, width, from, to } = pairs;
    const k = pairs.offsets.length;
    const n = from.length;
    if (affinity.length !== k * n) {
      throw new Error(
        `RandomWalkGraph: affinity must hold offsets x from = ${k} x ${n} values, got ${affinity.length}`,
      );
    }
    const pixels = height * width;
    this.height = height;
    this.width = width;
    this.offsets = [
      [0, 0],
      ...pairs.offsets,
      ...pairs.offsets.map(([dy, dx]) => [-dy, -dx] as [number, number]),
    ];
    this.weights = new Float32Array(this.offsets.length * pixels);
    const stencil = this.offsets.length;
    for (let i = 0; i < pixels; i++) this.weights[i * stencil] = 1;
    for (let o = 0; o < k; o++) {
      for (let e = 0; e < n; e++) {
        const a = Math.max(0, affinity[o * n + e]) ** beta;
        const i = from[e];
        const j = to[o * n + e];
        this.weights[i * stencil + 1 + o] = a; // A[i, j], j = i + offset
        this.weights[j * stencil + 1 + k + o] = a; // A[j, i], i = j - offset
      }
    }
    this.degree = new Float32Array(pixels);
    for (let i = 0; i < pixels; i++) {
      for (let o = 0; o < stencil; o++) this.degree[i] += this.weights[i * stencil + o];
    }
  }
}

/**
 * psa's random walk on a sparse graph: `v_rw = v T^t`, t = 2^logSteps, computed as t sparse vector-matrix steps
 * (memory O(N k), cost O(t N k C)) instead of psa's logSteps squarings of a dense N x N matrix (memory N^2,
 * cost 8 N^3, and subnormal floats on weak affinities). Stops early when the scores stop changing.
 *
 * Shape: scores [channels x N] (e.g. CAM with background, average-pooled to the affinity resolution) -> same.
 *
 * @example
 * ```ts
 * const graph = new RandomWalkGraph(affinity, pairIndices(56, 56, 5));
 * const { scores } = randomWalk(graph, cam, 21); // then argmax per pixel
 * ```
 */
export function randomWalk(
  graph: RandomWalkGraph,
  scores: Float32Array,
  channels: number,
  options: RandomWalkOptions = {},
): RandomWalkResult {
  const { logSteps = 8, tolerance = 1e-5 } = options;
  const pixels = graph.height * graph.width;
  if (scores.length !== channels * pixels) {
    throw new Error(
      `randomWalk: scores must be [channels x N] = ${channels} x ${pixels}, got ${scores.length}`,
    );
  }
  if (!Number.isInteger(logSteps) || logSteps < 0 || logSteps > 20) {
    throw new Error(`randomWalk: logSteps must be an integer in [0, 20], got ${logSteps}`);
  }
  arena ??= new WasmArena<RandomWalkExports>({ plain: RANDOM_WALK_WASM });
  arena.reset();
  const { height: h, width: w, offsets } = graph;
  const margin = offsets.reduce((m, [dy, dx]) => Math.max(m, Math.abs(dy), Math.abs(dx)), 0);
  const stride = Math.ceil(channels / 8) * 8;
  const paddedWidth = w + 2 * margin;
  const cells = (h + 2 * margin) * paddedWidth * stride;
  const shiftsAt = arena.put(Int32Array.from(offsets, ([dy, dx]) => (dy * paddedWidth + dx) * stride * 4));
  const weightsAt = arena.put(graph.weights);
  const invDegreeAt = arena.put(graph.degree.map((d) => 1 / d));
  let v = arena.alloc(cells * 4);
  let next = arena.alloc(cells * 4);
  const result = arena.alloc(8);
  const grid = arena.f32(v, cells).fill(0);
  arena.f32(next, cells).fill(0);
  for (let c = 0; c < channels; c++) {
    for (let y = 0; y < h; y++) {
      for (let x = 0; x < w; x++)
        grid[((y + margin) * paddedWidth + x + margin) * stride + c] = scores[c * pixels + y * w + x];
    }
  }
  const total = 2 ** logSteps;
  let steps = 0;
  while (steps < total) {
    arena.exports.randomWalkStep(
      h,
      w,
      margin,
      offsets.length,
      shiftsAt,
      weightsAt,
      invDegreeAt,
      v,
      next,
      stride,
      result,
    );
    steps++;
    [v, next] = [next, v];
    const [change, largest] = arena.f32(result, 2);
    if (change <= tolerance * largest) break;
  }
  const final = arena.f32(v, cells);
  const out = new Float32Array(channels * pixels);
  for (let c = 0; c < channels; c++) {
    for (let y = 0; y < h; y++) {
      for (let x = 0; x < w; x++)
        out[c * pixels + y * w + x] = final[((y + margin) * paddedWidth + x + margin) * stride + c];
    }
  }
  return { scores: out, steps };
}
