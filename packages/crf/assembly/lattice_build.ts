// AssemblyScript: lattice construction (Adams et al. 2010, as in Kraehenbuehl's permutohedral.cpp).

const HASH_FACTOR: u32 = 2531011;

/**
 * The polynomial part of a key's hash, sum_i key_i x HASH_FACTOR^(d - i) (mod 2^32): linear in the key, so the
 * build updates it as the key moves from one simplex vertex to the next.
 */
// @ts-ignore: decorator
@inline function rawHash(key: usize, d: i32): u32 {
  let h: u32 = 0;
  for (let i = 0; i < d; i++) h = (h + <u32>load<i32>(key + (<usize>i << 2))) * HASH_FACTOR;
  return h;
}

/**
 * Index of `key` (d i32s, `raw` = rawHash(key)) in the table, or -1; inserts it when `insert` (returns -2 when the
 * table is full).
 */
function findKey(key: usize, raw: u32, d: i32, slots: usize, mask: u32, keys: usize, size: usize, insert: bool): i32 {
  let h = raw ^ (raw >>> 15);
  h *= 0x85ebca6b;
  h = (h ^ (h >>> 13)) & mask;
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
  for (let i: usize = 0; i < rowBytes; i += 4) store<i32>(keys + <usize>count * rowBytes + i, load<i32>(key + i));
  store<i32>(slots + (<usize>h << 2), count);
  store<i32>(size, count + 1);
  return count;
}

/**
 * Embeds `pixels` points with `d` features (f32, already divided by the standard deviations) in the lattice:
 * writes each point's d + 1 simplex vertices (`offsets`, lattice point indices) and barycentric weights, inserting
 * lattice points into the hash table (`slots`: capacity i32s set to -1, capacity a power of two; `keys`: capacity / 2
 * x d i32s). `work` needs 384 ceil((d + 2) / 8) bytes. Returns the number of lattice points, or -1 if the table filled up.
 */
export function buildLattice(
  features: usize, pixels: i32, d: i32, slots: usize, capacity: i32, keys: usize, offsets: usize, barycentric: usize, work: usize,
): i32 {
  const d1 = d + 1;
  const mask = <u32>capacity - 1;
  // work area: arrays of up to d + 2 values, each padded to whole 8-lane vectors (the SIMD path reads two vectors)
  const span = <usize>((d + 9) >> 3) << 5;
  const scaleFactor = work;
  const elevated = scaleFactor + span;
  const rem0 = elevated + span;
  const rank = rem0 + span;
  const bary = rank + span;
  const key = bary + span;
  const size = key + span;
  const previous = size + span; // the last pixel's remainder-0 point and ranks (two spans)
  const byRank = previous + 2 * span; // the coordinate of each rank
  const powers = byRank + span; // HASH_FACTOR^(d - i)
  const fraction = powers + span; // elevated - remainder-0 point
  memory.fill(work, 0, fraction + span - work); // padding lanes stay 0
  const simd = d1 <= 8;
  const lane0 = i32x4(0, 1, 2, 3);
  const lane1 = i32x4(4, 5, 6, 7);
  const half = f32x4.splat(0.5);
  const sign = i32x4.splat(0x80000000);
  const down = f32x4.splat(<f32>1 / <f32>d1);
  const width = i32x4.splat(d1);
  let powerSum: u32 = 0;
  for (let i = d - 1, p: u32 = HASH_FACTOR; i >= 0; i--, p *= HASH_FACTOR) {
    store<u32>(powers + (<usize>i << 2), p);
    powerSum += p;
  }
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
    // neighbouring pixels often lie in the same simplex (same remainder-0 point and ranks): same lattice points
    let same = k > 0;
    for (let i = 0; same && i <= d; i++) {
      same = load<i32>(rem0 + (<usize>i << 2)) == load<i32>(previous + (<usize>i << 2)) &&
        load<i32>(rank + (<usize>i << 2)) == load<i32>(previous + span + (<usize>i << 2));
    }
    // vertex r's key is rem0 + r, minus d + 1 where rank > d - r (Adams et al.): from one vertex to the next every
    // coordinate gains 1 and the one of rank d - r + 1 loses d + 1, and the hash moves with it
    for (let i = 0; i <= d; i++) store<i32>(byRank + (<usize>load<i32>(rank + (<usize>i << 2)) << 2), i);
    for (let i = 0; i < d; i++) store<i32>(key + (<usize>i << 2), load<i32>(rem0 + (<usize>i << 2)));
    let raw = rawHash(key, d);
    for (let r = 0; r <= d; r++) {
      const v = <usize>(k * d1 + r) << 2;
      store<f32>(barycentric + v, load<f32>(bary + (<usize>r << 2)));
      if (r > 0) {
        const j = load<i32>(byRank + (<usize>(d1 - r) << 2));
        for (let i = 0; i < d; i++) store<i32>(key + (<usize>i << 2), load<i32>(key + (<usize>i << 2)) + 1);
        raw += powerSum;
        if (j < d) {
          store<i32>(key + (<usize>j << 2), load<i32>(key + (<usize>j << 2)) - d1);
          raw -= <u32>d1 * load<u32>(powers + (<usize>j << 2));
        }
      }
      if (same) {
        store<i32>(offsets + v, load<i32>(offsets + v - (<usize>d1 << 2)));
        continue;
      }
      const index = findKey(key, raw, d, slots, mask, keys, size, true);
      if (index < 0) return -1;
      store<i32>(offsets + v, index);
    }
    for (let i = 0; i <= d; i++) {
      store<i32>(previous + (<usize>i << 2), load<i32>(rem0 + (<usize>i << 2)));
      store<i32>(previous + span + (<usize>i << 2), load<i32>(rank + (<usize>i << 2)));
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
      store<i32>(out, findKey(n1, rawHash(n1, d), d, slots, mask, keys, 0, false));
      store<i32>(out + 4, findKey(n2, rawHash(n2, d), d, slots, mask, keys, 0, false));
    }
  }
}
