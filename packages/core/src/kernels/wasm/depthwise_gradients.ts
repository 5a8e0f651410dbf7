import type { tf } from '../../tf';
import type { ConvGeometry } from '../conv_geometry';
import type { TrainingKernelExports, WasmHeapKernels } from './wasm_heap_kernels';

function geometryWords(g: ConvGeometry): Int32Array {
  return Int32Array.from([
    g.batch,
    g.inHeight,
    g.inWidth,
    g.inChannels,
    g.outHeight,
    g.outWidth,
    g.filterHeight,
    g.filterWidth,
    g.strideHeight,
    g.strideWidth,
    g.dilationHeight,
    g.dilationWidth,
    g.padTop,
    g.padLeft,
  ]);
}

function runDepthwiseGradient(
  kernels: WasmHeapKernels,
  kernel: 'depthwiseFilterGradient' | 'depthwiseInputGradient',
  a: tf.TensorInfo,
  b: tf.TensorInfo,
  g: ConvGeometry,
  outShape: number[],
): tf.TensorInfo {
  const out = kernels.makeOutput(outShape);
  const geometry = kernels.putWords(geometryWords(g));
  try {
    (kernels.exports[kernel] as TrainingKernelExports['depthwiseFilterGradient'])(
      kernels.offsetOf(a),
      kernels.offsetOf(b),
      kernels.offsetOf(out),
      geometry,
      0,
      g.inChannels,
    );
  } finally {
    kernels.free(geometry);
  }
  return out;
}

/** `dW [kh, kw, C, 1]` of a depthwise convolution (channel multiplier 1) from `x` and `dy`, in one SIMD pass. */
export function wasmDepthwiseFilterGradient(
  kernels: WasmHeapKernels,
  x: tf.TensorInfo,
  dy: tf.TensorInfo,
  g: ConvGeometry,
): tf.TensorInfo {
  return runDepthwiseGradient(kernels, 'depthwiseFilterGradient', x, dy, g, [
    g.filterHeight,
    g.filterWidth,
    g.inChannels,
    1,
  ]);
}

/** `dx [N, H, W, C]` of a depthwise convolution (channel multiplier 1) from `dy` and the filter, in one pass. */
export function wasmDepthwiseInputGradient(
  kernels: WasmHeapKernels,
  dy: tf.TensorInfo,
  filter: tf.TensorInfo,
  g: ConvGeometry,
): tf.TensorInfo {
  return runDepthwiseGradient(kernels, 'depthwiseInputGradient', dy, filter, g, [
    g.batch,
    g.inHeight,
    g.inWidth,
    g.inChannels,
  ]);
}
