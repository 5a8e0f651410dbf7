import type { tf } from '../../tf';
import type { ConvGeometry } from '../conv_geometry';
import { geometryWords, type WasmHeapKernels } from './wasm_heap_kernels';

/** `dW [kh, kw, C, 1]` of a depthwise convolution (channel multiplier 1) from `x` and `dy`, in one SIMD pass. */
export function wasmDepthwiseFilterGradient(
  kernels: WasmHeapKernels,
  x: tf.TensorInfo,
  dy: tf.TensorInfo,
  g: ConvGeometry,
): tf.TensorInfo {
  const out = kernels.makeOutput([g.filterHeight, g.filterWidth, g.inChannels, 1]);
  const geometry = kernels.put(geometryWords(g));
  // each part's own accumulators, 64 bytes apart
  const accBytes = 4 * g.filterHeight * g.filterWidth * g.inChannels + 64;
  const acc = kernels.alloc(accBytes * kernels.parts);
  const [xAt, dyAt, outAt] = [kernels.offsetOf(x), kernels.offsetOf(dy), kernels.offsetOf(out)];
  const work = g.batch * g.outHeight * g.outWidth * g.filterHeight * g.filterWidth * g.inChannels;
  try {
    kernels.split('depthwiseFilterGradient', g.inChannels, 4, work, (c0, c1, part) => [
      xAt,
      dyAt,
      outAt,
      geometry,
      c0,
      c1,
      acc + accBytes * part,
    ]);
  } finally {
    kernels.free(acc);
    kernels.free(geometry);
  }
  return out;
}

/** `dx [N, H, W, C]` of a depthwise convolution (channel multiplier 1) from `dy` and the filter, in one pass. */
export function wasmDepthwiseInputGradient(
  kernels: WasmHeapKernels,
  dy: tf.TensorInfo,
  filter: tf.TensorInfo,
  g: ConvGeometry,
): tf.TensorInfo {
  const out = kernels.makeOutput([g.batch, g.inHeight, g.inWidth, g.inChannels]);
  const geometry = kernels.put(geometryWords(g));
  const [dyAt, wAt, outAt] = [kernels.offsetOf(dy), kernels.offsetOf(filter), kernels.offsetOf(out)];
  const work = g.batch * g.outHeight * g.outWidth * g.filterHeight * g.filterWidth * g.inChannels;
  try {
    // threads take whole images: each writes rows of its own
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
