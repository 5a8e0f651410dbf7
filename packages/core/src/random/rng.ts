// Math functions hoisted to module constants: global lookups are ~10x slower inside vm contexts (jest).
const { cos, floor, imul, log, sin, sqrt } = Math;

/**
 * Seeded pseudo-random numbers for everything random in `@wsss/*` (augmentation, synthetic data, initialisation):
 * the same seed gives the same sequence on every platform. Generator: xoshiro128** (32-bit, period 2^128 - 1),
 * seeded through splitmix32 from a number or from the hash of a string.
 *
 * ```ts
 * const rng = new Rng(42);
 * rng.next();            // float in [0, 1)
 * rng.int(0, 10);        // integer in [0, 10)
 * rng.normal();          // N(0, 1)
 * const aug = rng.fork('augment'); // independent stream, reproducible by name
 * ```
 */
export class Rng {
  private s: Uint32Array;
  private spareNormal: number | undefined;

  constructor(seed: number | string = 0) {
    this.s = new Uint32Array(4);
    let x = typeof seed === 'string' ? hashString(seed) : seedToUint32(seed);
    for (let i = 0; i < 4; i++) {
      x = (x + 0x9e3779b9) >>> 0;
      this.s[i] = splitmix32(x);
    }
    if ((this.s[0] | this.s[1] | this.s[2] | this.s[3]) === 0) this.s[0] = 1;
  }

  /** Restores a generator saved with `state()` (e.g. when resuming from a checkpoint). */
  static fromState(state: readonly number[]): Rng {
    if (state.length !== 4 && state.length !== 5) {
      throw new Error(
        `Rng.fromState: state must hold 4 or 5 numbers (from rng.state()), got ${state.length}`,
      );
    }
    const rng = new Rng(0);
    rng.s.set(state.slice(0, 4));
    rng.spareNormal = state.length === 5 ? state[4] : undefined;
    return rng;
  }

  /** The generator's full state, JSON-serialisable. */
  state(): number[] {
    const st = Array.from(this.s);
    return this.spareNormal === undefined ? st : [...st, this.spareNormal];
  }

  /** Next 32-bit unsigned integer. */
  nextUint32(): number {
    const s = this.s;
    const result = imul(rotl(imul(s[1], 5), 7), 9) >>> 0;
    const t = s[1] << 9;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 11);
    return result;
  }

  /** Uniform float in [0, 1) with 32 bits of randomness. */
  next(): number {
    return this.nextUint32() / 4294967296;
  }

  /** Uniform float in [low, high). */
  uniform(low = 0, high = 1): number {
    return low + (high - low) * this.next();
  }

  /** Uniform integer in [low, high) (unbiased). */
  int(low: number, high: number): number {
    const range = high - low;
    if (!Number.isInteger(low) || !Number.isInteger(high) || range <= 0 || range > 4294967296) {
      throw new Error(
        `Rng.int: expected integers low < high with high - low <= 2^32, got low=${low} high=${high}`,
      );
    }
    const limit = 4294967296 - (4294967296 % range);
    let v = this.nextUint32();
    while (v >= limit) v = this.nextUint32();
    return low + (v % range);
  }

  /** True with probability p. */
  bool(p = 0.5): boolean {
    return this.next() < p;
  }

  /** Normal deviate (Box-Muller, both values used). */
  normal(mean = 0, std = 1): number {
    if (this.spareNormal !== undefined) {
      const z = this.spareNormal;
      this.spareNormal = undefined;
      return mean + std * z;
    }
    let u = 0;
    while (u === 0) u = this.next();
    const v = this.next();
    const r = sqrt(-2 * log(u));
    this.spareNormal = r * sin(2 * Math.PI * v);
    return mean + std * r * cos(2 * Math.PI * v);
  }

  /** Shuffles `items` in place (Fisher-Yates) and returns it. */
  shuffle<T>(items: T[]): T[] {
    for (let i = items.length - 1; i > 0; i--) {
      const j = this.int(0, i + 1);
      [items[i], items[j]] = [items[j], items[i]];
    }
    return items;
  }

  /** One element of a non-empty array. */
  pick<T>(items: readonly T[]): T {
    if (items.length === 0) throw new Error('Rng.pick: items must not be empty');
    return items[this.int(0, items.length)];
  }

  /** Fills a float array with N(mean, std) values. */
  fillNormal<T extends Float32Array | Float64Array>(out: T, mean = 0, std = 1): T {
    for (let i = 0; i < out.length; i++) out[i] = this.normal(mean, std);
    return out;
  }

  /** Fills a float array with U[low, high) values. */
  fillUniform<T extends Float32Array | Float64Array>(out: T, low = 0, high = 1): T {
    for (let i = 0; i < out.length; i++) out[i] = this.uniform(low, high);
    return out;
  }

  /**
   * An independent generator derived from this one's current state and `label`; this generator is not advanced,
   * so adding a fork never changes the sequence of the parent.
   */
  fork(label: string | number): Rng {
    const h = hashString(`${this.s.join(':')}/${label}`);
    return new Rng(h);
  }
}

function rotl(x: number, k: number): number {
  return ((x << k) | (x >>> (32 - k))) >>> 0;
}

function splitmix32(a: number): number {
  let z = a >>> 0;
  z = imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
  z = imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
  return (z ^ (z >>> 16)) >>> 0;
}

function seedToUint32(seed: number): number {
  if (!Number.isFinite(seed)) throw new Error(`Rng: seed must be a finite number or a string, got ${seed}`);
  const lo = seed >>> 0;
  const hi = floor(seed / 4294967296) >>> 0;
  return (lo ^ imul(hi, 0x9e3779b1)) >>> 0;
}

/** FNV-1a over UTF-16 code units, then mixed. */
function hashString(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = imul(h, 0x01000193) >>> 0;
  }
  return splitmix32(h);
}
