import { tf } from '../../tf';
import { runOriginalKernel } from './original_kernels';
import type { WasmHeapBackend } from './slice';
import type { KernelArgs } from './wasm_heap_kernels';

/**
 * A new NHWC tensor of `shape` on the heap whose pixel p holds `x`'s pixel `source(p)` (all channels), or zeros
 * where `source` gives -1.
 */
function gatherPixels(
  args: KernelArgs,
  x: tf.TensorInfo,
  shape: number[],
  source: (pixel: number) => number,
): tf.TensorInfo {
  const backend = args.backend as WasmHeapBackend;
  const out = backend.makeOutput(shape, x.dtype);
  // views are taken after makeOutput, which may grow (and so detach) the heap
  const [to, from] = [backend.typedArrayFromHeap(out), backend.typedArrayFromHeap(x)];
  const channels = shape[3];
  const pixels = shape[0] * shape[1] * shape[2];
  for (let p = 0; p < pixels; p++) {
    const at = p * channels;
    const s = source(p);
    if (s < 0) to.fill(0, at, at + channels);
    else if (channels >= 64) to.set(from.subarray(s * channels, (s + 1) * channels), at);
    else for (let c = 0; c < channels; c++) to[at + c] = from[s * channels + c];
  }
  return out;
}

/** Whether our pixel copies take this input: 4-D (NHWC) with a 2-D block, not strings. */
const takes = (x: tf.TensorInfo, blockShape: number[]) =>
  x.shape.length === 4 && blockShape.length === 2 && x.dtype !== 'string';

/**
 * `SpaceToBatchND` for wasm on a 4-D NHWC tensor with a 2-D block (how tfjs-core differentiates and runs dilated
 * convolutions): `out[(i * bw + j) * N + n, y, x, c] = xPadded[n, y * bh + i, x * bw + j, c]`, one pixel's channels
 * at a time straight on the heap. tfjs-backend-wasm 4.22 pads, reshapes to 6-D and transposes: ~450 ms for an
 * [8, 41, 41, 256] input with block 2, against a few ms. Other ranks go to the original kernel.
 */
export function spaceToBatchND(args: KernelArgs): tf.TensorInfo {
  const x = args.inputs.x as tf.TensorInfo;
  const { blockShape, paddings } = args.attrs as unknown as tf.SpaceToBatchNDAttrs;
  if (!takes(x, blockShape)) return runOriginalKernel(tf.SpaceToBatchND, args);
  const [n, h, w, c] = x.shape;
  const [bh, bw] = blockShape;
  const [[pt, pb], [pl, pr]] = paddings;
  const [outH, outW] = [(h + pt + pb) / bh, (w + pl + pr) / bw];
  return gatherPixels(args, x, [n * bh * bw, outH, outW, c], (p) => {
    const b = Math.floor(p / (outW * outH));
    const block = Math.floor(b / n);
    const y = (Math.floor(p / outW) % outH) * bh + Math.floor(block / bw) - pt;
    const xi = (p % outW) * bw + (block % bw) - pl;
    return y < 0 || y >= h || xi < 0 || xi >= w ? -1 : ((b % n) * h + y) * w + xi;
  });
}

/**
 * `BatchToSpaceND` for wasm on a 4-D NHWC tensor with a 2-D block, the inverse of {@link spaceToBatchND} with
 * crops: `out[n, Y, X, c] = x[(i * bw + j) * N + n, y, x, c]` where `Y + cropTop = y * bh + i` and
 * `X + cropLeft = x * bw + j`; one pixel's channels at a time on the heap (tfjs-backend-wasm 4.22: ~500 ms for a
 * [32, 23, 23, 256] input). Other ranks go to the original kernel.
 */
export function batchToSpaceND(args: KernelArgs): tf.TensorInfo {
  const x = args.inputs.x as tf.TensorInfo;
  const { blockShape, crops } = args.attrs as unknown as tf.BatchToSpaceNDAttrs;
  if (!takes(x, blockShape)) return runOriginalKernel(tf.BatchToSpaceND, args);
  const [batch, h, w, c] = x.shape;
  const [bh, bw] = blockShape;
  const [[ct, cb], [cl, cr]] = crops;
  const n = batch / (bh * bw);
  const [outH, outW] = [h * bh - ct - cb, w * bw - cl - cr];
  return gatherPixels(args, x, [n, outH, outW, c], (p) => {
    const xo = (p % outW) + cl;
    const yo = (Math.floor(p / outW) % outH) + ct;
    const block = (yo % bh) * bw + (xo % bw);
    return ((block * n + Math.floor(p / (outW * outH))) * h + Math.floor(yo / bh)) * w + Math.floor(xo / bw);
  });
}
