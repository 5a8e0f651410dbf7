import type { tf } from '../../tf';
import type { ConvGeometry } from '../conv_geometry';
import { geometryWords, inChunks, type WasmHeapKernels } from './wasm_heap_kernels';

/** Most chunks of output rows the depthwise filter gradient is summed in (fewer when there are fewer rows). */
const FILTER_GRADIENT_CHUNKS = 16;

/**
 * `dW [kh, kw, C, 1]` of a depthwise convolution (channel multiplier 1) from `x` and `dy` in one SIMD pass: summed
 * in up to 16 chunks of output rows, every channel at once (threads take chunks and read their rows of x and dy
 * once; split by channels, each thread read all of both), the chunks' sums then added in order.
 */
export function wasmDepthwiseFilterGradient(
  kernels: WasmHeapKernels,
  x: tf.TensorInfo,
  dy: tf.TensorInfo,
  g: ConvGeometry,
): tf.TensorInfo {
  const out = kernels.makeOutput([g.filterHeight, g.filterWidth, g.inChannels, 1]);
  const geometry = kernels.put(geometryWords(g));
  const rows = g.batch * g.outHeight;
  const rowsPerChunk = Math.ceil(rows / Math.min(rows, FILTER_GRADIENT_CHUNKS));
  const chunks = Math.ceil(rows / rowsPerChunk);
  const [xAt, dyAt, outAt] = [kernels.offsetOf(x), kernels.offsetOf(dy), kernels.offsetOf(out)];
  const work = rows * g.outWidth * g.filterHeight * g.filterWidth * g.inChannels;
  try {
    inChunks(kernels, outAt, g.filterHeight * g.filterWidth * g.inChannels, chunks, (partials) =>
      kernels.split('depthwiseFilterGradient', chunks, 1, work, (k0, k1) => [
        ...[xAt, dyAt, partials, geometry],
        ...[k0, k1, rowsPerChunk],
      ]),
    );
  } finally {
    kernels.free(geometry);
  }
  return out;
}

/**
 * `dx [N, H, W, C]` of a depthwise convolution (channel multiplier 1) from `dy` and the filter, in one pass. With
 * stride 1 it is a depthwise convolution of `dy` with the filter flipped (the forward kernel: each dx pixel summed
 * once along its row, the taps in registers); other strides add each dy pixel's products into dx (threads take whole
 * images, each writes rows of its own).
 */
export function wasmDepthwiseInputGradient(
  kernels: WasmHeapKernels,
  dy: tf.TensorInfo,
  filter: tf.TensorInfo,
  g: ConvGeometry,
): tf.TensorInfo {
  const out = kernels.makeOutput([g.batch, g.inHeight, g.inWidth, g.inChannels]);
  const [dyAt, wAt, outAt] = [kernels.offsetOf(dy), kernels.offsetOf(filter), kernels.offsetOf(out)];
  const work = g.batch * g.outHeight * g.outWidth * g.filterHeight * g.filterWidth * g.inChannels;
  const padTop = (g.filterHeight - 1) * g.dilationHeight - g.padTop;
  const padLeft = (g.filterWidth - 1) * g.dilationWidth - g.padLeft;
  if (g.strideHeight === 1 && g.strideWidth === 1 && padTop >= 0 && padLeft >= 0) {
    const transposed: ConvGeometry = {
      ...g,
      ...{ inHeight: g.outHeight, inWidth: g.outWidth, outHeight: g.inHeight, outWidth: g.inWidth },
      ...{ padTop, padLeft },
    };
    const taps = g.filterHeight * g.filterWidth;
    const flipped = kernels.alloc(4 * taps * g.inChannels);
    const geometry = kernels.put(geometryWords(transposed));
    try {
      // the taps in reverse order: W'[ky, kx] = W[kh - 1 - ky, kw - 1 - kx]
      const w = kernels.view(wAt, taps * g.inChannels);
      const to = kernels.view(flipped, taps * g.inChannels);
      for (let t = 0; t < taps; t++) {
        to.set(w.subarray((taps - 1 - t) * g.inChannels, (taps - t) * g.inChannels), t * g.inChannels);
      }
      kernels.split('depthwiseForward', g.batch * g.inHeight, 1, work, (r0, r1) => [
        ...[dyAt, flipped, 0, outAt, geometry],
        ...[r0, r1, 0],
      ]);
    } finally {
      kernels.free(geometry);
      kernels.free(flipped);
    }
    return out;
  }
  const geometry = kernels.put(geometryWords(g));
  try {
    kernels.split('depthwiseInputGradient', g.batch, 1, work, (n0, n1) => [
      dyAt,
      wAt,
      outAt,
      geometry,
      n0,
      n1,
    ]);
  } finally {
    kernels.free(geometry);
  }
  return out;
}
