// AssemblyScript: cosine similarities of embeddings to weighted class centroids, and their gradient, compiled to
// WebAssembly SIMD by scripts/build_wasm.mjs. Row-major buffers; `dim` is a multiple of 4 (zero-padded).
//
//   C_k = sum_i W_ik x_i / sum_i W_ik,   c^_k = C_k / sqrt(|C_k|^2 + eps),   r_i = 1 / sqrt(|x_i|^2 + eps),
//   S_ik = r_i x_i . c^_k

// @ts-ignore: decorator
@inline function hsum(v: v128): f32 {
  return f32x4.extract_lane(v, 0) + f32x4.extract_lane(v, 1) + f32x4.extract_lane(v, 2) + f32x4.extract_lane(v, 3);
}

// @ts-ignore: decorator
@inline function dot(a: usize, b: usize, bytes: usize): f32 {
  let acc = f32x4.splat(0);
  for (let k: usize = 0; k < bytes; k += 16) acc = f32x4.add(acc, f32x4.mul(v128.load(a + k), v128.load(b + k)));
  return hsum(acc);
}

// @ts-ignore: decorator
@inline function axpy(alpha: f32, x: usize, y: usize, bytes: usize): void {
  const a = f32x4.splat(alpha);
  for (let k: usize = 0; k < bytes; k += 16) v128.store(y + k, f32x4.add(v128.load(y + k), f32x4.mul(a, v128.load(x + k))));
}

/**
 * Forward: writes colsum [K], centroids C [K x dim], their inverse norms rho [K], c^ [K x dim], r [N] and
 * S [N x K]. `weights` [N x K]; rows are mostly one-hot, so zero weights are skipped.
 */
export function centroidSimilarity(
  x: usize, weights: usize, n: i32, dim: i32, k: i32, eps: f32,
  colsum: usize, centroids: usize, rho: usize, unit: usize, r: usize, s: usize,
): void {
  const rowBytes = <usize>dim << 2;
  memory.fill(colsum, 0, <usize>k << 2);
  memory.fill(centroids, 0, <usize>k * rowBytes);
  for (let i = 0; i < n; i++) {
    const xi = x + <usize>i * rowBytes;
    for (let c = 0; c < k; c++) {
      const w = load<f32>(weights + (<usize>(i * k + c) << 2));
      if (w == 0) continue;
      store<f32>(colsum + (<usize>c << 2), load<f32>(colsum + (<usize>c << 2)) + w);
      axpy(w, xi, centroids + <usize>c * rowBytes, rowBytes);
    }
  }
  for (let c = 0; c < k; c++) {
    const cc = centroids + <usize>c * rowBytes;
    const inv: f32 = <f32>1 / (load<f32>(colsum + (<usize>c << 2)) + 1e-12);
    const scale = f32x4.splat(inv);
    for (let q: usize = 0; q < rowBytes; q += 16) v128.store(cc + q, f32x4.mul(v128.load(cc + q), scale));
    const p: f32 = <f32>1 / Mathf.sqrt(dot(cc, cc, rowBytes) + eps);
    store<f32>(rho + (<usize>c << 2), p);
    const uc = unit + <usize>c * rowBytes;
    const ps = f32x4.splat(p);
    for (let q: usize = 0; q < rowBytes; q += 16) v128.store(uc + q, f32x4.mul(v128.load(cc + q), ps));
  }
  for (let i = 0; i < n; i++) {
    const xi = x + <usize>i * rowBytes;
    const ri: f32 = <f32>1 / Mathf.sqrt(dot(xi, xi, rowBytes) + eps);
    store<f32>(r + (<usize>i << 2), ri);
    for (let c = 0; c < k; c++) store<f32>(s + (<usize>(i * k + c) << 2), ri * dot(xi, unit + <usize>c * rowBytes, rowBytes));
  }
}

/**
 * Backward for dL/dS = `g` [N x K]: dx [N x dim] = r_i sum_k g_ik c^_k - r_i^2 (sum_k g_ik S_ik) x_i
 * + sum_k W_ik / colsum_k dC_k, with dc^_k = sum_i g_ik r_i x_i and dC_k = rho_k (dc^_k - c^_k (c^_k . dc^_k)).
 * `work` holds K x dim floats.
 */
export function centroidSimilarityGrad(
  x: usize, weights: usize, n: i32, dim: i32, k: i32,
  colsum: usize, rho: usize, unit: usize, r: usize, s: usize, g: usize, dx: usize, work: usize,
): void {
  const rowBytes = <usize>dim << 2;
  memory.fill(work, 0, <usize>k * rowBytes);
  for (let i = 0; i < n; i++) {
    const xi = x + <usize>i * rowBytes;
    const ri = load<f32>(r + (<usize>i << 2));
    for (let c = 0; c < k; c++) {
      const gic = load<f32>(g + (<usize>(i * k + c) << 2));
      if (gic != 0) axpy(gic * ri, xi, work + <usize>c * rowBytes, rowBytes);
    }
  }
  for (let c = 0; c < k; c++) {
    const dc = work + <usize>c * rowBytes;
    const uc = unit + <usize>c * rowBytes;
    const proj = dot(uc, dc, rowBytes);
    const p = load<f32>(rho + (<usize>c << 2));
    // dC_k, then divided by colsum_k so that dx_i gets W_ik times it
    const scale = p / (load<f32>(colsum + (<usize>c << 2)) + 1e-12);
    const a = f32x4.splat(scale);
    const b = f32x4.splat(scale * proj);
    for (let q: usize = 0; q < rowBytes; q += 16) v128.store(dc + q, f32x4.sub(f32x4.mul(a, v128.load(dc + q)), f32x4.mul(b, v128.load(uc + q))));
  }
  for (let i = 0; i < n; i++) {
    const xi = x + <usize>i * rowBytes;
    const di = dx + <usize>i * rowBytes;
    const ri = load<f32>(r + (<usize>i << 2));
    let gs: f32 = 0;
    memory.fill(di, 0, rowBytes);
    for (let c = 0; c < k; c++) {
      const gic = load<f32>(g + (<usize>(i * k + c) << 2));
      gs += gic * load<f32>(s + (<usize>(i * k + c) << 2));
      if (gic != 0) axpy(gic * ri, unit + <usize>c * rowBytes, di, rowBytes);
      const w = load<f32>(weights + (<usize>(i * k + c) << 2));
      if (w != 0) axpy(w, work + <usize>c * rowBytes, di, rowBytes);
    }
    axpy(-ri * ri * gs, xi, di, rowBytes);
  }
}

/**
 * One pass over x [n x dim] in groups of `rowsPerGroup` rows: r[i] = 1 / sqrt(|x_i|^2 + eps), and the weighted sums
 * sums[g, c] = sum_{i in group g} W_ic x_i ([groups * k x dim], zero weights skipped: rows are mostly one-hot).
 */
export function normsAndWeightedSums(
  x: usize, weights: usize, n: i32, dim: i32, k: i32, rowsPerGroup: i32, eps: f32, r: usize, sums: usize,
): void {
  const rowBytes = <usize>dim << 2;
  memory.fill(sums, 0, <usize>(n / rowsPerGroup * k) * rowBytes);
  for (let i = 0; i < n; i++) {
    const xi = x + <usize>i * rowBytes;
    store<f32>(r + (<usize>i << 2), <f32>1 / Mathf.sqrt(dot(xi, xi, rowBytes) + eps));
    const group = sums + <usize>(i / rowsPerGroup * k) * rowBytes;
    for (let c = 0; c < k; c++) {
      const w = load<f32>(weights + (<usize>(i * k + c) << 2));
      if (w != 0) axpy(w, xi, group + <usize>c * rowBytes, rowBytes);
    }
  }
}

/**
 * dx_i += beta_i x_i + sum_c W_ic dC[g, c] for the n rows of dx and x [n x dim] in place (g: row i's group of
 * `rowsPerGroup` rows; dC [groups * k x dim]; zero weights skipped): the gradient's terms through r_i and through
 * the centroids.
 */
export function addRowTerms(
  dx: usize, x: usize, beta: usize, weights: usize, dc: usize, n: i32, dim: i32, k: i32, rowsPerGroup: i32,
): void {
  const rowBytes = <usize>dim << 2;
  for (let i = 0; i < n; i++) {
    const di = dx + <usize>i * rowBytes;
    axpy(load<f32>(beta + (<usize>i << 2)), x + <usize>i * rowBytes, di, rowBytes);
    const group = dc + <usize>(i / rowsPerGroup * k) * rowBytes;
    for (let c = 0; c < k; c++) {
      const w = load<f32>(weights + (<usize>(i * k + c) << 2));
      if (w != 0) axpy(w, group + <usize>c * rowBytes, di, rowBytes);
    }
  }
}

/**
 * The unit centroids from the weighted sums [rows x dim]: C = sums * inverseMass (1 / sum_i W_ik per row),
 * unit = C / sqrt(|C|^2 + eps), and scale = inverseMass / sqrt(|C|^2 + eps) per row (what the gradient needs).
 */
export function unitCentroids(
  sums: usize, inverseMass: usize, unit: usize, scale: usize, rows: i32, dim: i32, eps: f32,
): void {
  const rowBytes = <usize>dim << 2;
  for (let c = 0; c < rows; c++) {
    const sc = sums + <usize>c * rowBytes;
    const uc = unit + <usize>c * rowBytes;
    const mass = load<f32>(inverseMass + (<usize>c << 2));
    const rho: f32 = <f32>1 / Mathf.sqrt(mass * mass * dot(sc, sc, rowBytes) + eps);
    const factor = f32x4.splat(mass * rho);
    for (let q: usize = 0; q < rowBytes; q += 16) v128.store(uc + q, f32x4.mul(v128.load(sc + q), factor));
    store<f32>(scale + (<usize>c << 2), mass * rho);
  }
}

/**
 * The gradient through the unit centroids, in place over dUnit [rows x dim]:
 * dC_k / sum_i W_ik = scale_k (dĉ_k - ĉ_k (ĉ_k . dĉ_k)).
 */
export function centroidGradient(dUnit: usize, unit: usize, scale: usize, rows: i32, dim: i32): void {
  const rowBytes = <usize>dim << 2;
  for (let c = 0; c < rows; c++) {
    const dc = dUnit + <usize>c * rowBytes;
    const uc = unit + <usize>c * rowBytes;
    const s = load<f32>(scale + (<usize>c << 2));
    const a = f32x4.splat(s);
    const b = f32x4.splat(s * dot(uc, dc, rowBytes));
    for (let q: usize = 0; q < rowBytes; q += 16) v128.store(dc + q, f32x4.sub(f32x4.mul(a, v128.load(dc + q)), f32x4.mul(b, v128.load(uc + q))));
  }
}
