// AssemblyScript: training kernels of @wsss/core for the wasm backend, compiled to WebAssembly SIMD by
// scripts/build_wasm.mjs: the two gradients of a depthwise convolution with channel multiplier 1 (NHWC, any
// stride, dilation and padding), the ReLU6 gradient, column sums (a sum over every axis but the last), the filter
// gradient of any convolution, a matrix product with bias and activation applied before each tile is stored, and
// the gradient of bias + activation taken from the output.
// Channels are processed four at a time; counts need not be multiples of 4 (the last lanes run scalar).
//
//   y[n, oy, ox, c] = sum_{ky, kx} x[n, oy*sh - pt + ky*dh, ox*sw - pl + kx*dw, c] * W[ky, kx, c]   (zero outside x)
//   dW[ky, kx, c]   = sum_{n, oy, ox} x[n, iy, ix, c] * dy[n, oy, ox, c]
//   dx[n, iy, ix, c] = sum over (oy, ox, ky, kx) reading (iy, ix) of dy[n, oy, ox, c] * W[ky, kx, c]
//
// Threads split the work by rows, channel range [c0, c1) or image, never inside a sum, or take chunks of a sum whose
// partial sums the caller adds in order (chunks fixed by the geometry): each value is summed in the same order
// whatever the split, so one thread and several give identical results. Accumulators a thread updates over and over
// live in memory of its own (`acc`, a chunk's partial sums), so that two threads never write to one cache line.

/** Geometry: [batch, inH, inW, channels, outH, outW, kh, kw, sh, sw, dh, dw, padTop, padLeft] as i32 at `geometry`. */
// @ts-ignore: decorator
@inline function g(geometry: usize, i: i32): i32 {
  return load<i32>(geometry + (<usize>i << 2));
}

/**
 * acc + x * y per lane: one fused multiply-add (f32x4.relaxed_madd) in the build for engines with relaxed SIMD,
 * a multiply then an add in the other.
 */
// @ts-ignore: decorator
@inline function madd(x: v128, y: v128, acc: v128): v128 {
  if (ASC_FEATURE_RELAXED_SIMD) return f32x4.relaxed_madd(x, y, acc);
  return f32x4.add(acc, f32x4.mul(x, y));
}

/**
 * Reads one word of each 64-byte line of [p, p + bytes) in order and drops it (a load may trap, so neither Binaryen
 * nor V8 removes it). Ahead of a kernel that reads lines in a scattered order (four channels of every pixel, then the
 * next four), these in-order loads fetch them at the prefetchers' pace: tensors a training step wrote a while ago
 * come from memory, not cache, and a 3x3 depthwise convolution on them ran up to 1.8x faster (AMD EPYC).
 */
// @ts-ignore: decorator
@inline function touchLines(p: usize, bytes: usize): void {
  const end = p + bytes;
  for (; p < end; p += 64) load<u32>(p);
}

/**
 * {@link touchLines} on the rows of a 3x3 window (top input row `iy0`, dilation `dh`) of image `n`, leaving out those
 * the window of the output row above (stride `sh`) had when `afterRowAbove`.
 */
// @ts-ignore: decorator
@inline function touchWindowRows(
  x: usize, n: i32, inH: i32, inW: i32, rowBytes: usize, iy0: i32, dh: i32, sh: i32, afterRowAbove: bool,
): void {
  const shared = afterRowAbove && iy0 - sh >= 0 && sh % dh == 0 ? max(0, 3 - sh / dh) : 0;
  for (let ky = shared; ky < 3; ky++) {
    touchLines(x + <usize>((n * inH + iy0 + ky * dh) * inW) * rowBytes, <usize>inW * rowBytes);
  }
}

/** out[c] = a[c] + b[c] for c in [0, count): four lanes at a time, then the remainder (out may be a). */
// @ts-ignore: decorator
@inline function addSweep(out: usize, a: usize, b: usize, count: i32): void {
  const vectorEnd = count & ~3;
  let c = 0;
  for (; c < vectorEnd; c += 4) {
    const o = <usize>c << 2;
    v128.store(out + o, f32x4.add(v128.load(a + o), v128.load(b + o)));
  }
  for (; c < count; c++) {
    const o = <usize>c << 2;
    store<f32>(out + o, load<f32>(a + o) + load<f32>(b + o));
  }
}

/** out[c] += a[c] * b[c] for c in [0, count): four lanes at a time, then the remainder. */
// @ts-ignore: decorator
@inline function multiplyAccumulate(out: usize, a: usize, b: usize, count: i32): void {
  const vectorEnd = count & ~3;
  let c = 0;
  for (; c < vectorEnd; c += 4) {
    const o = <usize>c << 2;
    v128.store(out + o, madd(v128.load(a + o), v128.load(b + o), v128.load(out + o)));
  }
  for (; c < count; c++) {
    const o = <usize>c << 2;
    store<f32>(out + o, load<f32>(out + o) + load<f32>(a + o) * load<f32>(b + o));
  }
}

/**
 * The output columns [oxLo, oxHi) whose 3-wide windows lie inside x (ox * sw - pl >= 0 and
 * ox * sw - pl + 2 * dw < inW), as oxLo | oxHi << 16; an empty range for other filter widths.
 */
// @ts-ignore: decorator
@inline function innerColumns(geometry: usize): i32 {
  const inW = g(geometry, 2), outW = g(geometry, 5), kw = g(geometry, 7);
  const sw = g(geometry, 9), dwl = g(geometry, 11), pl = g(geometry, 13);
  const lo = kw == 3 ? min(outW, (pl + sw - 1) / sw) : outW;
  const hi = kw == 3 ? max(lo, min(outW, (inW - 1 - 2 * dwl + pl) / sw + 1)) : outW;
  return lo | (hi << 16);
}

/**
 * dW[t, c] += sum over output pixels [ox0, ox1) of one row of x[window tap t] * dy for a 3x3 filter whose windows lie
 * inside x: four channels at a time, the sums in registers along the row (two passes: six taps, then three), added
 * to `acc` (kh * kw rows of `rowBytes`) at the row's end; then the last channels one at a time. Addresses as
 * {@link depthwise3x3Row}, `dy0` the row's dy at ox = 0.
 */
// @ts-ignore: decorator
@inline function depthwise3x3FilterGradientRow(
  x0: usize, rowStep: usize, dx: usize, pixelStep: usize, dy0: usize, acc: usize, ox0: i32, ox1: i32,
  channels: i32, rowBytes: usize,
): void {
  const vectorEnd = channels & ~3;
  const dx2 = dx + dx;
  for (let c = 0; c < vectorEnd; c += 4) {
    const o = <usize>c << 2;
    const first = x0 + <usize>ox0 * pixelStep + o;
    const dFirst = dy0 + <usize>ox0 * rowBytes + o;
    const a = acc + o;
    // two passes along the row, the first two tap rows' six sums then the third's three: nine sums in registers
    // plus the inputs V8 loads ahead of the products spilled (see depthwise3x3Row)
    {
      let s0 = f32x4.splat(0), s1 = f32x4.splat(0), s2 = f32x4.splat(0);
      let s3 = f32x4.splat(0), s4 = f32x4.splat(0), s5 = f32x4.splat(0);
      let p0 = first;
      let d = dFirst;
      for (let ox = ox0; ox < ox1; ox++) {
        const g = v128.load(d);
        const p1 = p0 + rowStep;
        s0 = madd(v128.load(p0), g, s0);
        s1 = madd(v128.load(p0 + dx), g, s1);
        s2 = madd(v128.load(p0 + dx2), g, s2);
        s3 = madd(v128.load(p1), g, s3);
        s4 = madd(v128.load(p1 + dx), g, s4);
        s5 = madd(v128.load(p1 + dx2), g, s5);
        p0 += pixelStep;
        d += rowBytes;
      }
      v128.store(a, f32x4.add(v128.load(a), s0));
      v128.store(a + rowBytes, f32x4.add(v128.load(a + rowBytes), s1));
      v128.store(a + 2 * rowBytes, f32x4.add(v128.load(a + 2 * rowBytes), s2));
      v128.store(a + 3 * rowBytes, f32x4.add(v128.load(a + 3 * rowBytes), s3));
      v128.store(a + 4 * rowBytes, f32x4.add(v128.load(a + 4 * rowBytes), s4));
      v128.store(a + 5 * rowBytes, f32x4.add(v128.load(a + 5 * rowBytes), s5));
    }
    let s6 = f32x4.splat(0), s7 = f32x4.splat(0), s8 = f32x4.splat(0);
    let p2 = first + 2 * rowStep;
    let d = dFirst;
    for (let ox = ox0; ox < ox1; ox++) {
      const g = v128.load(d);
      s6 = madd(v128.load(p2), g, s6);
      s7 = madd(v128.load(p2 + dx), g, s7);
      s8 = madd(v128.load(p2 + dx2), g, s8);
      p2 += pixelStep;
      d += rowBytes;
    }
    v128.store(a + 6 * rowBytes, f32x4.add(v128.load(a + 6 * rowBytes), s6));
    v128.store(a + 7 * rowBytes, f32x4.add(v128.load(a + 7 * rowBytes), s7));
    v128.store(a + 8 * rowBytes, f32x4.add(v128.load(a + 8 * rowBytes), s8));
  }
  for (let c = vectorEnd; c < channels; c++) {
    const o = <usize>c << 2;
    for (let t = 0; t < 9; t++) {
      let sum: f32 = 0;
      let xp = x0 + <usize>ox0 * pixelStep + <usize>(t / 3) * rowStep + <usize>(t % 3) * dx + o;
      let d = dy0 + <usize>ox0 * rowBytes + o;
      for (let ox = ox0; ox < ox1; ox++) {
        sum += load<f32>(xp) * load<f32>(d);
        xp += pixelStep;
        d += rowBytes;
      }
      const a = acc + <usize>t * rowBytes + o;
      store<f32>(a, load<f32>(a) + sum);
    }
  }
}

/**
 * dW of chunks [k0, k1) of `rowsPerChunk` output rows each (row r = n * outH + oy): chunk k's sum over its rows,
 * dW_k[ky, kx, c] = sum_{(n, oy) in chunk k, ox} x[n, iy, ix, c] * dy[n, oy, ox, c], into
 * `partials + k * kh * kw * channels * 4`, every channel at once (a thread reads its rows of x and dy once). The
 * caller adds the chunks' sums in order: the chunks depend on the geometry only, so the result does not depend on
 * how many threads took them. A 3x3 filter's inner pixels of a row are summed in registers
 * ({@link depthwise3x3FilterGradientRow}), the others tap by tap.
 */
export function depthwiseFilterGradient(
  x: usize, dy: usize, partials: usize, geometry: usize, k0: i32, k1: i32, rowsPerChunk: i32,
): void {
  const batch = g(geometry, 0), inH = g(geometry, 1), inW = g(geometry, 2), channels = g(geometry, 3);
  const outH = g(geometry, 4), outW = g(geometry, 5), kh = g(geometry, 6), kw = g(geometry, 7);
  const sh = g(geometry, 8), sw = g(geometry, 9), dh = g(geometry, 10), dwl = g(geometry, 11);
  const pt = g(geometry, 12), pl = g(geometry, 13);
  const rowBytes = <usize>channels << 2;
  const partialBytes = <usize>(kh * kw) * rowBytes;
  const columns = innerColumns(geometry);
  const oxLo = columns & 0xffff, oxHi = columns >>> 16;
  const rowStep = <usize>(dh * inW) * rowBytes, dx = <usize>dwl * rowBytes, pixelStep = <usize>sw * rowBytes;
  for (let k = k0; k < k1; k++) {
    const acc = partials + <usize>k * partialBytes;
    memory.fill(acc, 0, partialBytes);
    const rEnd = min(batch * outH, (k + 1) * rowsPerChunk);
    for (let r = k * rowsPerChunk; r < rEnd; r++) {
      const n = r / outH, oy = r - n * outH;
      const iy0 = oy * sh - pt;
      const inside = kh == 3 && iy0 >= 0 && iy0 + 2 * dh < inH && oxLo < oxHi;
      if (inside) {
        const x0 = x + <usize>((n * inH + iy0) * inW) * rowBytes - <usize>pl * rowBytes;
        touchWindowRows(x, n, inH, inW, rowBytes, iy0, dh, sh, r > k * rowsPerChunk && oy > 0);
        touchLines(dy + <usize>(r * outW) * rowBytes, <usize>outW * rowBytes);
        depthwise3x3FilterGradientRow(
          x0, rowStep, dx, pixelStep, dy + <usize>(r * outW) * rowBytes, acc, oxLo, oxHi, channels, rowBytes,
        );
      }
      for (let ky = 0; ky < kh; ky++) {
        const iy = iy0 + ky * dh;
        if (iy < 0 || iy >= inH) continue;
        for (let ox = 0; ox < outW; ox++) {
          if (inside && ox == oxLo) {
            ox = oxHi - 1;
            continue;
          }
          const dyp = dy + <usize>(r * outW + ox) * rowBytes;
          for (let kx = 0; kx < kw; kx++) {
            const ix = ox * sw - pl + kx * dwl;
            if (ix < 0 || ix >= inW) continue;
            const xp = x + <usize>((n * inH + iy) * inW + ix) * rowBytes;
            multiplyAccumulate(acc + <usize>(ky * kw + kx) * rowBytes, xp, dyp, channels);
          }
        }
      }
    }
  }
}

/** Channels [c0, channels) of one output pixel whose 3x3 window (top-left input pixel `xp`) lies inside x. */
// @ts-ignore: decorator
@inline function depthwise3x3Lanes(
  xp: usize, rowStep: usize, dx: usize, w: usize, bias: usize, yp: usize, c0: i32, channels: i32, rowBytes: usize,
  activation: i32,
): void {
  for (let c = c0; c < channels; c++) {
    const o = <usize>c << 2;
    let acc: f32 = bias ? load<f32>(bias + o) : 0;
    for (let t = 0; t < 9; t++) {
      acc += load<f32>(xp + <usize>(t / 3) * rowStep + <usize>(t % 3) * dx + o) * load<f32>(w + <usize>t * rowBytes + o);
    }
    store<f32>(yp + o, activateScalar(acc, activation));
  }
}

/**
 * Output pixels [ox0, ox1) of one output row of a 3x3 depthwise convolution whose windows lie inside x: four
 * channels at a time, their taps and bias held in registers along the row (two passes: six taps, then three), then
 * the last channels one at a time. `x0` is the address ox = 0's window would start at,
 * `rowStep` / `dx` the window's row and column steps, `pixelStep` the input step from one output pixel to the next.
 */
// @ts-ignore: decorator
@inline function depthwise3x3Row(
  x0: usize, rowStep: usize, dx: usize, pixelStep: usize, w: usize, bias: usize, y0: usize, ox0: i32, ox1: i32,
  channels: i32, rowBytes: usize, activation: i32,
): void {
  const vectorEnd = channels & ~3;
  const dx2 = dx + dx;
  for (let c = 0; c < vectorEnd; c += 4) {
    const o = <usize>c << 2;
    const wc = w + o;
    const first = x0 + <usize>ox0 * pixelStep + o;
    const yFirst = y0 + <usize>ox0 * rowBytes + o;
    // two passes along the row, the first two tap rows then the third (adding to the stored sums, then the
    // activation): V8 loads every input of a loop body before its products, and nine taps in registers plus nine
    // inputs spilled (1.35x slower on an AMD EPYC). Each sum keeps its order, bias then taps 0 to 8.
    {
      const w0 = v128.load(wc), w1 = v128.load(wc + rowBytes), w2 = v128.load(wc + 2 * rowBytes);
      const w3 = v128.load(wc + 3 * rowBytes), w4 = v128.load(wc + 4 * rowBytes), w5 = v128.load(wc + 5 * rowBytes);
      const b = bias ? v128.load(bias + o) : f32x4.splat(0);
      let p0 = first;
      let yp = yFirst;
      for (let ox = ox0; ox < ox1; ox++) {
        const p1 = p0 + rowStep;
        let a = madd(v128.load(p0), w0, b);
        a = madd(v128.load(p0 + dx), w1, a);
        a = madd(v128.load(p0 + dx2), w2, a);
        a = madd(v128.load(p1), w3, a);
        a = madd(v128.load(p1 + dx), w4, a);
        a = madd(v128.load(p1 + dx2), w5, a);
        v128.store(yp, a);
        p0 += pixelStep;
        yp += rowBytes;
      }
    }
    const w6 = v128.load(wc + 6 * rowBytes), w7 = v128.load(wc + 7 * rowBytes), w8 = v128.load(wc + 8 * rowBytes);
    let p2 = first + 2 * rowStep;
    let yp = yFirst;
    for (let ox = ox0; ox < ox1; ox++) {
      let a = madd(v128.load(p2), w6, v128.load(yp));
      a = madd(v128.load(p2 + dx), w7, a);
      a = madd(v128.load(p2 + dx2), w8, a);
      v128.store(yp, activate(a, activation));
      p2 += pixelStep;
      yp += rowBytes;
    }
  }
  if (vectorEnd == channels) return;
  for (let ox = ox0; ox < ox1; ox++) {
    depthwise3x3Lanes(
      x0 + <usize>ox * pixelStep, rowStep, dx, w, bias, y0 + <usize>ox * rowBytes, vectorEnd, channels, rowBytes,
      activation,
    );
  }
}

/**
 * The forward depthwise convolution (channel multiplier 1) with bias and activation, for output rows [r0, r1) of all
 * images (row r = n * outH + oy): y[n, oy, ox, c] = act(bias[c] + sum_{ky, kx} x[n, iy, ix, c] * W[ky, kx, c]),
 * taps outside x skipped; `bias` 0 for none, `activation` as {@link activate}. Threads split the rows. A 3x3 filter's
 * pixels whose windows lie inside x run along the row with the taps in registers (the activation a constant in each
 * copy of that loop); the others, at the borders, tap by tap.
 */
export function depthwiseForward(
  x: usize, w: usize, bias: usize, y: usize, geometry: usize, r0: i32, r1: i32, activation: i32,
): void {
  const inH = g(geometry, 1), inW = g(geometry, 2), channels = g(geometry, 3);
  const outH = g(geometry, 4), outW = g(geometry, 5), kh = g(geometry, 6), kw = g(geometry, 7);
  const sh = g(geometry, 8), sw = g(geometry, 9), dh = g(geometry, 10), dwl = g(geometry, 11);
  const pt = g(geometry, 12), pl = g(geometry, 13);
  const rowBytes = <usize>channels << 2;
  const vectorEnd = channels & ~3;
  const columns = innerColumns(geometry);
  const oxLo = columns & 0xffff, oxHi = columns >>> 16;
  const rowStep = <usize>(dh * inW) * rowBytes, dx = <usize>dwl * rowBytes, pixelStep = <usize>sw * rowBytes;
  for (let r = r0; r < r1; r++) {
    const n = r / outH;
    const oy = r - n * outH;
    const iy0 = oy * sh - pt;
    const inside = kh == 3 && iy0 >= 0 && iy0 + 2 * dh < inH && oxLo < oxHi;
    const yRow = y + <usize>(r * outW) * rowBytes;
    if (inside) {
      // where ox = 0's window would start (may lie before x: only pixels from oxLo on are read)
      const x0 = x + <usize>((n * inH + iy0) * inW) * rowBytes - <usize>pl * rowBytes;
      touchWindowRows(x, n, inH, inW, rowBytes, iy0, dh, sh, r > r0 && oy > 0);
      touchLines(yRow, <usize>outW * rowBytes);
      if (activation == 0) depthwise3x3Row(x0, rowStep, dx, pixelStep, w, bias, yRow, oxLo, oxHi, channels, rowBytes, 0);
      else if (activation == 1) depthwise3x3Row(x0, rowStep, dx, pixelStep, w, bias, yRow, oxLo, oxHi, channels, rowBytes, 1);
      else depthwise3x3Row(x0, rowStep, dx, pixelStep, w, bias, yRow, oxLo, oxHi, channels, rowBytes, 2);
    }
    for (let ox = 0; ox < outW; ox++) {
      if (inside && ox == oxLo) {
        ox = oxHi - 1;
        continue;
      }
      const yp = yRow + <usize>ox * rowBytes;
      // the output pixel starts at the bias, then each tap inside x adds its products, a sweep over the channels
      if (bias) memory.copy(yp, bias, rowBytes);
      else memory.fill(yp, 0, rowBytes);
      for (let ky = 0; ky < kh; ky++) {
        const iy = oy * sh - pt + ky * dh;
        if (iy < 0 || iy >= inH) continue;
        for (let kx = 0; kx < kw; kx++) {
          const ix = ox * sw - pl + kx * dwl;
          if (ix < 0 || ix >= inW) continue;
          const xp = x + <usize>((n * inH + iy) * inW + ix) * rowBytes;
          const wp = w + <usize>(ky * kw + kx) * rowBytes;
          multiplyAccumulate(yp, xp, wp, channels);
        }
      }
      if (activation != 0) {
        let c = 0;
        for (; c < vectorEnd; c += 4) {
          const o = <usize>c << 2;
          v128.store(yp + o, activate(v128.load(yp + o), activation));
        }
        for (; c < channels; c++) {
          const o = <usize>c << 2;
          store<f32>(yp + o, activateScalar(load<f32>(yp + o), activation));
        }
      }
    }
  }
}

/**
 * dx of images [n0, n1): `dx` [batch * inH * inW * channels] is overwritten for them. Threads split the batch, so
 * that each writes whole rows of its own.
 */
export function depthwiseInputGradient(dy: usize, w: usize, dx: usize, geometry: usize, n0: i32, n1: i32): void {
  const batch = g(geometry, 0), inH = g(geometry, 1), inW = g(geometry, 2), channels = g(geometry, 3);
  const outH = g(geometry, 4), outW = g(geometry, 5), kh = g(geometry, 6), kw = g(geometry, 7);
  const sh = g(geometry, 8), sw = g(geometry, 9), dh = g(geometry, 10), dwl = g(geometry, 11);
  const pt = g(geometry, 12), pl = g(geometry, 13);
  const rowBytes = <usize>channels << 2;
  memory.fill(dx + <usize>(n0 * inH * inW) * rowBytes, 0, <usize>((n1 - n0) * inH * inW) * rowBytes);
  for (let n = n0; n < n1; n++) {
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
            multiplyAccumulate(xp, dyp, wp, channels);
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

/**
 * The gradient of `y = act(z + bias)` from its output, for chunks [k0, k1) of `rowsPerChunk` rows of row-major
 * [rows, cols] `dy` and `y`: dz[r, c] = dy[r, c] where act'(z) = 1 (ReLU: 0 < y; ReLU6: 0 < y < 6; linear: always),
 * else 0, and chunk k's column sums sum_{r in chunk k} dz[r, c] (rows in order) into `partials + k * cols * 4`, which
 * the caller adds in chunk order for dbias. Threads take chunks: whole rows, read and written once.
 */
export function biasActivationBackprop(
  dy: usize, y: usize, dz: usize, partials: usize, rows: i32, cols: i32, activation: i32,
  k0: i32, k1: i32, rowsPerChunk: i32,
): void {
  const rowBytes = <usize>cols << 2;
  const vectorEnd = cols & ~3;
  const zero = f32x4.splat(0);
  const six = f32x4.splat(6);
  for (let k = k0; k < k1; k++) {
    const acc = partials + <usize>k * rowBytes;
    memory.fill(acc, 0, rowBytes);
    const rEnd = min(rows, (k + 1) * rowsPerChunk);
    for (let r = k * rowsPerChunk; r < rEnd; r++) {
      const at = <usize>r * rowBytes;
      let c = 0;
      for (; c < vectorEnd; c += 4) {
        const o = <usize>c << 2;
        let g = v128.load(dy + at + o);
        if (activation != 0) {
          const yv = v128.load(y + at + o);
          const inside = activation == 1 ? f32x4.gt(yv, zero) : v128.and(f32x4.gt(yv, zero), f32x4.lt(yv, six));
          g = v128.and(g, inside);
        }
        v128.store(dz + at + o, g);
        v128.store(acc + o, f32x4.add(v128.load(acc + o), g));
      }
      for (; c < cols; c++) {
        const o = <usize>c << 2;
        const yv = load<f32>(y + at + o);
        const inside = activation == 0 || (yv > 0 && (activation == 1 || yv < 6));
        const g: f32 = inside ? load<f32>(dy + at + o) : 0;
        store<f32>(dz + at + o, g);
        store<f32>(acc + o, load<f32>(acc + o) + g);
      }
    }
  }
}

/**
 * out[c] = sum_r x[r, c] for columns [c0, c1) of the row-major [rows, cols] matrix at `x`, rows summed in order,
 * accumulated in `acc` (c1 - c0 floats of this thread's own) and then copied into `out`.
 */
export function columnSums(x: usize, out: usize, rows: i32, cols: i32, c0: i32, c1: i32, acc: usize): void {
  const rowBytes = <usize>cols << 2;
  const width = c1 - c0;
  const shift = <usize>c0 << 2;
  memory.fill(acc, 0, <usize>width << 2);
  for (let r = 0; r < rows; r++) addSweep(acc, acc, x + <usize>r * rowBytes + shift, width);
  memory.copy(out + shift, acc, <usize>width << 2);
}

/** Output positions per block of the filter-gradient kernel. */
const BLOCK: i32 = 64;

/**
 * The filter gradient of a 2-D convolution (NHWC, any stride, dilation and padding), without im2col:
 *
 *   dW[ky, kx, ci, co] = sum_{n, oy, ox} x[n, oy*sh - pt + ky*dh, ox*sw - pl + kx*dw, ci] * dy[n, oy, ox, co]
 *
 * for input channels [ci0, ci1), summed over chunks [k0, k1) of `positionsPerChunk` output positions each (m = (n
 * * outH + oy) * outW + ox): chunk k's sum overwrites `dw + k * kh * kw * inC * outC * 4` there. Threads split the
 * input channels (one chunk of all positions, into `dw`) or, with many positions, take chunks, whose sums the
 * caller adds in order; a filter on few channels, such as an RGB stem, runs as {@link convFilterGradientPatches}.
 * Output positions are taken in blocks of 64; per tap, a block whose input rows are consecutive (a 1x1 filter with
 * stride 1, or a block inside one image row) is read in place, any other is first gathered into `gather` (this
 * thread's 64 rows of inC floats; zeros for padding), and 4 x 8 register tiles of dW accumulate over the block.
 * Geometry words as the depthwise kernels, plus outC at index 14.
 */
export function convFilterGradient(
  x: usize, dy: usize, dw: usize, geometry: usize, gather: usize, ci0: i32, ci1: i32,
  k0: i32, k1: i32, positionsPerChunk: i32,
): void {
  const batch = g(geometry, 0), inH = g(geometry, 1), inW = g(geometry, 2), inC = g(geometry, 3);
  const outH = g(geometry, 4), outW = g(geometry, 5), kh = g(geometry, 6), kw = g(geometry, 7);
  const sh = g(geometry, 8), sw = g(geometry, 9), dh = g(geometry, 10), dwl = g(geometry, 11);
  const pt = g(geometry, 12), pl = g(geometry, 13), outC = g(geometry, 14);
  const total = batch * outH * outW;
  const xRowBytes = <usize>inC << 2;
  const dyRowBytes = <usize>outC << 2;
  const shareOffset = <usize>ci0 << 2;
  const shareBytes = <usize>(ci1 - ci0) << 2;
  const chunkBytes = <usize>(kh * kw * inC) * dyRowBytes;
  for (let k = k0; k < k1; k++) {
    const mStart = k * positionsPerChunk;
    const mEnd = min(total, mStart + positionsPerChunk);
    for (let t = 0; t < kh * kw; t++) {
      const ky = t / kw, kx = t % kw;
      const tapBase = dw + <usize>k * chunkBytes + <usize>t * <usize>inC * dyRowBytes;
      for (let ci = ci0; ci < ci1; ci++) memory.fill(tapBase + <usize>ci * dyRowBytes, 0, dyRowBytes);
      for (let m0 = mStart; m0 < mEnd; m0 += BLOCK) {
        const count = min(BLOCK, mEnd - m0);
        // the input row (pixel) each output position of the block reads at this tap, -1 for padding
        let first = -1;
        let valid = 0;
        let consecutive = true;
        // (n, oy, ox) of position m0, then stepped along the block (no division per position)
        let ox = m0 % outW, oy = (m0 / outW) % outH, n = m0 / (outW * outH);
        for (let j = 0; j < count; j++) {
          const iy = oy * sh - pt + ky * dh, ix = ox * sw - pl + kx * dwl;
          const row = iy >= 0 && iy < inH && ix >= 0 && ix < inW ? (n * inH + iy) * inW + ix : -1;
          if (j == 0) first = row;
          if (row < 0 || row != first + j) consecutive = false;
          if (row >= 0) valid++;
          store<i32>(gather + (<usize>j << 2), row);
          if (++ox == outW) {
            ox = 0;
            if (++oy == outH) {
              oy = 0;
              n++;
            }
          }
        }
        if (valid == 0) continue;
        touchLines(dy + <usize>m0 * dyRowBytes, <usize>count * dyRowBytes);
        if (consecutive) touchLines(x + <usize>first * xRowBytes, <usize>count * xRowBytes);
        let xBlock = x + <usize>first * xRowBytes;
        if (!consecutive) {
          // gather this thread's channels of the block's rows (the row list is read before it is overwritten)
          for (let j = count - 1; j >= 0; j--) {
            const row = load<i32>(gather + (<usize>j << 2));
            const to = gather + <usize>j * xRowBytes + shareOffset;
            if (row < 0) memory.fill(to, 0, shareBytes);
            else memory.copy(to, x + <usize>row * xRowBytes + shareOffset, shareBytes);
          }
          xBlock = gather;
        }
        filterGradientTiles(
          xBlock, dy + <usize>m0 * dyRowBytes, tapBase, xRowBytes, dyRowBytes, count, ci0, ci1, 0, outC,
        );
      }
    }
  }
}

/** sum_j x[j] * d[j] over `count` rows of two column-strided arrays (the single lanes at the tiles' edges). */
// @ts-ignore: decorator
@inline function columnDot(xp: usize, d: usize, count: i32, xRowBytes: usize, dyRowBytes: usize): f32 {
  let a: f32 = 0;
  for (let j = 0; j < count; j++) {
    a += load<f32>(xp) * load<f32>(d);
    xp += xRowBytes;
    d += dyRowBytes;
  }
  return a;
}

/**
 * One block of the filter gradient whose `count` input rows are consecutive from `xBlock` (row stride `xRowBytes`):
 * dW rows [ci0, ci1), columns [co0, co1) at `tapBase` += X_blockᵀ · dY_block; 4 x 8 register tiles, then 4 x 1 at
 * the output-channel edge and 1 x 4 / 1 x 1 for the last input channels.
 */
function filterGradientTiles(
  xBlock: usize, dyBlock: usize, tapBase: usize, xRowBytes: usize, dyRowBytes: usize,
  count: i32, ci0: i32, ci1: i32, co0: i32, co1: i32,
): void {
  const ciVectorEnd = ci0 + ((ci1 - ci0) & ~3);
  const co8End = co0 + ((co1 - co0) & ~7);
  let ci = ci0;
  for (; ci < ciVectorEnd; ci += 4) {
    const cBase = tapBase + <usize>ci * dyRowBytes;
    const xColumn = xBlock + (<usize>ci << 2);
    let co = co0;
    for (; co < co8End; co += 8) {
      const c = cBase + (<usize>co << 2);
      let a00 = v128.load(c), a01 = v128.load(c + 16);
      let a10 = v128.load(c + dyRowBytes), a11 = v128.load(c + dyRowBytes + 16);
      let a20 = v128.load(c + 2 * dyRowBytes), a21 = v128.load(c + 2 * dyRowBytes + 16);
      let a30 = v128.load(c + 3 * dyRowBytes), a31 = v128.load(c + 3 * dyRowBytes + 16);
      let xp = xColumn;
      let d = dyBlock + (<usize>co << 2);
      for (let j = 0; j < count; j++) {
        // broadcast loads: V8 made lane shuffles of one load, which share a port with the multiply-adds on Zen 4
        const d0 = v128.load(d), d1 = v128.load(d, 16);
        const x0 = v128.load32_splat(xp), x1 = v128.load32_splat(xp, 4);
        const x2 = v128.load32_splat(xp, 8), x3 = v128.load32_splat(xp, 12);
        a00 = madd(x0, d0, a00);
        a01 = madd(x0, d1, a01);
        a10 = madd(x1, d0, a10);
        a11 = madd(x1, d1, a11);
        a20 = madd(x2, d0, a20);
        a21 = madd(x2, d1, a21);
        a30 = madd(x3, d0, a30);
        a31 = madd(x3, d1, a31);
        xp += xRowBytes;
        d += dyRowBytes;
      }
      v128.store(c, a00); v128.store(c + 16, a01);
      v128.store(c + dyRowBytes, a10); v128.store(c + dyRowBytes + 16, a11);
      v128.store(c + 2 * dyRowBytes, a20); v128.store(c + 2 * dyRowBytes + 16, a21);
      v128.store(c + 3 * dyRowBytes, a30); v128.store(c + 3 * dyRowBytes + 16, a31);
    }
    for (; co < co1; co++) {
      for (let r = 0; r < 4; r++) {
        const c = cBase + <usize>r * dyRowBytes + (<usize>co << 2);
        const dot = columnDot(xColumn + (<usize>r << 2), dyBlock + (<usize>co << 2), count, xRowBytes, dyRowBytes);
        store<f32>(c, load<f32>(c) + dot);
      }
    }
  }
  const co4End = co0 + ((co1 - co0) & ~3);
  for (; ci < ci1; ci++) {
    const cBase = tapBase + <usize>ci * dyRowBytes;
    let co = co0;
    for (; co < co4End; co += 4) {
      const c = cBase + (<usize>co << 2);
      let a = v128.load(c);
      let xp = xBlock + (<usize>ci << 2);
      let d = dyBlock + (<usize>co << 2);
      for (let j = 0; j < count; j++) {
        a = madd(f32x4.splat(load<f32>(xp)), v128.load(d), a);
        xp += xRowBytes;
        d += dyRowBytes;
      }
      v128.store(c, a);
    }
    for (; co < co1; co++) {
      const c = cBase + (<usize>co << 2);
      const dot = columnDot(xBlock + (<usize>ci << 2), dyBlock + (<usize>co << 2), count, xRowBytes, dyRowBytes);
      store<f32>(c, load<f32>(c) + dot);
    }
  }
}

/**
 * Rows of A per block of the matrix product (their K values stay in cache while every column tile uses them): a
 * multiple of both tile heights, 3 and 4.
 */
const GEMM_BLOCK: i32 = 60;

/**
 * Activation codes of the fused kernels: 0 linear, 1 ReLU, 2 ReLU6. The pseudo-minimum and -maximum (`pmin`, `pmax`:
 * one x86 instruction each; IEEE `min` / `max` take V8 nine to get NaN and signed zeros right, which doubled a
 * depthwise convolution's time) keep NaN (a NaN input stays NaN) and differ only in the sign of a zero output.
 */
// @ts-ignore: decorator
@inline function activate(v: v128, activation: i32): v128 {
  if (activation == 0) return v;
  const relu = f32x4.pmax(v, f32x4.splat(0));
  return activation == 1 ? relu : f32x4.pmin(relu, f32x4.splat(6));
}

// @ts-ignore: decorator
@inline function activateScalar(v: f32, activation: i32): f32 {
  if (activation == 0) return v;
  const relu = max(v, <f32>0);
  return activation == 1 ? relu : min(relu, <f32>6);
}

/** The 4 lanes of `bias` from column `col` (zeros without a bias, i.e. address 0). */
// @ts-ignore: decorator
@inline function biasAt(bias: usize, col: i32): v128 {
  return bias ? v128.load(bias + (<usize>col << 2)) : f32x4.splat(0);
}

/** The first `count` (< 4) lanes of `bias` from column `col`, zeros after (and without a bias, address 0). */
// @ts-ignore: decorator
@inline function biasLanes(bias: usize, col: i32, count: i32): v128 {
  let v = f32x4.splat(0);
  if (!bias || count <= 0) return v;
  const p = bias + (<usize>col << 2);
  v = f32x4.replace_lane(v, 0, load<f32>(p));
  if (count > 1) v = f32x4.replace_lane(v, 1, load<f32>(p, 4));
  if (count > 2) v = f32x4.replace_lane(v, 2, load<f32>(p, 8));
  if (count > 3) v = f32x4.replace_lane(v, 3, load<f32>(p, 12));
  return v;
}

/** Stores the first `count` (1 to 4) lanes of `v` at `p`. */
// @ts-ignore: decorator
@inline function storeLanes(p: usize, v: v128, count: i32): void {
  store<f32>(p, f32x4.extract_lane(v, 0));
  if (count > 1) store<f32>(p, f32x4.extract_lane(v, 1), 4);
  if (count > 2) store<f32>(p, f32x4.extract_lane(v, 2), 8);
  if (count > 3) store<f32>(p, f32x4.extract_lane(v, 3), 12);
}

/** One row of a 4 x 8 tile, act(lo | hi + bias), stored at `cp`: all 8 columns, or the first `width` of a last strip. */
// @ts-ignore: decorator
@inline function storeTileRow(
  cp: usize, lo: v128, hi: v128, bias0: v128, bias1: v128, activation: i32, width: i32,
): void {
  const v0 = activate(f32x4.add(lo, bias0), activation);
  const v1 = activate(f32x4.add(hi, bias1), activation);
  if (width >= 8) {
    v128.store(cp, v0);
    v128.store(cp, v1, 16);
    return;
  }
  storeLanes(cp, v0, min(width, 4));
  if (width > 4) storeLanes(cp + 16, v1, width - 4);
}

/** One row of A (`ap`, K values) times one 8-column strip of B (`bp`, rows `stripStep` bytes apart), stored as a tile row. */
// @ts-ignore: decorator
@inline function gemmRowTimesStrip(
  ap: usize, bp: usize, stripStep: usize, k: i32, cp: usize, bias0: v128, bias1: v128, activation: i32, width: i32,
): void {
  let a0 = f32x4.splat(0), a1 = f32x4.splat(0);
  for (let kk = 0; kk < k; kk++) {
    const x = v128.load32_splat(ap);
    a0 = madd(x, v128.load(bp), a0);
    a1 = madd(x, v128.load(bp, 16), a1);
    ap += 4;
    bp += stripStep;
  }
  storeTileRow(cp, a0, a1, bias0, bias1, activation, width);
}

/** One row of a 3 x 12 tile, act(v0 | v1 | v2 + bias), stored at `cp`. */
// @ts-ignore: decorator
@inline function storeTileRow12(
  cp: usize, v0: v128, v1: v128, v2: v128, bias0: v128, bias1: v128, bias2: v128, activation: i32,
): void {
  v128.store(cp, activate(f32x4.add(v0, bias0), activation));
  v128.store(cp, activate(f32x4.add(v1, bias1), activation), 16);
  v128.store(cp, activate(f32x4.add(v2, bias2), activation), 32);
}

/**
 * Rows [m0, m1) (a multiple of 3 apart) of 12 columns of C from three whole packed strips of B starting at `strip`
 * (`stripBytes` apart): `half` 0 the first strip and the first half of the second (columns [col, col + 12)), 1 the
 * second half of the second strip and the third ([col + 12, col + 24)). 3 x 12 register tiles: nine accumulators,
 * three B vectors and a broadcast fit x64's registers under V8, and nine chains of multiply-adds beat the 4 x 8 tile's
 * eight (~6%; a 4 x 12 tile spills). Each C value is one sum over k in order, as in the 4 x 8 tiles.
 */
// @ts-ignore: decorator
@inline function gemm3x12(
  a: usize, aRow: usize, strip: usize, stripBytes: usize, half: i32, c: usize, cRow: usize, bias: usize, col: i32,
  m0: i32, m1: i32, k: i32, activation: i32,
): void {
  const c0 = col + half * 12;
  const bias0 = biasAt(bias, c0), bias1 = biasAt(bias, c0 + 4), bias2 = biasAt(bias, c0 + 8);
  // the first B vector's address at k = 0 (half 1: the second strip's upper four columns); the other two follow at
  // fixed distances
  const first = half == 0 ? strip : strip + stripBytes + 16;
  for (let m = m0; m < m1; m += 3) {
    let a00 = f32x4.splat(0), a01 = f32x4.splat(0), a02 = f32x4.splat(0);
    let a10 = f32x4.splat(0), a11 = f32x4.splat(0), a12 = f32x4.splat(0);
    let a20 = f32x4.splat(0), a21 = f32x4.splat(0), a22 = f32x4.splat(0);
    let p0 = a + <usize>m * aRow;
    let p1 = p0 + aRow, p2 = p1 + aRow;
    let bp = first;
    for (let kk = 0; kk < k; kk++) {
      const b0 = v128.load(bp);
      const b1 = half == 0 ? v128.load(bp, 16) : v128.load(bp + stripBytes - 16);
      const b2 = v128.load(bp + stripBytes);
      const x0 = v128.load32_splat(p0);
      a00 = madd(x0, b0, a00);
      a01 = madd(x0, b1, a01);
      a02 = madd(x0, b2, a02);
      const x1 = v128.load32_splat(p1);
      a10 = madd(x1, b0, a10);
      a11 = madd(x1, b1, a11);
      a12 = madd(x1, b2, a12);
      const x2 = v128.load32_splat(p2);
      a20 = madd(x2, b0, a20);
      a21 = madd(x2, b1, a21);
      a22 = madd(x2, b2, a22);
      p0 += 4;
      p1 += 4;
      p2 += 4;
      bp += 32;
    }
    const cp = c + <usize>m * cRow + (<usize>c0 << 2);
    storeTileRow12(cp, a00, a01, a02, bias0, bias1, bias2, activation);
    storeTileRow12(cp + cRow, a10, a11, a12, bias0, bias1, bias2, activation);
    storeTileRow12(cp + 2 * cRow, a20, a21, a22, bias0, bias1, bias2, activation);
  }
}

/**
 * Rows [m0, m1) of the matrix product C = act(A · B + bias) (row-major; A [M, K] with row stride `lda` floats,
 * B [K, N] with `ldb`, C [M, N] with `ldc`; `bias` [N] or 0 for none, `activation` as {@link activate}; `packed`
 * B's 8-column strips from {@link packColumns}, the last one zero-filled, or 0 to read B in place): over blocks of
 * 60 rows, 3 x 12 register tiles on groups of three packed strips ({@link gemm3x12}), 4 x 8 tiles on the other strips
 * (then 1 x 8; unpacked, 4 x 4 and single lanes at the edges), bias and activation applied to a tile in registers
 * before it is stored; each C value is one sum over k in order, so any split of the
 * rows gives the same values.
 */
export function gemm(
  a: usize, b: usize, c: usize, k: i32, n: i32, lda: i32, ldb: i32, ldc: i32, m0: i32, m1: i32,
  bias: usize, activation: i32, packed: usize,
): void {
  const aRow = <usize>lda << 2, bRow = <usize>ldb << 2, cRow = <usize>ldc << 2;
  // with B's 8-column strips packed contiguous (packColumns), a strip is read in order and stays in L1 cache
  const stripStep: usize = packed ? 32 : bRow;
  // packed strips include a last, partial one (zero-filled past column n): computed whole, stored in part
  const stripsEnd = packed ? n : n & ~7;
  const n4End = n & ~3;
  for (let mb = m0; mb < m1; mb += GEMM_BLOCK) {
    const mEnd = min(mb + GEMM_BLOCK, m1);
    const m4End = mb + ((mEnd - mb) & ~3);
    let col = 0;
    if (packed) {
      // groups of three whole strips inside n as 3 x 12 tiles, their last rows (fewer than 3) 1 x 8
      const stripBytes = <usize>k << 5;
      const m3End = mb + ((mEnd - mb) / 3) * 3;
      for (; col + 24 <= n; col += 24) {
        const strip = packed + <usize>col * (<usize>k << 2);
        gemm3x12(a, aRow, strip, stripBytes, 0, c, cRow, bias, col, mb, m3End, k, activation);
        gemm3x12(a, aRow, strip, stripBytes, 1, c, cRow, bias, col, mb, m3End, k, activation);
        for (let m = m3End; m < mEnd; m++) {
          for (let t = 0; t < 3; t++) {
            const c8 = col + t * 8;
            gemmRowTimesStrip(
              a + <usize>m * aRow, strip + <usize>t * stripBytes, 32, k, c + <usize>m * cRow + (<usize>c8 << 2),
              biasAt(bias, c8), biasAt(bias, c8 + 4), activation, 8,
            );
          }
        }
      }
    }
    for (; col < stripsEnd; col += 8) {
      const width = min(8, n - col);
      const bias0 = width >= 8 ? biasAt(bias, col) : biasLanes(bias, col, min(width, 4));
      const bias1 = width >= 8 ? biasAt(bias, col + 4) : biasLanes(bias, col + 4, width - 4);
      const bCol = packed ? packed + <usize>col * (<usize>k << 2) : b + (<usize>col << 2);
      let m = mb;
      for (; m < m4End; m += 4) {
        let a00 = f32x4.splat(0), a01 = f32x4.splat(0), a10 = f32x4.splat(0), a11 = f32x4.splat(0);
        let a20 = f32x4.splat(0), a21 = f32x4.splat(0), a30 = f32x4.splat(0), a31 = f32x4.splat(0);
        // a pointer per row and broadcast loads: V8 keeps all of them in registers (offsets on splat loads, or
        // lane shuffles, cost it spills or a shuffle port the multiply-adds need)
        let p0 = a + <usize>m * aRow;
        let p1 = p0 + aRow, p2 = p1 + aRow, p3 = p2 + aRow;
        let bp = bCol;
        for (let kk = 0; kk < k; kk++) {
          const b0 = v128.load(bp), b1 = v128.load(bp, 16);
          const x0 = v128.load32_splat(p0), x1 = v128.load32_splat(p1);
          const x2 = v128.load32_splat(p2), x3 = v128.load32_splat(p3);
          a00 = madd(x0, b0, a00);
          a01 = madd(x0, b1, a01);
          a10 = madd(x1, b0, a10);
          a11 = madd(x1, b1, a11);
          a20 = madd(x2, b0, a20);
          a21 = madd(x2, b1, a21);
          a30 = madd(x3, b0, a30);
          a31 = madd(x3, b1, a31);
          p0 += 4;
          p1 += 4;
          p2 += 4;
          p3 += 4;
          bp += stripStep;
        }
        const cp = c + <usize>m * cRow + (<usize>col << 2);
        storeTileRow(cp, a00, a01, bias0, bias1, activation, width);
        storeTileRow(cp + cRow, a10, a11, bias0, bias1, activation, width);
        storeTileRow(cp + 2 * cRow, a20, a21, bias0, bias1, activation, width);
        storeTileRow(cp + 3 * cRow, a30, a31, bias0, bias1, activation, width);
      }
      for (; m < mEnd; m++) {
        gemmRowTimesStrip(
          a + <usize>m * aRow, bCol, stripStep, k, c + <usize>m * cRow + (<usize>col << 2), bias0, bias1, activation,
          width,
        );
      }
    }
    for (; col < n4End; col += 4) {
      for (let m = mb; m < mEnd; m++) {
        let acc = f32x4.splat(0);
        let ap = a + <usize>m * aRow;
        let bp = b + (<usize>col << 2);
        for (let kk = 0; kk < k; kk++) {
          acc = madd(f32x4.splat(load<f32>(ap)), v128.load(bp), acc);
          ap += 4;
          bp += bRow;
        }
        v128.store(c + <usize>m * cRow + (<usize>col << 2), activate(f32x4.add(acc, biasAt(bias, col)), activation));
      }
    }
    for (; col < n; col++) {
      for (let m = mb; m < mEnd; m++) {
        let acc: f32 = 0;
        let ap = a + <usize>m * aRow;
        let bp = b + (<usize>col << 2);
        for (let kk = 0; kk < k; kk++) {
          acc += load<f32>(ap) * load<f32>(bp);
          ap += 4;
          bp += bRow;
        }
        const biasValue: f32 = bias ? load<f32>(bias + (<usize>col << 2)) : 0;
        store<f32>(c + <usize>m * cRow + (<usize>col << 2), activateScalar(acc + biasValue, activation));
      }
    }
  }
}

/**
 * B's 8-column strips [col, col + 8) for strips [s0, s1), each K x 8 contiguous at `packed + s * K * 32` bytes: what
 * {@link gemm} reads in order instead of rows `ldb` floats apart (a power-of-two stride maps all of a strip's rows
 * onto a few L1 cache sets). A last strip past column `n` is filled with zeros.
 */
export function packColumns(b: usize, packed: usize, k: i32, ldb: i32, n: i32, s0: i32, s1: i32): void {
  const bRow = <usize>ldb << 2;
  for (let s = s0; s < s1; s++) {
    let from = b + (<usize>s << 5);
    let to = packed + <usize>s * (<usize>k << 5);
    const width = min(8, n - (s << 3));
    if (width < 8) {
      for (let kk = 0; kk < k; kk++) {
        for (let j = 0; j < 8; j++) store<f32>(to + (<usize>j << 2), j < width ? load<f32>(from + (<usize>j << 2)) : 0);
        from += bRow;
        to += 32;
      }
      continue;
    }
    for (let kk = 0; kk < k; kk++) {
      v128.store(to, v128.load(from));
      v128.store(to, v128.load(from, 16), 16);
      from += bRow;
      to += 32;
    }
  }
}

/** Output positions per block of the patch kernels: their patches ([64, kh * kw * inC]) stay in cache. */
const PATCH_BLOCK: i32 = 64;
/** Output positions per partial sum of {@link convFilterGradientPatches} (a multiple of PATCH_BLOCK). */
const PATCH_CHUNK: i32 = 2048;

/** out[i] = x[i] for i in [0, count): four lanes at a time, then the remainder. */
// @ts-ignore: decorator
@inline function copyFloats(out: usize, x: usize, count: i32): void {
  const vectorEnd = count & ~3;
  let i = 0;
  for (; i < vectorEnd; i += 4) v128.store(out + (<usize>i << 2), v128.load(x + (<usize>i << 2)));
  for (; i < count; i++) store<f32>(out + (<usize>i << 2), load<f32>(x + (<usize>i << 2)));
}

/**
 * The patches of output positions [m0, m0 + count) (m = (n * outH + oy) * outW + ox) into `to`, one row of
 * kh * kw * inC floats per position in the filter's [ky, kx, ci] order, zeros where a tap falls in the padding:
 * im2col of one block.
 */
function gatherPatches(x: usize, geometry: usize, to: usize, m0: i32, count: i32): void {
  const inH = g(geometry, 1), inW = g(geometry, 2), inC = g(geometry, 3);
  const outH = g(geometry, 4), outW = g(geometry, 5), kh = g(geometry, 6), kw = g(geometry, 7);
  const sh = g(geometry, 8), sw = g(geometry, 9), dh = g(geometry, 10), dwl = g(geometry, 11);
  const pt = g(geometry, 12), pl = g(geometry, 13);
  const tapBytes = <usize>inC << 2;
  let ox = m0 % outW;
  let oy = (m0 / outW) % outH;
  let n = m0 / (outW * outH);
  let p = to;
  const windowRowBytes = <usize>kw * tapBytes;
  for (let j = 0; j < count; j++) {
    const ix0 = ox * sw - pl;
    // the taps of a window row are consecutive in x when undilated and inside: one copy
    const rowsContiguous = dwl == 1 && ix0 >= 0 && ix0 + kw <= inW;
    for (let ky = 0; ky < kh; ky++) {
      const iy = oy * sh - pt + ky * dh;
      const rowInside = iy >= 0 && iy < inH;
      if (rowInside && rowsContiguous) {
        copyFloats(p, x + <usize>((n * inH + iy) * inW + ix0) * tapBytes, kw * inC);
        p += windowRowBytes;
        continue;
      }
      for (let kx = 0; kx < kw; kx++) {
        const ix = ox * sw - pl + kx * dwl;
        if (rowInside && ix >= 0 && ix < inW) copyFloats(p, x + <usize>((n * inH + iy) * inW + ix) * tapBytes, inC);
        else memory.fill(p, 0, tapBytes);
        p += tapBytes;
      }
    }
    if (++ox == outW) {
      ox = 0;
      if (++oy == outH) {
        oy = 0;
        n++;
      }
    }
  }
}

/**
 * A convolution (NHWC, any filter, stride, dilation and padding) as patches times the filter, for output positions
 * [m0, m1): y [M, outC] = act(patches [M, kh * kw * inC] · W [kh * kw * inC, outC] + bias), the patches gathered
 * 64 positions at a time into `gather` (this thread's [64, kh * kw * inC] floats) and multiplied by {@link gemm}
 * (`packed`: W's 8-column strips from {@link packColumns}, or 0). Meant for few input channels (an RGB stem), where
 * a patch row is short. Each value is one sum in the filter's order, whatever the split.
 */
export function convForwardPatches(
  x: usize, w: usize, bias: usize, y: usize, geometry: usize, gather: usize, packed: usize,
  m0: i32, m1: i32, activation: i32,
): void {
  const patch = g(geometry, 6) * g(geometry, 7) * g(geometry, 3);
  const outC = g(geometry, 14);
  for (let mb = m0; mb < m1; mb += PATCH_BLOCK) {
    const count = min(PATCH_BLOCK, m1 - mb);
    gatherPatches(x, geometry, gather, mb, count);
    gemm(gather, w, y + <usize>mb * (<usize>outC << 2), patch, outC, patch, outC, outC, 0, count, bias, activation, packed);
  }
}

/**
 * The filter gradient of a convolution as patchesᵀ times dy, one partial sum per chunk of
 * {@link PATCH_CHUNK} output positions: for chunks [k0, k1), `partials + k * kh * kw * inC * outC * 4` =
 * patchesᵀ · dY over the chunk's positions, in blocks of 64 (patches gathered into `gather`, this thread's
 * [64, kh * kw * inC] floats), 4 x 8 register tiles as {@link convFilterGradient}. For few input channels (an RGB
 * stem), where the per-tap kernel runs single lanes. Threads split the chunks; the caller adds the partials in
 * chunk order, so that the result does not depend on the split.
 */
export function convFilterGradientPatches(
  x: usize, dy: usize, partials: usize, geometry: usize, gather: usize, k0: i32, k1: i32,
): void {
  const total = g(geometry, 0) * g(geometry, 4) * g(geometry, 5);
  const patch = g(geometry, 6) * g(geometry, 7) * g(geometry, 3);
  const outC = g(geometry, 14);
  const dyRowBytes = <usize>outC << 2;
  const partialBytes = <usize>patch * dyRowBytes;
  for (let k = k0; k < k1; k++) {
    const dw = partials + <usize>k * partialBytes;
    memory.fill(dw, 0, partialBytes);
    const end = min(total, (k + 1) * PATCH_CHUNK);
    for (let m0 = k * PATCH_CHUNK; m0 < end; m0 += PATCH_BLOCK) {
      const count = min(PATCH_BLOCK, end - m0);
      gatherPatches(x, geometry, gather, m0, count);
      filterGradientTiles(
        gather, dy + <usize>m0 * dyRowBytes, dw, <usize>patch << 2, dyRowBytes, count, 0, patch, 0, outC,
      );
    }
  }
}

/**
 * {@link packColumns} for a B given transposed: `bt` [N, K] row-major (row stride `ldbt` floats), B = btᵀ. Strip s
 * (columns [8s, 8s + 8) of B, rows [8s, 8s + 8) of bt) becomes K x 8 contiguous at `packed + s * K * 32` bytes,
 * four K values of eight rows at a time (two 4 x 4 transposes in registers), for strips [s0, s1).
 */
export function packColumnsTransposed(bt: usize, packed: usize, k: i32, ldbt: i32, s0: i32, s1: i32): void {
  const rowBytes = <usize>ldbt << 2;
  const k4End = k & ~3;
  for (let s = s0; s < s1; s++) {
    const r0 = bt + <usize>(s << 3) * rowBytes;
    let to = packed + <usize>s * (<usize>k << 5);
    let kk = 0;
    for (; kk < k4End; kk += 4) {
      const o = <usize>kk << 2;
      transpose4(v128.load(r0 + o), v128.load(r0 + rowBytes + o), v128.load(r0 + 2 * rowBytes + o), v128.load(r0 + 3 * rowBytes + o), to);
      const r4 = r0 + 4 * rowBytes;
      transpose4(v128.load(r4 + o), v128.load(r4 + rowBytes + o), v128.load(r4 + 2 * rowBytes + o), v128.load(r4 + 3 * rowBytes + o), to + 16);
      to += 128;
    }
    for (; kk < k; kk++) {
      for (let j = 0; j < 8; j++) store<f32>(to + (<usize>j << 2), load<f32>(r0 + <usize>j * rowBytes + (<usize>kk << 2)));
      to += 32;
    }
  }
}

/** Rows v0..v3 (four values each) transposed: column i stored at `to + i * 32` (every other 16 bytes). */
// @ts-ignore: decorator
@inline function transpose4(v0: v128, v1: v128, v2: v128, v3: v128, to: usize): void {
  const t0 = v128.shuffle<f32>(v0, v1, 0, 4, 1, 5);
  const t1 = v128.shuffle<f32>(v2, v3, 0, 4, 1, 5);
  const t2 = v128.shuffle<f32>(v0, v1, 2, 6, 3, 7);
  const t3 = v128.shuffle<f32>(v2, v3, 2, 6, 3, 7);
  v128.store(to, v128.shuffle<f32>(t0, t1, 0, 1, 4, 5));
  v128.store(to + 32, v128.shuffle<f32>(t0, t1, 2, 3, 6, 7));
  v128.store(to + 64, v128.shuffle<f32>(t2, t3, 0, 1, 4, 5));
  v128.store(to + 96, v128.shuffle<f32>(t2, t3, 2, 3, 6, 7));
}

/**
 * out [cols, rows] = transpose of the row-major [rows, cols] matrix at `x`, for rows [r0, r1), in 16 x 16 tiles so
 * that reads and writes stay within a few cache lines.
 */
export function transpose2d(x: usize, out: usize, rows: i32, cols: i32, r0: i32, r1: i32): void {
  for (let rb = r0; rb < r1; rb += 16) {
    const rEnd = min(rb + 16, r1);
    for (let cb = 0; cb < cols; cb += 16) {
      const cEnd = min(cb + 16, cols);
      for (let r = rb; r < rEnd; r++) {
        const xp = x + (<usize>(r * cols) << 2);
        for (let col = cb; col < cEnd; col++) {
          store<f32>(out + (<usize>(col * rows + r) << 2), load<f32>(xp + (<usize>col << 2)));
        }
      }
    }
  }
}

/** out[i] = a[i] + b[i] for i in [0, size). */
export function addArrays(a: usize, b: usize, out: usize, size: i32): void {
  addSweep(out, a, b, size);
}

/**
 * One SGD step with momentum and L2 weight decay (torch.optim.SGD) over `size` floats, into new arrays:
 * g' = g + decay w;  v' = momentum v + g';  w' = w - lr v'.
 */
export function sgdMomentumUpdate(
  w: usize, v: usize, g: usize, wOut: usize, vOut: usize, size: i32, lr: f32, momentum: f32, decay: f32,
): void {
  const lrv = f32x4.splat(lr), mv = f32x4.splat(momentum), dv = f32x4.splat(decay);
  const vectorEnd = size & ~3;
  let i = 0;
  for (; i < vectorEnd; i += 4) {
    const o = <usize>i << 2;
    const wv = v128.load(w + o);
    const grad = f32x4.add(v128.load(g + o), f32x4.mul(wv, dv));
    const vel = f32x4.add(f32x4.mul(v128.load(v + o), mv), grad);
    v128.store(vOut + o, vel);
    v128.store(wOut + o, f32x4.sub(wv, f32x4.mul(vel, lrv)));
  }
  for (; i < size; i++) {
    const o = <usize>i << 2;
    const wv = load<f32>(w + o);
    const grad = load<f32>(g + o) + wv * decay;
    const vel = load<f32>(v + o) * momentum + grad;
    store<f32>(vOut + o, vel);
    store<f32>(wOut + o, wv - vel * lr);
  }
}

/**
 * One Adam step with L2 weight decay (torch.optim.Adam) over `size` floats, into new arrays, with `1 - beta1`,
 * `1 - beta2` and the bias corrections `c1 = 1 - beta1^t`, `c2 = 1 - beta2^t` given (computed in double precision): g' = g + decay w;  m' = beta1 m + (1 - beta1) g';
 * s' = beta2 s + (1 - beta2) g'^2;  w' = w - lr (m' / c1) / (sqrt(s' / c2) + epsilon).
 */
export function adamUpdate(
  w: usize, m: usize, s: usize, g: usize, wOut: usize, mOut: usize, sOut: usize, size: i32,
  lr: f32, beta1: f32, beta2: f32, oneMinusBeta1: f32, oneMinusBeta2: f32, epsilon: f32, decay: f32, c1: f32, c2: f32,
): void {
  const b1 = f32x4.splat(beta1), b2 = f32x4.splat(beta2);
  const rb1 = f32x4.splat(oneMinusBeta1), rb2 = f32x4.splat(oneMinusBeta2);
  const dv = f32x4.splat(decay), ev = f32x4.splat(epsilon), lrv = f32x4.splat(lr);
  const c1v = f32x4.splat(c1), c2v = f32x4.splat(c2);
  const vectorEnd = size & ~3;
  let i = 0;
  for (; i < vectorEnd; i += 4) {
    const o = <usize>i << 2;
    const wv = v128.load(w + o);
    const grad = f32x4.add(v128.load(g + o), f32x4.mul(wv, dv));
    const mv = f32x4.add(f32x4.mul(v128.load(m + o), b1), f32x4.mul(grad, rb1));
    const sv = f32x4.add(f32x4.mul(v128.load(s + o), b2), f32x4.mul(f32x4.mul(grad, grad), rb2));
    v128.store(mOut + o, mv);
    v128.store(sOut + o, sv);
    const step = f32x4.div(f32x4.div(mv, c1v), f32x4.add(f32x4.sqrt(f32x4.div(sv, c2v)), ev));
    v128.store(wOut + o, f32x4.sub(wv, f32x4.mul(step, lrv)));
  }
  for (; i < size; i++) {
    const o = <usize>i << 2;
    const wv = load<f32>(w + o);
    const grad = load<f32>(g + o) + wv * decay;
    const mv = load<f32>(m + o) * beta1 + grad * oneMinusBeta1;
    const sv = load<f32>(s + o) * beta2 + grad * grad * oneMinusBeta2;
    store<f32>(mOut + o, mv);
    store<f32>(sOut + o, sv);
    store<f32>(wOut + o, wv - ((mv / c1) / (sqrt<f32>(sv / c2) + epsilon)) * lr);
  }
}

/**
 * The gradient of a softmax over the last axis from its output, rows [r0, r1) of row-major [rows, cols] `dy`, `y`:
 * dx[r, c] = y[r, c] * (dy[r, c] - sum_k dy[r, k] y[r, k]), one row at a time (it stays in cache between the sum and
 * the update). Threads split the rows.
 */
export function softmaxBackprop(dy: usize, y: usize, dx: usize, cols: i32, r0: i32, r1: i32): void {
  const rowBytes = <usize>cols << 2;
  const vectorEnd = cols & ~3;
  for (let r = r0; r < r1; r++) {
    const at = <usize>r * rowBytes;
    let acc = f32x4.splat(0);
    let c = 0;
    for (; c < vectorEnd; c += 4) {
      const o = at + (<usize>c << 2);
      acc = madd(v128.load(dy + o), v128.load(y + o), acc);
    }
    let dot: f32 = f32x4.extract_lane(acc, 0) + f32x4.extract_lane(acc, 1) + f32x4.extract_lane(acc, 2) + f32x4.extract_lane(acc, 3);
    for (; c < cols; c++) {
      const o = at + (<usize>c << 2);
      dot += load<f32>(dy + o) * load<f32>(y + o);
    }
    const dotv = f32x4.splat(dot);
    c = 0;
    for (; c < vectorEnd; c += 4) {
      const o = at + (<usize>c << 2);
      v128.store(dx + o, f32x4.mul(v128.load(y + o), f32x4.sub(v128.load(dy + o), dotv)));
    }
    for (; c < cols; c++) {
      const o = at + (<usize>c << 2);
      store<f32>(dx + o, load<f32>(y + o) * (load<f32>(dy + o) - dot));
    }
  }
}
