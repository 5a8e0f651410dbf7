// AssemblyScript: the hot loops of the dense CRF, compiled to WebAssembly with SIMD (scripts/build_wasm.mjs).
// Memory is owned by the JavaScript side (src/wasm/); every pointer here is a byte address it allocated.
// Per-pixel buffers are pixel-major with a stride that is a multiple of 4 floats, so one v128 holds 4 labels.

const LOG2E: f32 = 1.44269504088896341;

// @ts-ignore: decorator
@inline function hsum(v: v128): f32 {
  return f32x4.extract_lane(v, 0) + f32x4.extract_lane(v, 1) + f32x4.extract_lane(v, 2) + f32x4.extract_lane(v, 3);
}

const ROUNDING: f32 = 12582912.0; // 1.5 * 2^23: adding it rounds to an integer kept in the low mantissa bits

/**
 * exp of 4 floats (Cephes expf polynomial, relative error < 2e-7 on [-87, 88]). Uses only single-instruction
 * SIMD operations (pmin/pmax, rounding by a magic constant), which V8 compiles much tighter than min/max/floor.
 */
// @ts-ignore: decorator
@inline function exp4(x: v128): v128 {
  x = v128.pmin<f32>(v128.pmax<f32>(x, f32x4.splat(-87.3)), f32x4.splat(88.7));
  const z = f32x4.add(f32x4.mul(x, f32x4.splat(LOG2E)), f32x4.splat(ROUNDING));
  const n = f32x4.sub(z, f32x4.splat(ROUNDING));
  x = f32x4.sub(x, f32x4.mul(n, f32x4.splat(0.693359375)));
  x = f32x4.sub(x, f32x4.mul(n, f32x4.splat(-2.12194440e-4)));
  let y = f32x4.splat(1.9875691500e-4);
  y = f32x4.add(f32x4.mul(y, x), f32x4.splat(1.3981999507e-3));
  y = f32x4.add(f32x4.mul(y, x), f32x4.splat(8.3334519073e-3));
  y = f32x4.add(f32x4.mul(y, x), f32x4.splat(4.1665795894e-2));
  y = f32x4.add(f32x4.mul(y, x), f32x4.splat(1.6666665459e-1));
  y = f32x4.add(f32x4.mul(y, x), f32x4.splat(5.0000001201e-1));
  y = f32x4.add(f32x4.add(f32x4.mul(f32x4.mul(y, x), x), x), f32x4.splat(1));
  // bits(z) = 0x4b400000 + n, so (bits(z) - 0x4b400000 + 127) << 23 is the float 2^n
  const pow2n = i32x4.shl(i32x4.add(z, i32x4.splat(127 - 0x4b400000)), 23);
  return f32x4.mul(y, pow2n);
}

/** Natural log of 4 positive normal floats (Cephes logf polynomial, relative error < 2e-7). */
// @ts-ignore: decorator
@inline function log4(x: v128): v128 {
  let e = f32x4.convert_i32x4_s(i32x4.sub(i32x4.shr_u(x, 23), i32x4.splat(127)));
  let m = v128.or(v128.and(x, i32x4.splat(0x007fffff)), i32x4.splat(0x3f800000)); // mantissa in [1, 2)
  const big = f32x4.gt(m, f32x4.splat(1.41421356));
  m = v128.bitselect(f32x4.mul(m, f32x4.splat(0.5)), m, big);
  e = f32x4.add(e, v128.and(big, f32x4.splat(1)));
  const f = f32x4.sub(m, f32x4.splat(1));
  const z = f32x4.mul(f, f);
  let y = f32x4.splat(7.0376836292e-2);
  y = f32x4.add(f32x4.mul(y, f), f32x4.splat(-1.151461031e-1));
  y = f32x4.add(f32x4.mul(y, f), f32x4.splat(1.167699874e-1));
  y = f32x4.add(f32x4.mul(y, f), f32x4.splat(-1.2420140846e-1));
  y = f32x4.add(f32x4.mul(y, f), f32x4.splat(1.4249322787e-1));
  y = f32x4.add(f32x4.mul(y, f), f32x4.splat(-1.6668057665e-1));
  y = f32x4.add(f32x4.mul(y, f), f32x4.splat(2.0000714765e-1));
  y = f32x4.add(f32x4.mul(y, f), f32x4.splat(-2.4999993993e-1));
  y = f32x4.add(f32x4.mul(y, f), f32x4.splat(3.3333331174e-1));
  y = f32x4.mul(f32x4.mul(y, f), z);
  y = f32x4.add(y, f32x4.mul(e, f32x4.splat(-2.12194440e-4)));
  y = f32x4.sub(y, f32x4.mul(z, f32x4.splat(0.5)));
  return f32x4.add(f32x4.add(f, y), f32x4.mul(e, f32x4.splat(0.693359375)));
}

/**
 * Writes the negated unary -U into the pixel-major `negUnary` [pixels x stride] from the label-major `source`
 * [labels x pixels], padding lanes -1e30: from energies (`fromProbabilities` false: -U = -source) or from
 * probabilities (-U = log(clip(p, clip, 1)), pydensecrf's unary_from_softmax).
 */
export function prepareNegUnary(source: usize, negUnary: usize, labels: i32, pixels: i32, stride: i32, fromProbabilities: bool, clip: f32): void {
  const strideBytes = <usize>stride << 2;
  for (let i = 0; i < pixels; i++) {
    const row = negUnary + <usize>i * strideBytes;
    for (let l = labels; l < stride; l++) store<f32>(row + (<usize>l << 2), -1e30);
  }
  for (let l = 0; l < labels; l++) {
    const src = source + (<usize>l * <usize>pixels << 2);
    const dst = negUnary + (<usize>l << 2);
    let i = 0;
    if (fromProbabilities) {
      const low = f32x4.splat(clip);
      const one = f32x4.splat(1);
      for (; i + 4 <= pixels; i += 4) {
        const v = log4(v128.pmin<f32>(v128.pmax<f32>(v128.load(src + (<usize>i << 2)), low), one));
        const at = dst + <usize>i * strideBytes;
        store<f32>(at, f32x4.extract_lane(v, 0));
        store<f32>(at + strideBytes, f32x4.extract_lane(v, 1));
        store<f32>(at + 2 * strideBytes, f32x4.extract_lane(v, 2));
        store<f32>(at + 3 * strideBytes, f32x4.extract_lane(v, 3));
      }
      for (; i < pixels; i++) {
        const p = min<f32>(max<f32>(load<f32>(src + (<usize>i << 2)), clip), 1);
        store<f32>(dst + <usize>i * strideBytes, f32x4.extract_lane(log4(f32x4.splat(p)), 0));
      }
    } else {
      for (; i < pixels; i++) store<f32>(dst + <usize>i * strideBytes, -load<f32>(src + (<usize>i << 2)));
    }
  }
}

/**
 * Splat `channels` channels (from `first`) of `input` (each pixel's row times `pixelScale[i]` when that pointer is
 * not 0) onto the lattice, blur with [1/2, 1, 1/2] along every axis (reverse order when `reverse`: the exact
 * transpose), slice `scale` times the result and add it into `output` at the same channels (or store it there when
 * `overwrite`). The slice keeps each pixel's sum in registers. `values` and `scratch` hold (points + 1) x channels
 * floats each; row 0 is the always-zero missing neighbour.
 */
export function filterChannels(
  pixels: i32, d1: i32, points: i32,
  offsets: usize, splatWeights: usize, sliceWeights: usize, neighbours: usize,
  input: usize, output: usize, stride: i32, first: i32, channels: i32,
  scale: f32, reverse: bool, values: usize, scratch: usize, pixelScale: usize, overwrite: bool,
): void {
  const rowBytes = <usize>channels << 2;
  const strideBytes = <usize>stride << 2;
  const firstBytes = <usize>first << 2;
  memory.fill(scratch, 0, rowBytes);
  memory.fill(values, 0, (<usize>points + 1) * rowBytes);
  const d1Bytes = <usize>d1 << 2;
  for (let i = 0; i < pixels; i++) {
    const base = <usize>i * d1Bytes;
    const src = input + <usize>i * strideBytes + firstBytes;
    for (let r: usize = 0; r < d1Bytes; r += 4) {
      const o = values + <usize>(load<i32>(offsets + base + r) + 1) * rowBytes;
      const w = f32x4.splat(load<f32>(splatWeights + base + r) * (pixelScale ? load<f32>(pixelScale + (<usize>i << 2)) : 1));
      let k: usize = 0;
      for (; k + 32 <= rowBytes; k += 32) {
        const a = f32x4.add(v128.load(o + k), f32x4.mul(w, v128.load(src + k)));
        const b = f32x4.add(v128.load(o + k, 16), f32x4.mul(w, v128.load(src + k, 16)));
        v128.store(o + k, a);
        v128.store(o + k, b, 16);
      }
      if (k < rowBytes) v128.store(o + k, f32x4.add(v128.load(o + k), f32x4.mul(w, v128.load(src + k))));
    }
  }
  let from = values;
  let to = scratch;
  const half = f32x4.splat(0.5);
  for (let step = 0; step < d1; step++) {
    const axis = reverse ? d1 - 1 - step : step;
    const nb = neighbours + (<usize>(axis * points) << 3);
    for (let p = 0; p < points; p++) {
      const o = <usize>(p + 1) * rowBytes;
      const n1 = <usize>(load<i32>(nb + (<usize>p << 3)) + 1) * rowBytes;
      const n2 = <usize>(load<i32>(nb + (<usize>p << 3) + 4) + 1) * rowBytes;
      for (let k: usize = 0; k < rowBytes; k += 16) {
        const sum = f32x4.add(v128.load(from + n1 + k), v128.load(from + n2 + k));
        v128.store(to + o + k, f32x4.add(v128.load(from + o + k), f32x4.mul(half, sum)));
      }
    }
    const t = from;
    from = to;
    to = t;
  }
  for (let i = 0; i < pixels; i++) {
    const base = <usize>i * d1Bytes;
    const dst = output + <usize>i * strideBytes + firstBytes;
    let k: usize = 0;
    for (; k + 32 <= rowBytes; k += 32) {
      let a = overwrite ? f32x4.splat(0) : v128.load(dst + k);
      let b = overwrite ? f32x4.splat(0) : v128.load(dst + k, 16);
      for (let r: usize = 0; r < d1Bytes; r += 4) {
        const o = from + <usize>(load<i32>(offsets + base + r) + 1) * rowBytes + k;
        const w = f32x4.splat(load<f32>(sliceWeights + base + r) * scale);
        a = f32x4.add(a, f32x4.mul(w, v128.load(o)));
        b = f32x4.add(b, f32x4.mul(w, v128.load(o, 16)));
      }
      v128.store(dst + k, a);
      v128.store(dst + k, b, 16);
    }
    if (k < rowBytes) {
      let a = overwrite ? f32x4.splat(0) : v128.load(dst + k);
      for (let r: usize = 0; r < d1Bytes; r += 4) {
        const o = from + <usize>(load<i32>(offsets + base + r) + 1) * rowBytes + k;
        a = f32x4.add(a, f32x4.mul(f32x4.splat(load<f32>(sliceWeights + base + r) * scale), v128.load(o)));
      }
      v128.store(dst + k, a);
    }
  }
}

// Context of one mean-field run (i32 slots): see src/wasm/mean_field_context.ts, which writes it.
const PIXELS = 0;
const LABELS = 1;
const STRIDE = 2;
const KERNELS = 4;
const NEG_UNARY = 5;
const Q = 6;
const LOGITS = 7;
const BARRIER = 8; // and 9
const INV_SUM = 10;
const FIRST_POTTS = 11;
const THREAD_BUFFERS = 16; // + 2 t: values, scratch of thread t
const KERNEL_BASE = 64; // + 16 k: d1, points, offsets, splatW, sliceW, neighbours, compat (f32), matrix, filtered
const KERNEL_SLOTS = 16;

// @ts-ignore: decorator
@inline function slot(ctx: usize, index: i32): i32 {
  return load<i32>(ctx + (<usize>index << 2));
}

/**
 * All `threads` threads wait here until every one has arrived (generation barrier on two i32s of the context).
 * A thread that waits 30 s traps instead of hanging forever (e.g. when another thread died).
 */
export function barrier(ctx: usize, threads: i32): void {
  if (threads < 2) return;
  const at = ctx + (<usize>BARRIER << 2);
  const generation = atomic.load<i32>(at + 4);
  if (atomic.add<i32>(at, 1) == threads - 1) {
    atomic.store<i32>(at, 0);
    atomic.add<i32>(at + 4, 1);
    atomic.notify(at + 4, threads);
  } else {
    while (atomic.load<i32>(at + 4) == generation) {
      if (memory.atomic.wait32(at + 4, generation, 30_000_000_000) == AtomicWaitResult.TIMED_OUT) unreachable();
    }
  }
}

/**
 * This thread's share of the pixels: logits = -unary + the Potts messages already in `LOGITS` + the messages of
 * matrix terms (when `messages`); Q = exp(logits - max) stored unnormalised (entries below 1e-20 of the max set to
 * 0, padding lanes 0) with 1 / sum in `INV_SUM`: the next splat and the final extraction apply it. Without Potts
 * terms the message row is cleared here for the next iteration (Potts terms overwrite it).
 */
export function softmaxShare(ctx: usize, thread: i32, threads: i32, messages: bool): void {
  const pixels = slot(ctx, PIXELS);
  const first = <i32>((<i64>pixels * thread) / threads);
  const end = <i32>((<i64>pixels * (thread + 1)) / threads);
  const labels = slot(ctx, LABELS);
  const strideBytes = <usize>slot(ctx, STRIDE) << 2;
  const negUnary = <usize>slot(ctx, NEG_UNARY);
  const q = <usize>slot(ctx, Q);
  const logits = <usize>slot(ctx, LOGITS);
  const invSum = <usize>slot(ctx, INV_SUM);
  const clearMessages = slot(ctx, FIRST_POTTS) < 0;
  const kernels = slot(ctx, KERNELS);
  const lastLanes = labels & 3;
  const lastChunk = <usize>(labels - 1) >> 2 << 4;
  const keep = lastLanes == 0 ? i32x4.splat(-1) : i32x4.lt_s(i32x4(0, 1, 2, 3), i32x4.splat(lastLanes));
  for (let i = first; i < end; i++) {
    const row = logits + <usize>i * strideBytes;
    const unary = negUnary + <usize>i * strideBytes;
    if (messages) {
      for (let k = 0; k < kernels; k++) {
        const kctx = ctx + (<usize>(KERNEL_BASE + k * KERNEL_SLOTS) << 2);
        const matrix = <usize>load<i32>(kctx + 28);
        if (matrix == 0) continue;
        const filtered = <usize>load<i32>(kctx + 32) + <usize>i * strideBytes;
        for (let a = 0; a < labels; a++) {
          let m: f32 = 0;
          for (let b = 0; b < labels; b++) m += load<f32>(matrix + (<usize>(a * labels + b) << 2)) * load<f32>(filtered + (<usize>b << 2));
          store<f32>(row + (<usize>a << 2), load<f32>(row + (<usize>a << 2)) + m);
        }
      }
    }
    let mx = f32x4.add(v128.load(row), v128.load(unary));
    for (let k: usize = 16; k <= lastChunk; k += 16) mx = v128.pmax<f32>(mx, f32x4.add(v128.load(row + k), v128.load(unary + k)));
    const top = max<f32>(max<f32>(f32x4.extract_lane(mx, 0), f32x4.extract_lane(mx, 1)), max<f32>(f32x4.extract_lane(mx, 2), f32x4.extract_lane(mx, 3)));
    const shift = f32x4.splat(top);
    const out = q + <usize>i * strideBytes;
    let sum = f32x4.splat(0);
    for (let k: usize = 0; k <= lastChunk; k += 16) {
      // exp(t) < 1e-20 becomes 0: such Q are negligible, and keeping them would feed subnormal floats (100x slower
      // arithmetic on x86) into the filters and this exp
      const t = f32x4.sub(f32x4.add(v128.load(row + k), v128.load(unary + k)), shift);
      let e = v128.and(exp4(t), f32x4.gt(t, f32x4.splat(-46)));
      if (k == lastChunk) e = v128.and(e, keep);
      sum = f32x4.add(sum, e);
      v128.store(out + k, e);
      if (clearMessages) v128.store(row + k, f32x4.splat(0));
    }
    store<f32>(invSum + (<usize>i << 2), <f32>1 / hsum(sum));
  }
}

/** Copies labels [0, labels) of the unnormalised `q` [pixels x stride], times `invSum`, into the label-major `out`. */
export function extractMarginals(q: usize, invSum: usize, out: usize, labels: i32, pixels: i32, stride: i32): void {
  const strideBytes = <usize>stride << 2;
  for (let l = 0; l < labels; l++) {
    const dst = out + (<usize>l * <usize>pixels << 2);
    const src = q + (<usize>l << 2);
    for (let i = 0; i < pixels; i++) {
      store<f32>(dst + (<usize>i << 2), load<f32>(src + <usize>i * strideBytes) * load<f32>(invSum + (<usize>i << 2)));
    }
  }
}

/**
 * This thread's share of the labels (whole 4-label chunks) filtered through pairwise term `term`: Potts terms add
 * compat x filtered Q into the message rows (the first one overwrites them), matrix terms write filtered Q into
 * their own buffer.
 */
export function filterShare(ctx: usize, term: i32, thread: i32, threads: i32): void {
  const pixels = slot(ctx, PIXELS);
  const stride = slot(ctx, STRIDE);
  const chunks = stride >> 2;
  const firstLabel = ((chunks * thread) / threads) << 2;
  const labelCount = (((chunks * (thread + 1)) / threads) << 2) - firstLabel;
  if (labelCount == 0) return;
  const kctx = ctx + (<usize>(KERNEL_BASE + term * KERNEL_SLOTS) << 2);
  const matrix = load<i32>(kctx + 28);
  const filtered = <usize>load<i32>(kctx + 32);
  filterChannels(
    pixels, load<i32>(kctx), load<i32>(kctx + 4),
    <usize>load<i32>(kctx + 8), <usize>load<i32>(kctx + 12), <usize>load<i32>(kctx + 16), <usize>load<i32>(kctx + 20),
    <usize>slot(ctx, Q), matrix != 0 ? filtered : <usize>slot(ctx, LOGITS), stride, firstLabel, labelCount,
    matrix != 0 ? 1 : load<f32>(kctx + 24), false,
    <usize>slot(ctx, THREAD_BUFFERS + 2 * thread), <usize>slot(ctx, THREAD_BUFFERS + 2 * thread + 1),
    <usize>slot(ctx, INV_SUM), matrix != 0 || term == slot(ctx, FIRST_POTTS),
  );
}

// ---------------------------------------------------------------------------------------------------------------
// Lattice construction (Adams et al. 2010, as in Kraehenbuehl's permutohedral.cpp)

// @ts-ignore: decorator
@inline function hashKey(keys: usize, d: i32, mask: u32): u32 {
  let h: u32 = 0;
  for (let i = 0; i < d; i++) h = (h + <u32>load<i32>(keys + (<usize>i << 2))) * 2531011;
  h ^= h >>> 15;
  h *= 0x85ebca6b;
  return (h ^ (h >>> 13)) & mask;
}

/** Index of `key` (d i32s) in the table, or -1; inserts it when `insert` (returns -2 when the table is full). */
function findKey(key: usize, d: i32, slots: usize, mask: u32, keys: usize, size: usize, insert: bool): i32 {
  let h = hashKey(key, d, mask);
  const rowBytes = <usize>d << 2;
  for (;;) {
    const index = load<i32>(slots + (<usize>h << 2));
    if (index < 0) break;
    const stored = keys + <usize>index * rowBytes;
    let same = true;
    for (let i: usize = 0; i < rowBytes; i += 4) {
      if (load<i32>(stored + i) != load<i32>(key + i)) {
        same = false;
        break;
      }
    }
    if (same) return index;
    h = (h + 1) & mask;
  }
  if (!insert) return -1;
  const count = load<i32>(size);
  if (<u32>(count + 1) * 2 > mask + 1) return -2;
  memory.copy(keys + <usize>count * rowBytes, key, rowBytes);
  store<i32>(slots + (<usize>h << 2), count);
  store<i32>(size, count + 1);
  return count;
}

/**
 * Embeds `pixels` points with `d` features (f32, already divided by the standard deviations) in the lattice:
 * writes each point's d + 1 simplex vertices (`offsets`, lattice point indices) and barycentric weights, inserting
 * lattice points into the hash table (`slots`: capacity i32s set to -1, capacity a power of two; `keys`: capacity / 2
 * x d i32s). `work` needs 16 (d + 2)^2 bytes. Returns the number of lattice points, or -1 if the table filled up.
 */
export function buildLattice(
  features: usize, pixels: i32, d: i32, slots: usize, capacity: i32, keys: usize, offsets: usize, barycentric: usize, work: usize,
): i32 {
  const d1 = d + 1;
  const mask = <u32>capacity - 1;
  const scaleFactor = work;
  const elevated = scaleFactor + (<usize>d1 << 2);
  const rem0 = elevated + (<usize>d1 << 2);
  const rank = rem0 + (<usize>d1 << 2);
  const bary = rank + (<usize>d1 << 2);
  const key = bary + (<usize>(d + 2) << 2);
  const size = key + (<usize>d1 << 2);
  const canonical = size + 16;
  store<i32>(size, 0);
  const invStdDev: f32 = <f32>Math.sqrt(2.0 / 3.0) * <f32>d1;
  for (let i = 0; i < d; i++) store<f32>(scaleFactor + (<usize>i << 2), invStdDev / <f32>Math.sqrt(<f64>((i + 1) * (i + 2))));
  for (let r = 0; r <= d; r++) {
    for (let i = 0; i <= d; i++) store<i32>(canonical + (<usize>(r * d1 + i) << 2), i <= d - r ? r : r - d1);
  }
  const downFactor: f32 = 1 / <f32>d1;
  for (let k = 0; k < pixels; k++) {
    const f = features + (<usize>(k * d) << 2);
    let sm: f32 = 0;
    for (let j = d; j > 0; j--) {
      const cf = load<f32>(f + (<usize>(j - 1) << 2)) * load<f32>(scaleFactor + (<usize>(j - 1) << 2));
      store<f32>(elevated + (<usize>j << 2), sm - <f32>j * cf);
      sm += cf;
    }
    store<f32>(elevated, sm);
    let sum = 0;
    for (let i = 0; i <= d; i++) {
      const a = downFactor * load<f32>(elevated + (<usize>i << 2));
      const rd = <i32>(a >= 0 ? Mathf.floor(a + 0.5) : -Mathf.floor(0.5 - a)); // C's round(): ties away from zero
      store<i32>(rem0 + (<usize>i << 2), rd * d1);
      store<i32>(rank + (<usize>i << 2), 0);
      sum += rd;
    }
    for (let i = 0; i < d; i++) {
      const di = load<f32>(elevated + (<usize>i << 2)) - <f32>load<i32>(rem0 + (<usize>i << 2));
      for (let j = i + 1; j <= d; j++) {
        const dj = load<f32>(elevated + (<usize>j << 2)) - <f32>load<i32>(rem0 + (<usize>j << 2));
        const at = di < dj ? rank + (<usize>i << 2) : rank + (<usize>j << 2);
        store<i32>(at, load<i32>(at) + 1);
      }
    }
    for (let i = 0; i <= d; i++) {
      let r = load<i32>(rank + (<usize>i << 2)) + sum;
      let rem = load<i32>(rem0 + (<usize>i << 2));
      if (r < 0) {
        r += d1;
        rem += d1;
      } else if (r > d) {
        r -= d1;
        rem -= d1;
      }
      store<i32>(rank + (<usize>i << 2), r);
      store<i32>(rem0 + (<usize>i << 2), rem);
    }
    memory.fill(bary, 0, <usize>(d + 2) << 2);
    for (let i = 0; i <= d; i++) {
      const v = (load<f32>(elevated + (<usize>i << 2)) - <f32>load<i32>(rem0 + (<usize>i << 2))) * downFactor;
      const at = bary + (<usize>(d - load<i32>(rank + (<usize>i << 2))) << 2);
      store<f32>(at, load<f32>(at) + v);
      store<f32>(at + 4, load<f32>(at + 4) - v);
    }
    store<f32>(bary, load<f32>(bary) + 1 + load<f32>(bary + (<usize>(d + 1) << 2)));
    for (let r = 0; r <= d; r++) {
      for (let i = 0; i < d; i++) {
        const c = load<i32>(canonical + (<usize>(r * d1 + load<i32>(rank + (<usize>i << 2))) << 2));
        store<i32>(key + (<usize>i << 2), load<i32>(rem0 + (<usize>i << 2)) + c);
      }
      const index = findKey(key, d, slots, mask, keys, size, true);
      if (index < 0) return -1;
      const v = <usize>(k * d1 + r) << 2;
      store<i32>(offsets + v, index);
      store<f32>(barycentric + v, load<f32>(bary + (<usize>r << 2)));
    }
  }
  return load<i32>(size);
}

/**
 * For every axis j and lattice point p, the points one step away in both directions along j (-1: none), written to
 * `neighbours` [(d + 1) x points x 2]. The table and keys are those `buildLattice` filled; `work` 8 d bytes.
 */
export function latticeNeighbours(d: i32, points: i32, slots: usize, capacity: i32, keys: usize, neighbours: usize, work: usize): void {
  const mask = <u32>capacity - 1;
  const n1 = work;
  const n2 = work + (<usize>d << 2);
  for (let j = 0; j <= d; j++) {
    for (let p = 0; p < points; p++) {
      const key = keys + (<usize>(p * d) << 2);
      for (let k = 0; k < d; k++) {
        const v = load<i32>(key + (<usize>k << 2));
        store<i32>(n1 + (<usize>k << 2), v + 1);
        store<i32>(n2 + (<usize>k << 2), v - 1);
      }
      if (j < d) {
        const v = load<i32>(key + (<usize>j << 2));
        store<i32>(n1 + (<usize>j << 2), v - d);
        store<i32>(n2 + (<usize>j << 2), v + d);
      }
      const out = neighbours + (<usize>(j * points + p) << 3);
      store<i32>(out, findKey(n1, d, slots, mask, keys, 0, false));
      store<i32>(out + 4, findKey(n2, d, slots, mask, keys, 0, false));
    }
  }
}
