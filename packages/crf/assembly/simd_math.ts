// AssemblyScript: SIMD helpers shared by the lattice kernels (4 float lanes per v128).

const LOG2E: f32 = 1.44269504088896341;

// @ts-ignore: decorator
@inline export function hsum(v: v128): f32 {
  return f32x4.extract_lane(v, 0) + f32x4.extract_lane(v, 1) + f32x4.extract_lane(v, 2) + f32x4.extract_lane(v, 3);
}

const ROUNDING: f32 = 12582912.0; // 1.5 * 2^23: adding it rounds to an integer kept in the low mantissa bits

/**
 * exp of 4 floats in [-87, 88] (relative error < 1e-7: Cody-Waite reduction to |r| <= ln2 / 2, then
 * e^r = 1 + r + r^2 P(r) with a degree-4 P fitted to e^r on that interval). Outside that range the result is
 * meaningless: callers mask such lanes. Uses only single-instruction SIMD operations (rounding by a magic constant),
 * which V8 compiles much tighter than floor.
 */
// @ts-ignore: decorator
@inline export function exp4(x: v128): v128 {
  const z = f32x4.add(f32x4.mul(x, f32x4.splat(LOG2E)), f32x4.splat(ROUNDING));
  const n = f32x4.sub(z, f32x4.splat(ROUNDING));
  x = f32x4.sub(x, f32x4.mul(n, f32x4.splat(0.693359375)));
  x = f32x4.sub(x, f32x4.mul(n, f32x4.splat(-2.12194440e-4)));
  let y = f32x4.splat(1.3855805505e-3);
  y = f32x4.add(f32x4.mul(y, x), f32x4.splat(8.3636735170e-3));
  y = f32x4.add(f32x4.mul(y, x), f32x4.splat(4.1667488295e-2));
  y = f32x4.add(f32x4.mul(y, x), f32x4.splat(1.6666565677e-1));
  y = f32x4.add(f32x4.mul(y, x), f32x4.splat(4.9999997561e-1));
  y = f32x4.add(f32x4.add(f32x4.mul(f32x4.mul(y, x), x), x), f32x4.splat(1));
  // bits(z) = 0x4b400000 + n, so (bits(z) - 0x4b400000 + 127) << 23 is the float 2^n
  const pow2n = i32x4.shl(i32x4.add(z, i32x4.splat(127 - 0x4b400000)), 23);
  return f32x4.mul(y, pow2n);
}

/** Natural log of 4 positive normal floats (Cephes logf polynomial, relative error < 2e-7). */
// @ts-ignore: decorator
@inline export function log4(x: v128): v128 {
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

