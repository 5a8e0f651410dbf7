// AssemblyScript: training kernels of @wsss/core for the wasm backend, compiled to WebAssembly SIMD by
// scripts/build_wasm.mjs: the two gradients of a depthwise convolution with channel multiplier 1 (NHWC, any
// stride, dilation and padding), the ReLU6 gradient, and column sums (a sum over every axis but the last).
// Channels are processed four at a time; counts need not be multiples of 4 (the last lanes run scalar).
//
//   y[n, oy, ox, c] = sum_{ky, kx} x[n, oy*sh - pt + ky*dh, ox*sw - pl + kx*dw, c] * W[ky, kx, c]   (zero outside x)
//   dW[ky, kx, c]   = sum_{n, oy, ox} x[n, iy, ix, c] * dy[n, oy, ox, c]
//   dx[n, iy, ix, c] = sum over (oy, ox, ky, kx) reading (iy, ix) of dy[n, oy, ox, c] * W[ky, kx, c]
//
// Work is split by channel range [c0, c1) (c0 a multiple of 4): each value is then summed in the same order whatever
// the split, so one thread and several give identical results.

/** Geometry: [batch, inH, inW, channels, outH, outW, kh, kw, sh, sw, dh, dw, padTop, padLeft] as i32 at `geometry`. */
// @ts-ignore: decorator
@inline function g(geometry: usize, i: i32): i32 {
  return load<i32>(geometry + (<usize>i << 2));
}

/** dW for channels [c0, c1): `dw` [kh * kw * channels] is overwritten in that range. */
export function depthwiseFilterGradient(x: usize, dy: usize, dw: usize, geometry: usize, c0: i32, c1: i32): void {
  const batch = g(geometry, 0), inH = g(geometry, 1), inW = g(geometry, 2), channels = g(geometry, 3);
  const outH = g(geometry, 4), outW = g(geometry, 5), kh = g(geometry, 6), kw = g(geometry, 7);
  const sh = g(geometry, 8), sw = g(geometry, 9), dh = g(geometry, 10), dwl = g(geometry, 11);
  const pt = g(geometry, 12), pl = g(geometry, 13);
  const rowBytes = <usize>channels << 2;
  const vectorEnd = c0 + ((c1 - c0) & ~3);
  for (let t = 0; t < kh * kw; t++) memory.fill(dw + <usize>t * rowBytes + (<usize>c0 << 2), 0, <usize>(c1 - c0) << 2);
  for (let n = 0; n < batch; n++) {
    for (let oy = 0; oy < outH; oy++) {
      for (let ky = 0; ky < kh; ky++) {
        const iy = oy * sh - pt + ky * dh;
        if (iy < 0 || iy >= inH) continue;
        for (let ox = 0; ox < outW; ox++) {
          const dyp = dy + <usize>((n * outH + oy) * outW + ox) * rowBytes;
          for (let kx = 0; kx < kw; kx++) {
            const ix = ox * sw - pl + kx * dwl;
            if (ix < 0 || ix >= inW) continue;
            const xp = x + <usize>((n * inH + iy) * inW + ix) * rowBytes;
            const ap = dw + <usize>(ky * kw + kx) * rowBytes;
            let c = c0;
            for (; c < vectorEnd; c += 4) {
              const o = <usize>c << 2;
              v128.store(ap + o, f32x4.add(v128.load(ap + o), f32x4.mul(v128.load(xp + o), v128.load(dyp + o))));
            }
            for (; c < c1; c++) {
              const o = <usize>c << 2;
              store<f32>(ap + o, load<f32>(ap + o) + load<f32>(xp + o) * load<f32>(dyp + o));
            }
          }
        }
      }
    }
  }
}

/** dx for channels [c0, c1): `dx` [batch * inH * inW * channels] is overwritten in that range. */
export function depthwiseInputGradient(dy: usize, w: usize, dx: usize, geometry: usize, c0: i32, c1: i32): void {
  const batch = g(geometry, 0), inH = g(geometry, 1), inW = g(geometry, 2), channels = g(geometry, 3);
  const outH = g(geometry, 4), outW = g(geometry, 5), kh = g(geometry, 6), kw = g(geometry, 7);
  const sh = g(geometry, 8), sw = g(geometry, 9), dh = g(geometry, 10), dwl = g(geometry, 11);
  const pt = g(geometry, 12), pl = g(geometry, 13);
  const rowBytes = <usize>channels << 2;
  const vectorEnd = c0 + ((c1 - c0) & ~3);
  const pixels = batch * inH * inW;
  for (let p = 0; p < pixels; p++) memory.fill(dx + <usize>p * rowBytes + (<usize>c0 << 2), 0, <usize>(c1 - c0) << 2);
  for (let n = 0; n < batch; n++) {
    for (let oy = 0; oy < outH; oy++) {
      for (let ky = 0; ky < kh; ky++) {
        const iy = oy * sh - pt + ky * dh;
        if (iy < 0 || iy >= inH) continue;
        for (let ox = 0; ox < outW; ox++) {
          const dyp = dy + <usize>((n * outH + oy) * outW + ox) * rowBytes;
          for (let kx = 0; kx < kw; kx++) {
            const ix = ox * sw - pl + kx * dwl;
            if (ix < 0 || ix >= inW) continue;
            const xp = dx + <usize>((n * inH + iy) * inW + ix) * rowBytes;
            const wp = w + <usize>(ky * kw + kx) * rowBytes;
            let c = c0;
            for (; c < vectorEnd; c += 4) {
              const o = <usize>c << 2;
              v128.store(xp + o, f32x4.add(v128.load(xp + o), f32x4.mul(v128.load(dyp + o), v128.load(wp + o))));
            }
            for (; c < c1; c++) {
              const o = <usize>c << 2;
              store<f32>(xp + o, load<f32>(xp + o) + load<f32>(dyp + o) * load<f32>(wp + o));
            }
          }
        }
      }
    }
  }
}

/** dx[i] = dy[i] where 0 < x[i] <= 6, else 0 (the gradient of ReLU6 = min(max(x, 0), 6)). */
export function relu6Backprop(dy: usize, x: usize, dx: usize, size: i32): void {
  const zero = f32x4.splat(0);
  const six = f32x4.splat(6);
  const vectorEnd = size & ~3;
  let i = 0;
  for (; i < vectorEnd; i += 4) {
    const o = <usize>i << 2;
    const xv = v128.load(x + o);
    const inside = v128.and(f32x4.gt(xv, zero), f32x4.le(xv, six));
    v128.store(dx + o, v128.and(v128.load(dy + o), inside));
  }
  for (; i < size; i++) {
    const o = <usize>i << 2;
    const xv = load<f32>(x + o);
    store<f32>(dx + o, xv > 0 && xv <= 6 ? load<f32>(dy + o) : 0);
  }
}

/** out[c] = sum_r x[r, c] for columns [c0, c1) of the row-major [rows, cols] matrix at `x`; rows summed in order. */
export function columnSums(x: usize, out: usize, rows: i32, cols: i32, c0: i32, c1: i32): void {
  const rowBytes = <usize>cols << 2;
  const vectorEnd = c0 + ((c1 - c0) & ~3);
  memory.fill(out + (<usize>c0 << 2), 0, <usize>(c1 - c0) << 2);
  for (let r = 0; r < rows; r++) {
    const xp = x + <usize>r * rowBytes;
    let c = c0;
    for (; c < vectorEnd; c += 4) {
      const o = <usize>c << 2;
      v128.store(out + o, f32x4.add(v128.load(out + o), v128.load(xp + o)));
    }
    for (; c < c1; c++) {
      const o = <usize>c << 2;
      store<f32>(out + o, load<f32>(out + o) + load<f32>(xp + o));
    }
  }
}
