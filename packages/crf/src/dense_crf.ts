import { checkRgbBytes, type RgbBytes } from './lattice/features';
import {
  type KernelNormalization,
  type MeanFieldResult,
  meanField,
  type PairwiseTerm,
  type UnarySource,
} from './mean_field';
import { kernelWorkers } from './parallel/kernel_workers';
import { kernelArena } from './wasm/kernel_arena';

/**
 * Label compatibility as in pydensecrf: a Potts weight w (the logits get + w K~ Q: similar pixels pull towards the
 * same label), or a labels x labels matrix mu, symmetrised, whose message is subtracted (logits - mu K~ Q, a cost:
 * the matrix -w I equals Potts w).
 */
export type Compatibility = number | Float32Array | number[][];

export interface PairwiseOptions {
  /** Potts weight w (logits + w K~ Q) or compatibility matrix mu (logits - mu K~ Q), as pydensecrf. */
  compat: Compatibility;
  /** Kernel normalisation (default 'symmetric', pydensecrf's NORMALIZE_SYMMETRIC). */
  normalization?: KernelNormalization;
}

/** Where inference runs: `threads` threads (default 'auto': every core when the image is large enough to pay). */
export interface InferenceOptions {
  threads?: number | 'auto';
}

/** pixels x labels below which a second thread costs more than it saves (measured on 2 cores: ~64x64 x 21). */
const PARALLEL_THRESHOLD = 1 << 17;

/**
 * The fully connected CRF of Kraehenbuehl & Koltun (2011) with Gaussian pairwise kernels filtered on a permutohedral
 * lattice, a drop-in for pydensecrf's `DenseCRF2D` (same energies, same normalisation, same mean field):
 *
 *   E(x) = sum_i U_i(x_i) + sum_{i<j} sum_k mu_k(x_i, x_j) exp(-|f_i^k - f_j^k|^2 / 2)
 *
 * Mean field: Q = softmax(-U); repeat Q = softmax(-U + sum_k w_k K~_k Q) (Potts; a matrix mu_k subtracts
 * mu_k K~_k Q), K~ the normalised kernel.
 * The hot loops are WebAssembly SIMD; `inference` splits them over worker threads in Node.
 *
 * @example
 * ```ts
 * const crf = new DenseCrf(image.width, image.height, 21);
 * crf.setUnaryFromSoftmax(probabilities); // or setUnaryEnergy(unary)
 * crf.addPairwiseGaussian({ sxy: 3, compat: 3 });
 * crf.addPairwiseBilateral({ sxy: 80, srgb: 13, image, compat: 10 });
 * const q = await crf.inference(10); // Float32Array [21 x H*W]
 * const labels = argmaxLabels(q, 21);
 * ```
 */
export class DenseCrf {
  readonly width: number;
  readonly height: number;
  readonly labels: number;
  private unary: UnarySource | undefined;
  private readonly terms: PairwiseTerm[] = [];

  constructor(width: number, height: number, labels: number) {
    for (const [name, value] of [
      ['width', width],
      ['height', height],
      ['labels', labels],
    ] as const) {
      if (!Number.isInteger(value) || value < 1)
        throw new Error(`DenseCrf: ${name} must be a positive integer, got ${value}`);
    }
    this.width = width;
    this.height = height;
    this.labels = labels;
  }

  get pixels(): number {
    return this.width * this.height;
  }

  /**
   * Sets the unary energies, [labels x pixels] label-major (pixel index y * width + x), as pydensecrf. The array is
   * read at inference, which rejects NaN in it.
   */
  setUnaryEnergy(unary: Float32Array): this {
    this.checkLabelMajor(unary, 'setUnaryEnergy', 'unary');
    this.unary = { energies: unary };
    return this;
  }

  /**
   * Sets the unary from probabilities [labels x pixels]: U = -log(clip(p, clip, 1)) without renormalisation, as
   * pydensecrf's `unary_from_softmax` + `setUnaryEnergy` (computed inside the WebAssembly kernels at inference, which
   * rejects NaN).
   */
  setUnaryFromSoftmax(probabilities: Float32Array, options: { clip?: number } = {}): this {
    const { clip = 1e-5 } = options;
    if (!(clip > 0 && clip <= 1))
      throw new Error(`DenseCrf.setUnaryFromSoftmax: clip must be in (0, 1], got ${clip}`);
    this.checkLabelMajor(probabilities, 'setUnaryFromSoftmax', 'probabilities');
    this.unary = { probabilities, clip };
    return this;
  }

  private checkLabelMajor(values: Float32Array, fn: string, name: string): void {
    if (values.length !== this.labels * this.pixels) {
      throw new Error(
        `DenseCrf.${fn}: ${name} must hold labels x height x width = ${this.labels} x ${this.height} x ${this.width} values, got ${values.length}`,
      );
    }
  }

  /** Adds a Gaussian kernel on positions: features (x / sxy, y / sxy), computed by the kernels at inference. */
  addPairwiseGaussian(options: PairwiseOptions & { sxy: number | [number, number] }): this {
    const scales = pair(options.sxy, 'addPairwiseGaussian', 'sxy');
    return this.addTerm({ width: this.width, scales: Float32Array.from(scales) }, 2, options);
  }

  /**
   * Adds a bilateral kernel: features (x / sxy, y / sxy, r / srgb, g / srgb, b / srgb) with raw 0..255 colours,
   * computed by the kernels at inference from a copy of `image` (interleaved RGB, height x width x 3, uint8).
   */
  addPairwiseBilateral(
    options: PairwiseOptions & {
      sxy: number | [number, number];
      srgb: number | [number, number, number];
      image: RgbBytes;
    },
  ): this {
    const scales = pair(options.sxy, 'addPairwiseBilateral', 'sxy');
    const srgb = typeof options.srgb === 'number' ? [options.srgb, options.srgb, options.srgb] : options.srgb;
    for (const s of srgb) positive(s, 'addPairwiseBilateral', 'srgb');
    const { image } = options;
    checkRgbBytes(image, 'DenseCrf.addPairwiseBilateral');
    if (image.width !== this.width || image.height !== this.height) {
      throw new Error(
        `DenseCrf.addPairwiseBilateral: image must be ${this.height} x ${this.width} x 3 like the CRF, got ${image.height} x ${image.width}`,
      );
    }
    const features = {
      width: this.width,
      scales: Float32Array.from([...scales, ...srgb]),
      rgb: image.data.slice(),
    };
    return this.addTerm(features, 5, options);
  }

  /** Adds a Gaussian kernel on arbitrary per-pixel features, [pixels x dims], already divided by their sigmas. */
  addPairwiseEnergy(features: Float32Array, dims: number, options: PairwiseOptions): this {
    if (features.length !== this.pixels * dims) {
      throw new Error(
        `DenseCrf.addPairwiseEnergy: features must hold pixels x dims = ${this.pixels} x ${dims} values, got ${features.length}`,
      );
    }
    if (!Number.isInteger(dims) || dims < 1 || dims > 16) {
      throw new Error(`DenseCrf.addPairwiseEnergy: dims must be an integer in [1, 16], got ${dims}`);
    }
    return this.addTerm(features, dims, options);
  }

  private addTerm(features: PairwiseTerm['features'], dims: number, options: PairwiseOptions): this {
    this.terms.push({
      features,
      dims,
      normalization: options.normalization ?? 'symmetric',
      compat: this.compatibility(options.compat),
    });
    return this;
  }

  /**
   * Mean-field marginals after `iterations` steps, [labels x pixels]; on one thread. Each call builds the lattices
   * (the pairwise terms only record their features).
   */
  inferenceSync(iterations: number): Float32Array {
    return meanField(this.checkedUnary(iterations), this.labels, this.terms, iterations).q;
  }

  /** Mean-field marginals after `iterations` steps, [labels x pixels]; on worker threads where it pays. */
  async inference(iterations: number, options: InferenceOptions = {}): Promise<Float32Array> {
    return (await this.run(iterations, options)).q;
  }

  /**
   * Mean-field marginals after `iterations` steps and each pixel's most probable label (as {@link argmaxLabels},
   * computed inside the kernels; at most 256 labels); on worker threads where it pays.
   */
  async inferenceWithLabels(
    iterations: number,
    options: InferenceOptions = {},
  ): Promise<{ q: Float32Array; labels: Uint8Array }> {
    if (this.labels > 256)
      throw new Error(
        `DenseCrf.inferenceWithLabels: at most 256 labels fit a Uint8Array, got ${this.labels}`,
      );
    const { q, labels } = await this.run(iterations, options);
    return { q, labels: labels as Uint8Array };
  }

  private async run(iterations: number, options: InferenceOptions): Promise<MeanFieldResult> {
    const unary = this.checkedUnary(iterations);
    const { threads = 'auto' } = options;
    const wanted =
      threads === 'auto' ? (this.pixels * this.labels >= PARALLEL_THRESHOLD ? Infinity : 1) : threads;
    if (!(wanted >= 1))
      throw new Error(`DenseCrf.inference: threads must be a positive integer or 'auto', got ${threads}`);
    const workers = wanted > 1 ? await kernelWorkers(kernelArena()) : undefined;
    const count = workers ? Math.min(wanted, workers.size + 1) : 1;
    return meanField(
      unary,
      this.labels,
      this.terms,
      iterations,
      workers && count > 1 ? { workers, threads: count } : undefined,
    );
  }

  private checkedUnary(iterations: number): UnarySource {
    if (!Number.isInteger(iterations) || iterations < 0) {
      throw new Error(`DenseCrf.inference: iterations must be a non-negative integer, got ${iterations}`);
    }
    if (!this.unary) throw new Error('DenseCrf.inference: call setUnaryEnergy or setUnaryFromSoftmax first');
    return this.unary;
  }

  private compatibility(compat: Compatibility): number | Float32Array {
    const L = this.labels;
    if (typeof compat === 'number') {
      if (!Number.isFinite(compat)) throw new Error(`DenseCrf: compat must be finite, got ${compat}`);
      return compat;
    }
    const flat = compat instanceof Float32Array ? compat : Float32Array.from(compat.flat());
    if (
      flat.length !== L * L ||
      (!(compat instanceof Float32Array) && compat.some((row) => row.length !== L))
    ) {
      throw new Error(`DenseCrf: a compat matrix must be labels x labels = ${L} x ${L}`);
    }
    return flat;
  }
}

/** Argmax over labels of label-major scores [labels x pixels] (ties to the lower label, as numpy). */
export function argmaxLabels(q: Float32Array, labels: number): Uint8Array {
  if (labels > 256) throw new Error(`argmaxLabels: at most 256 labels fit a Uint8Array, got ${labels}`);
  const pixels = q.length / labels;
  const out = new Uint8Array(pixels);
  const best = q.slice(0, pixels);
  for (let l = 1; l < labels; l++) {
    for (let i = 0; i < pixels; i++) {
      const v = q[l * pixels + i];
      if (v > best[i]) {
        best[i] = v;
        out[i] = l;
      }
    }
  }
  return out;
}

function positive(value: number, fn: string, name: string): number {
  if (!(value > 0 && Number.isFinite(value)))
    throw new Error(`DenseCrf.${fn}: ${name} must be positive, got ${value}`);
  return value;
}

function pair(value: number | [number, number], fn: string, name: string): [number, number] {
  const [a, b] = typeof value === 'number' ? [value, value] : value;
  return [positive(a, fn, name), positive(b, fn, name)];
}
