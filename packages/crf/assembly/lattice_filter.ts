// AssemblyScript: filtering any number of channels through a built lattice (PermutohedralLattice.filter).
// Per-pixel buffers are pixel-major with a stride that is a multiple of 4 floats, so one v128 holds 4 channels.

/**
 * Splat the rows of `input` ([pixels x channels], channels a multiple of 4) onto the lattice, blur with [1/2, 1, 1/2]
 * along every axis (reverse order when `reverse`: the exact transpose), slice `scale` times the result into
 * `output`. The slice keeps each pixel's sum in registers. `values` and `scratch` hold (points + 1) x channels
 * floats each; row 0 is the always-zero missing neighbour.
 */
export function filterChannels(
  pixels: i32, d1: i32, points: i32,
  offsets: usize, splatWeights: usize, sliceWeights: usize, neighbours: usize,
  input: usize, output: usize, channels: i32, scale: f32, reverse: bool, values: usize, scratch: usize,
): void {
  const rowBytes = <usize>channels << 2;
  memory.fill(scratch, 0, rowBytes);
  memory.fill(values, 0, (<usize>points + 1) * rowBytes);
  const d1Bytes = <usize>d1 << 2;
  for (let i = 0; i < pixels; i++) {
    const base = <usize>i * d1Bytes;
    const src = input + <usize>i * rowBytes;
    for (let r: usize = 0; r < d1Bytes; r += 4) {
      const o = values + <usize>(load<i32>(offsets + base + r) + 1) * rowBytes;
      const w = f32x4.splat(load<f32>(splatWeights + base + r));
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
    const dst = output + <usize>i * rowBytes;
    let k: usize = 0;
    for (; k + 32 <= rowBytes; k += 32) {
      let a = f32x4.splat(0);
      let b = f32x4.splat(0);
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
      let a = f32x4.splat(0);
      for (let r: usize = 0; r < d1Bytes; r += 4) {
        const o = from + <usize>(load<i32>(offsets + base + r) + 1) * rowBytes + k;
        a = f32x4.add(a, f32x4.mul(f32x4.splat(load<f32>(sliceWeights + base + r) * scale), v128.load(o)));
      }
      v128.store(dst + k, a);
    }
  }
}

