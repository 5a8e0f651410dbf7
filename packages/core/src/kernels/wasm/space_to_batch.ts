import { tf } from '../../tf';
import { runOriginalKernel } from './original_kernels';
import type { WasmHeapBackend } from './slice';
import type { KernelArgs } from './wasm_heap_kernels';

/**
 * Copies `channels` values per pixel between two NHWC tensors on the heap: `to[pixel]` = `from[source(pixel)]`, or
 * zeros where `source` gives -1.
 */
function copyPixels(
  to: Float32Array | Int32Array | Uint8Array,
  from: Float32Array | Int32Array | Uint8Array,
  pixels: number,
  channels: number,
  source: (pixel: number) => number,
): void {
  for (let p = 0; p < pixels; p++) {
    const at = p * channels;
    const s = source(p);
    if (s < 0) to.fill(0, at, at + channels);
    else if (channels >= 64) to.set(from.subarray(s * channels, (s + 1) * channels), at);
    else for (let c = 0; c < channels; c++) to[at + c] = from[s * channels + c];
  }
}

/**
 * `SpaceToBatchND` for wasm on a 4-D NHWC tensor with a 2-D block (how tfjs-core differentiates and runs dilated
 * convolutions): `out[(i * bw + j) * N + n, y, x, c] = xPadded[n, y * bh + i, x * bw + j, c]`, one pixel's channels
 * at a time straight on the heap. tfjs-backend-wasm 4.22 pads, reshapes to 6-D and transposes: ~450 ms for an
 * [8, 41, 41, 256] input with block 2, against a few ms. Other ranks go to the original kernel.
 */
export function spaceToBatchND(args: KernelArgs): tf.TensorInfo {
  const x = args.inputs.x as tf.TensorInfo;
  const { blockShape, paddings } = args.attrs as unknown as tf.SpaceToBatchNDAttrs;
  if (x.shape.length !== 4 || blockShape.length !== 2 || x.dtype === 'string') {
    return runOriginalKernel(tf.SpaceToBatchND, args);
  }
  const [n, h, w, c] = x.shape;
  const [bh, bw] = blockShape;
  const [[pt, pb], [pl, pr]] = paddings;
  const [outH, outW] = [(h + pt + pb) / bh, (w + pl + pr) / bw];
  const backend = args.backend as WasmHeapBackend;
  const out = backend.makeOutput([n * bh * bw, outH, outW, c], x.dtype);
  // views are taken after makeOutput, which may grow (and so detach) the heap
  copyPixels(
    backend.typedArrayFromHeap(out),
    backend.typedArrayFromHeap(x),
    n * bh * bw * outH * outW,
    c,
    (p) => {
      const xo = p % outW;
      const yo = Math.floor(p / outW) % outH;
      const b = Math.floor(p / (outW * outH));
      const image = b % n;
      const block = Math.floor(b / n);
      const y = yo * bh + Math.floor(block / bw) - pt;
      const xi = xo * bw + (block % bw) - pl;
      return y < 0 || y >= h || xi < 0 || xi >= w ? -1 : (image * h + y) * w + xi;
    },
  );
  return out;
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
  if (x.shape.length !== 4 || blockShape.length !== 2 || x.dtype === 'string') {
    return runOriginalKernel(tf.BatchToSpaceND, args);
  }
  const [batch, h, w, c] = x.shape;
  const [bh, bw] = blockShape;
  const [[ct, cb], [cl, cr]] = crops;
  const n = batch / (bh * bw);
  const [outH, outW] = [h * bh - ct - cb, w * bw - cl - cr];
  const backend = args.backend as WasmHeapBackend;
  const out = backend.makeOutput([n, outH, outW, c], x.dtype);
  copyPixels(backend.typedArrayFromHeap(out), backend.typedArrayFromHeap(x), n * outH * outW, c, (p) => {
    const xo = (p % outW) + cl;
    const yo = (Math.floor(p / outW) % outH) + ct;
    const image = Math.floor(p / (outW * outH));
    const block = (yo % bh) * bw + (xo % bw);
    return ((block * n + image) * h + Math.floor(yo / bh)) * w + Math.floor(xo / bw);
  });
  return out;
}
