// AssemblyScript: one step of the sparse random walk, compiled to WebAssembly SIMD by scripts/build_wasm.mjs.
// Scores are pixel-major with `stride` (a multiple of 8) floats per pixel on a grid padded by `margin` zero pixels
// on every side, so the stencil needs no bounds checks (missing pairs have weight 0).

/**
 * out_j = (sum_o weights[j, o] * v_{j + shift_o}) / degree_j for every pixel j of the h x w map and all `stride`
 * channels; `shifts` holds each offset's byte distance on the padded grid (i32), `weights` is [h w x offsets]
 * (pixel-major) and `invDegree` [h w]. Writes the largest absolute change and the largest absolute score to `result`
 * (2 f32) for the early stop.
 */
export function randomWalkStep(
  height: i32, width: i32, margin: i32, offsetCount: i32, shifts: usize, weights: usize, invDegree: usize,
  v: usize, out: usize, stride: i32, result: usize,
): void {
  const paddedWidth = width + 2 * margin;
  const rowBytes = <usize>stride << 2;
  const weightBytes = <usize>offsetCount << 2;
  let change = f32x4.splat(0);
  let largest = f32x4.splat(0);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const j = y * width + x;
      const p = <usize>((y + margin) * paddedWidth + x + margin) * rowBytes;
      const wj = weights + <usize>j * weightBytes;
      const inv = f32x4.splat(load<f32>(invDegree + (<usize>j << 2)));
      let k: usize = 0;
      for (; k < rowBytes; k += 32) {
        let a = f32x4.splat(0);
        let b = f32x4.splat(0);
        const base = v + p + k;
        for (let o: usize = 0; o < weightBytes; o += 4) {
          const w = f32x4.splat(load<f32>(wj + o));
          const src = base + <usize>load<i32>(shifts + o);
          a = f32x4.add(a, f32x4.mul(w, v128.load(src)));
          b = f32x4.add(b, f32x4.mul(w, v128.load(src, 16)));
        }
        a = f32x4.mul(a, inv);
        b = f32x4.mul(b, inv);
        change = v128.pmax<f32>(change, v128.pmax<f32>(f32x4.abs(f32x4.sub(a, v128.load(base))), f32x4.abs(f32x4.sub(b, v128.load(base, 16)))));
        largest = v128.pmax<f32>(largest, v128.pmax<f32>(f32x4.abs(a), f32x4.abs(b)));
        v128.store(out + p + k, a);
        v128.store(out + p + k, b, 16);
      }
    }
  }
  store<f32>(result, max(max(f32x4.extract_lane(change, 0), f32x4.extract_lane(change, 1)), max(f32x4.extract_lane(change, 2), f32x4.extract_lane(change, 3))));
  store<f32>(result + 4, max(max(f32x4.extract_lane(largest, 0), f32x4.extract_lane(largest, 1)), max(f32x4.extract_lane(largest, 2), f32x4.extract_lane(largest, 3))));
}
