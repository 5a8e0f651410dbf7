// AssemblyScript: lattice construction (Adams et al. 2010, as in Kraehenbuehl's permutohedral.cpp).

const HASH_FACTOR: u32 = 2531011;

/**
 * Keys are the first d coordinates of a lattice point, stored as ceil(d / 4) vectors of 4 i32s (padding lanes 0), so
 * moving, comparing and hashing a key are a few vector operations. This is the stride of the keys array.
 */
export function latticeKeyBytes(d: i32): i32 {
  return ((d + 3) >> 2) << 4;
}

/** Bytes of the work area that buildLattice and latticeNeighbours need for d features. */
export function latticeWorkBytes(d: i32): i32 {
  return keyTablesBytes(d) + 8 * spanBytes(d);
}

/** One array of up to d + 2 values, padded to whole 8-lane vectors (the SIMD path of the build reads two vectors). */
// @ts-ignore: decorator
@inline function spanBytes(d: i32): i32 {
  return ((d + 9) >> 3) << 5;
}

/** Bytes of writeKeyTables' tables: d + 1 steps and the powers (key vectors each), d + 1 raw-hash steps. */
// @ts-ignore: decorator
@inline function keyTablesBytes(d: i32): i32 {
  return (d + 2) * latticeKeyBytes(d) + (((d + 4) >> 2) << 4);
}

/**
 * Writes the key tables at the start of `work`: for each axis j <= d the step from a lattice point to its neighbour
 * along j (+1 on every coordinate, and -(d + 1) on coordinate j when j < d; as vectors), then the hash powers
 * HASH_FACTOR^(d - i) (as vectors), then each step's change of the raw hash. Returns the address of the raw-hash
 * steps; the steps start at `work`, the powers follow them.
 */
function writeKeyTables(d: i32, work: usize): usize {
  const keyBytes = <usize>latticeKeyBytes(d);
  const powers = work + <usize>(d + 1) * keyBytes;
  const rawSteps = powers + keyBytes;
  memory.fill(work, 0, <usize>keyTablesBytes(d));
  let powerSum: u32 = 0;
  for (let i = d - 1, p: u32 = HASH_FACTOR; i >= 0; i--, p *= HASH_FACTOR) {
    store<u32>(powers + (<usize>i << 2), p);
    powerSum += p;
  }
  for (let j = 0; j <= d; j++) {
    const step = work + <usize>j * keyBytes;
    for (let i = 0; i < d; i++) store<i32>(step + (<usize>i << 2), i == j ? -d : 1);
    store<u32>(rawSteps + (<usize>j << 2), j < d ? powerSum - <u32>(d + 1) * load<u32>(powers + (<usize>j << 2)) : powerSum);
  }
  return rawSteps;
}

/** The raw hash sum_i key_i x HASH_FACTOR^(d - i) (mod 2^32) of a key: linear, so steps move it by a constant. */
// @ts-ignore: decorator
@inline function rawHash(k0: v128, k1: v128, k2: v128, k3: v128, kv: i32, powers: usize): u32 {
  let s = i32x4.mul(k0, v128.load(powers));
  if (kv > 1) s = i32x4.add(s, i32x4.mul(k1, v128.load(powers, 16)));
  if (kv > 2) s = i32x4.add(s, i32x4.mul(k2, v128.load(powers, 32)));
  if (kv > 3) s = i32x4.add(s, i32x4.mul(k3, v128.load(powers, 48)));
  return <u32>(i32x4.extract_lane(s, 0) + i32x4.extract_lane(s, 1) + i32x4.extract_lane(s, 2) + i32x4.extract_lane(s, 3));
}

/**
 * Index of the key k0..k3 (kv vectors; `raw` its rawHash) in the table, or -1; inserts it when `insert` (returns -2
 * when the table is full).
 */
// @ts-ignore: decorator
@inline function findKey(k0: v128, k1: v128, k2: v128, k3: v128, kv: i32, raw: u32, slots: usize, mask: u32, keys: usize, size: usize, insert: bool): i32 {
  let h = raw ^ (raw >>> 15);
  h *= 0x85ebca6b;
  h = (h ^ (h >>> 13)) & mask;
  const keyBytes = <usize>kv << 4;
  for (;;) {
    const index = load<i32>(slots + (<usize>h << 2));
    if (index < 0) break;
    const stored = keys + <usize>index * keyBytes;
    let same = i32x4.eq(v128.load(stored), k0);
    if (kv > 1) same = v128.and(same, i32x4.eq(v128.load(stored, 16), k1));
    if (kv > 2) same = v128.and(same, i32x4.eq(v128.load(stored, 32), k2));
    if (kv > 3) same = v128.and(same, i32x4.eq(v128.load(stored, 48), k3));
    if (i32x4.all_true(same)) return index;
    h = (h + 1) & mask;
  }
  if (!insert) return -1;
  const count = load<i32>(size);
  if (<u32>(count + 1) * 2 > mask + 1) return -2;
  const stored = keys + <usize>count * keyBytes;
  v128.store(stored, k0);
  if (kv > 1) v128.store(stored, k1, 16);
  if (kv > 2) v128.store(stored, k2, 32);
  if (kv > 3) v128.store(stored, k3, 48);
  store<i32>(slots + (<usize>h << 2), count);
  store<i32>(size, count + 1);
  return count;
}

/**
 * Embeds `pixels` points with `d` features (f32, already divided by the standard deviations) in the lattice:
 * writes each point's d + 1 simplex vertices (`offsets`, lattice point indices) and barycentric weights, inserting
 * lattice points into the hash table (`slots`: capacity i32s set to -1, capacity a power of two; `keys`: capacity / 2
 * x latticeKeyBytes(d) bytes). `work` needs latticeWorkBytes(d) bytes. Returns the number of lattice points, or -1 if
 * the table filled up.
 */
export function buildLattice(
  features: usize, pixels: i32, d: i32, slots: usize, capacity: i32, keys: usize, offsets: usize, barycentric: usize, work: usize,
): i32 {
  const d1 = d + 1;
  const mask = <u32>capacity - 1;
  const kv = (d + 3) >> 2;
  const keyBytes = <usize>latticeKeyBytes(d);
  const steps = work;
  const powers = steps + <usize>d1 * keyBytes;
  const rawSteps = writeKeyTables(d, work);
  const span = <usize>spanBytes(d);
  const scaleFactor = work + <usize>keyTablesBytes(d);
  const elevated = scaleFactor + span;
  const rem0 = elevated + span;
  const rank = rem0 + span;
  const bary = rank + span;
  const size = bary + span;
  const byRank = size + span; // the coordinate of each rank
  const fraction = byRank + span; // elevated - remainder-0 point
  memory.fill(scaleFactor, 0, fraction + span - scaleFactor); // padding lanes stay 0
  const simd = d1 <= 8;
  const lane0 = i32x4(0, 1, 2, 3);
  const lane1 = i32x4(4, 5, 6, 7);
  const half = f32x4.splat(0.5);
  const sign = i32x4.splat(0x80000000);
  const down = f32x4.splat(<f32>1 / <f32>d1);
  const width = i32x4.splat(d1);
  // the key's lanes: the first d coordinates
  const dims = i32x4.splat(d);
  const mask0 = i32x4.lt_s(lane0, dims);
  const mask1 = i32x4.lt_s(lane1, dims);
  const mask2 = i32x4.lt_s(i32x4(8, 9, 10, 11), dims);
  const mask3 = i32x4.lt_s(i32x4(12, 13, 14, 15), dims);
  // the previous pixel's remainder-0 point and ranks (first d lanes; they determine the last one)
  let previousKey0 = i32x4.splat(0x7fffffff);
  let previousKey1 = previousKey0;
  let previousKey2 = previousKey0;
  let previousKey3 = previousKey0;
  let previousRank0 = previousKey0;
  let previousRank1 = previousKey0;
  let previousRank2 = previousKey0;
  let previousRank3 = previousKey0;
  store<i32>(size, 0);
  const invStdDev: f32 = <f32>Math.sqrt(2.0 / 3.0) * <f32>d1;
  for (let i = 0; i < d; i++) store<f32>(scaleFactor + (<usize>i << 2), invStdDev / <f32>Math.sqrt(<f64>((i + 1) * (i + 2))));
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
    if (simd) {
      // all d + 1 coordinates at once: round to the nearest multiple of d + 1 (C's round(), ties away from zero),
      // rank the remainders, wrap ranks outside [0, d] (padding lanes are 0 and never counted)
      const e0 = v128.load(elevated);
      const e1 = v128.load(elevated, 16);
      const a0 = f32x4.mul(e0, down);
      const a1 = f32x4.mul(e1, down);
      const r0 = i32x4.trunc_sat_f32x4_s(f32x4.trunc(f32x4.add(a0, v128.or(half, v128.and(a0, sign)))));
      const r1 = i32x4.trunc_sat_f32x4_s(f32x4.trunc(f32x4.add(a1, v128.or(half, v128.and(a1, sign)))));
      const rs = i32x4.add(r0, r1);
      const sum = i32x4.extract_lane(rs, 0) + i32x4.extract_lane(rs, 1) + i32x4.extract_lane(rs, 2) + i32x4.extract_lane(rs, 3);
      let m0 = i32x4.mul(r0, width);
      let m1 = i32x4.mul(r1, width);
      const f0 = f32x4.sub(e0, f32x4.convert_i32x4_s(m0));
      const f1 = f32x4.sub(e1, f32x4.convert_i32x4_s(m1));
      v128.store(fraction, f0);
      v128.store(fraction, f1, 16);
      // rank_i = #{j > i: f_j > f_i} + #{j < i: f_j >= f_i}, accumulated over j for all i at once
      let k0 = i32x4.splat(sum);
      let k1 = k0;
      for (let j = 0; j <= d; j++) {
        const fj = f32x4.splat(load<f32>(fraction + (<usize>j << 2)));
        const at = i32x4.splat(j);
        const before0 = i32x4.lt_s(lane0, at);
        const before1 = i32x4.lt_s(lane1, at);
        const after0 = i32x4.gt_s(lane0, at);
        const after1 = i32x4.gt_s(lane1, at);
        k0 = i32x4.sub(k0, v128.or(v128.and(before0, f32x4.lt(f0, fj)), v128.and(after0, f32x4.le(f0, fj))));
        k1 = i32x4.sub(k1, v128.or(v128.and(before1, f32x4.lt(f1, fj)), v128.and(after1, f32x4.le(f1, fj))));
      }
      const shift0 = v128.sub<i32>(v128.and(i32x4.lt_s(k0, i32x4.splat(0)), width), v128.and(i32x4.gt_s(k0, i32x4.splat(d)), width));
      const shift1 = v128.sub<i32>(v128.and(i32x4.lt_s(k1, i32x4.splat(0)), width), v128.and(i32x4.gt_s(k1, i32x4.splat(d)), width));
      v128.store(rank, i32x4.add(k0, shift0));
      v128.store(rank, i32x4.add(k1, shift1), 16);
      v128.store(rem0, i32x4.add(m0, shift0));
      v128.store(rem0, i32x4.add(m1, shift1), 16);
    } else {
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
    }
    for (let i = 0; i <= d + 1; i++) store<f32>(bary + (<usize>i << 2), 0); // memory.fill is a call
    for (let i = 0; i <= d; i++) {
      const v = (load<f32>(elevated + (<usize>i << 2)) - <f32>load<i32>(rem0 + (<usize>i << 2))) * downFactor;
      const at = bary + (<usize>(d - load<i32>(rank + (<usize>i << 2))) << 2);
      store<f32>(at, load<f32>(at) + v);
      store<f32>(at + 4, load<f32>(at + 4) - v);
    }
    store<f32>(bary, load<f32>(bary) + 1 + load<f32>(bary + (<usize>(d + 1) << 2)));
    const vertices = barycentric + (<usize>(k * d1) << 2);
    for (let r = 0; r <= d; r++) store<f32>(vertices + (<usize>r << 2), load<f32>(bary + (<usize>r << 2)));
    // vertex 0 is the remainder-0 point, whose first d coordinates are its key
    let k0 = v128.and(v128.load(rem0), mask0);
    let k1 = kv > 1 ? v128.and(v128.load(rem0, 16), mask1) : k0;
    let k2 = kv > 2 ? v128.and(v128.load(rem0, 32), mask2) : k0;
    let k3 = kv > 3 ? v128.and(v128.load(rem0, 48), mask3) : k0;
    const rank0 = v128.and(v128.load(rank), mask0);
    const rank1 = kv > 1 ? v128.and(v128.load(rank, 16), mask1) : rank0;
    const rank2 = kv > 2 ? v128.and(v128.load(rank, 32), mask2) : rank0;
    const rank3 = kv > 3 ? v128.and(v128.load(rank, 48), mask3) : rank0;
    const vertexOffsets = offsets + (<usize>(k * d1) << 2);
    // neighbouring pixels often lie in the same simplex (same remainder-0 point and ranks): same lattice points
    let same = i32x4.all_true(v128.and(i32x4.eq(k0, previousKey0), i32x4.eq(rank0, previousRank0)));
    if (kv > 1) same = same && i32x4.all_true(v128.and(i32x4.eq(k1, previousKey1), i32x4.eq(rank1, previousRank1)));
    if (kv > 2) same = same && i32x4.all_true(v128.and(i32x4.eq(k2, previousKey2), i32x4.eq(rank2, previousRank2)));
    if (kv > 3) same = same && i32x4.all_true(v128.and(i32x4.eq(k3, previousKey3), i32x4.eq(rank3, previousRank3)));
    if (same) {
      const previous = vertexOffsets - (<usize>d1 << 2);
      for (let r: usize = 0; r <= <usize>d; r++) store<i32>(vertexOffsets + (r << 2), load<i32>(previous + (r << 2)));
      continue;
    }
    previousKey0 = k0;
    previousKey1 = k1;
    previousKey2 = k2;
    previousKey3 = k3;
    previousRank0 = rank0;
    previousRank1 = rank1;
    previousRank2 = rank2;
    previousRank3 = rank3;
    // vertex r is the remainder-0 point plus r, minus d + 1 where rank > d - r (Adams et al.): from one vertex to the
    // next, the step along the axis of the coordinate of rank d - r + 1
    for (let i = 0; i <= d; i++) store<i32>(byRank + (<usize>load<i32>(rank + (<usize>i << 2)) << 2), i);
    let raw = rawHash(k0, k1, k2, k3, kv, powers);
    for (let r = 0; r <= d; r++) {
      if (r > 0) {
        const j = <usize>load<i32>(byRank + (<usize>(d1 - r) << 2));
        const step = steps + j * keyBytes;
        k0 = i32x4.add(k0, v128.load(step));
        if (kv > 1) k1 = i32x4.add(k1, v128.load(step, 16));
        if (kv > 2) k2 = i32x4.add(k2, v128.load(step, 32));
        if (kv > 3) k3 = i32x4.add(k3, v128.load(step, 48));
        raw += load<u32>(rawSteps + (j << 2));
      }
      const index = findKey(k0, k1, k2, k3, kv, raw, slots, mask, keys, size, true);
      if (index < 0) return -1;
      store<i32>(vertexOffsets + (<usize>r << 2), index);
    }
  }
  return load<i32>(size);
}

/**
 * For every axis j and lattice point p, the points one step away in both directions along j (-1: none), written to
 * `neighbours` [(d + 1) x points x 2]. The table and keys are those `buildLattice` filled; `work` latticeWorkBytes(d).
 */
export function latticeNeighbours(d: i32, points: i32, slots: usize, capacity: i32, keys: usize, neighbours: usize, work: usize): void {
  const mask = <u32>capacity - 1;
  const kv = (d + 3) >> 2;
  const keyBytes = <usize>latticeKeyBytes(d);
  const steps = work;
  const powers = steps + <usize>(d + 1) * keyBytes;
  const rawSteps = writeKeyTables(d, work);
  for (let p = 0; p < points; p++) {
    const key = keys + <usize>p * keyBytes;
    const k0 = v128.load(key);
    const k1 = kv > 1 ? v128.load(key, 16) : k0;
    const k2 = kv > 2 ? v128.load(key, 32) : k0;
    const k3 = kv > 3 ? v128.load(key, 48) : k0;
    const raw = rawHash(k0, k1, k2, k3, kv, powers);
    for (let j = 0; j <= d; j++) {
      const step = steps + <usize>j * keyBytes;
      const s0 = v128.load(step);
      const s1 = kv > 1 ? v128.load(step, 16) : s0;
      const s2 = kv > 2 ? v128.load(step, 32) : s0;
      const s3 = kv > 3 ? v128.load(step, 48) : s0;
      const rawStep = load<u32>(rawSteps + (<usize>j << 2));
      const out = neighbours + (<usize>(j * points + p) << 3);
      store<i32>(out, findKey(
        i32x4.add(k0, s0), i32x4.add(k1, s1), i32x4.add(k2, s2), i32x4.add(k3, s3), kv, raw + rawStep, slots, mask, keys, 0, false,
      ));
      store<i32>(out + 4, findKey(
        i32x4.sub(k0, s0), i32x4.sub(k1, s1), i32x4.sub(k2, s2), i32x4.sub(k3, s3), kv, raw - rawStep, slots, mask, keys, 0, false,
      ));
    }
  }
}
