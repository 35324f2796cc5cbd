/**
 * A small seeded pseudo-random generator (sfc32, a 128-bit chaotic counter generator that passes the
 * usual statistical batteries) and the distributions the synthetic world draws from. Nothing here reads
 * the clock or `Math.random()`: the same seed always yields the same numbers, on every platform, because
 * the arithmetic is 32-bit integer and the transcendental functions are the engine's own.
 */

const TWO_POW_32 = 4294967296;

/** A 32-bit bijective integer mixer (an avalanche function with good diffusion). */
export function mix32(value: number): number {
  let x = value >>> 0;
  x = Math.imul(x ^ (x >>> 16), 0x21f0aaad);
  x = Math.imul(x ^ (x >>> 15), 0x735a2d97);
  return (x ^ (x >>> 15)) >>> 0;
}

/** Reduces a numeric or text seed to 32 bits; text is hashed (FNV-1a), large numbers fold both halves. */
export function seedToUint32(seed: number | string): number {
  if (typeof seed === 'string') {
    let h = 0x811c9dc5;
    for (let i = 0; i < seed.length; i++) {
      h = Math.imul(h ^ seed.charCodeAt(i), 0x01000193);
    }
    return mix32(h);
  }
  if (!Number.isFinite(seed)) throw new RangeError('seed must be a finite number or a string');
  const whole = Math.trunc(Math.abs(seed));
  const high = Math.floor(whole / TWO_POW_32);
  return mix32((whole >>> 0) ^ mix32(high + (seed < 0 ? 0x5bd1e995 : 0)));
}

/** Natural log of the gamma function (Lanczos approximation, g = 7), for x > 0. */
export function logGamma(x: number): number {
  if (x < 0.5) return Math.log(Math.PI / Math.sin(Math.PI * x)) - logGamma(1 - x);
  const c = LANCZOS;
  const z = x - 1;
  let a = c[0] as number;
  const t = z + 7.5;
  for (let i = 1; i < 9; i++) a += (c[i] as number) / (z + i);
  return 0.5 * Math.log(2 * Math.PI) + (z + 0.5) * Math.log(t) - t + Math.log(a);
}

const LANCZOS = [
  0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313, -176.61502916214059,
  12.507343278686905, -0.13857109526572012, 9.9843695780195716e-6, 1.5056327351493116e-7,
];

/** A seeded generator with the distributions the synthetic world needs. */
export class Rng {
  private a: number;
  private b: number;
  private c: number;
  private d: number;
  private spareNormal = Number.NaN;

  /** Seeds from a 32-bit world seed and any number of 32-bit stream coordinates (index, purpose…). */
  constructor(seed: number, ...stream: number[]) {
    let h = mix32(seed ^ 0x9e3779b9);
    for (const part of stream) h = mix32(h ^ mix32((part >>> 0) + 0x7f4a7c15));
    this.a = h;
    this.b = mix32(h + 0x9e3779b9);
    this.c = mix32(h + 0x3c6ef372);
    this.d = 1;
    // Warm up so that nearby seeds diverge completely.
    for (let i = 0; i < 12; i++) this.uint32();
  }

  /** A uniformly distributed unsigned 32-bit integer. */
  uint32(): number {
    const t = (((this.a + this.b) | 0) + this.d) | 0;
    this.d = (this.d + 1) | 0;
    this.a = this.b ^ (this.b >>> 9);
    this.b = (this.c + (this.c << 3)) | 0;
    this.c = (this.c << 21) | (this.c >>> 11);
    this.c = (this.c + t) | 0;
    return t >>> 0;
  }

  /** Uniform on [0, 1). */
  next(): number {
    return this.uint32() / TWO_POW_32;
  }

  /** Uniform on (0, 1): never exactly 0, so it is safe under a logarithm. */
  open(): number {
    return (this.uint32() + 0.5) / TWO_POW_32;
  }

  /** Uniform on [low, high). */
  uniform(low: number, high: number): number {
    return low + (high - low) * this.next();
  }

  /** A uniformly distributed integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.next() * n);
  }

  /** A uniformly distributed integer in [low, high] (both ends included). */
  intBetween(low: number, high: number): number {
    return low + Math.floor(this.next() * (high - low + 1));
  }

  /** True with probability p. */
  chance(p: number): boolean {
    return this.next() < p;
  }

  /** Normal with the given mean and standard deviation (Box–Muller, the second value cached). */
  normal(mean = 0, sd = 1): number {
    if (!Number.isNaN(this.spareNormal)) {
      const z = this.spareNormal;
      this.spareNormal = Number.NaN;
      return mean + sd * z;
    }
    const r = Math.sqrt(-2 * Math.log(this.open()));
    const theta = 2 * Math.PI * this.next();
    this.spareNormal = r * Math.sin(theta);
    return mean + sd * r * Math.cos(theta);
  }

  /** Exponential with the given rate (mean 1 / rate). */
  exponential(rate: number): number {
    return -Math.log(this.open()) / rate;
  }

  /** Gamma with the given shape and rate (mean shape / rate); Marsaglia & Tsang (2000). */
  gamma(shape: number, rate = 1): number {
    if (shape < 1) {
      // Boost: Gamma(k) = Gamma(k + 1) · U^(1/k).
      return (this.gamma(shape + 1, rate) * this.open() ** (1 / shape)) as number;
    }
    const d = shape - 1 / 3;
    const c = 1 / Math.sqrt(9 * d);
    for (;;) {
      let x: number;
      let v: number;
      do {
        x = this.normal();
        v = 1 + c * x;
      } while (v <= 0);
      v = v * v * v;
      const u = this.open();
      const x2 = x * x;
      if (u < 1 - 0.0331 * x2 * x2) return (d * v) / rate;
      if (Math.log(u) < 0.5 * x2 + d * (1 - v + Math.log(v))) return (d * v) / rate;
    }
  }

  /** Beta(a, b), as the ratio of two gammas. */
  beta(a: number, b: number): number {
    const x = this.gamma(a);
    const y = this.gamma(b);
    return x / (x + y);
  }

  /** Poisson with the given mean: multiplication for small means, PTRS (Hörmann 1993) for large. */
  poisson(mean: number): number {
    if (mean <= 0) return 0;
    if (mean < 30) {
      const limit = Math.exp(-mean);
      let k = 0;
      let p = this.next();
      while (p > limit) {
        k++;
        p *= this.next();
      }
      return k;
    }
    const sqrtMean = Math.sqrt(mean);
    const logMean = Math.log(mean);
    const b = 0.931 + 2.53 * sqrtMean;
    const a = -0.059 + 0.02483 * b;
    const invAlpha = 1.1239 + 1.1328 / (b - 3.4);
    const vr = 0.9277 - 3.6224 / (b - 2);
    for (;;) {
      const u = this.next() - 0.5;
      const v = this.next();
      const us = 0.5 - Math.abs(u);
      const k = Math.floor(((2 * a) / us + b) * u + mean + 0.43);
      if (us >= 0.07 && v <= vr) return k;
      if (k < 0 || (us < 0.013 && v > us)) continue;
      if (
        Math.log(v) + Math.log(invAlpha) - Math.log(a / (us * us) + b) <=
        -mean + k * logMean - logGamma(k + 1)
      ) {
        return k;
      }
    }
  }

  /** One element of a non-empty array, uniformly. */
  pick<T>(items: readonly T[]): T {
    const item = items[Math.floor(this.next() * items.length)];
    if (item === undefined) throw new RangeError('pick from an empty array');
    return item;
  }

  /** One element, with probability proportional to its weight (linear scan; use AliasTable when hot). */
  weighted<T>(items: readonly T[], weights: readonly number[]): T {
    let total = 0;
    for (const w of weights) total += w;
    let target = this.next() * total;
    for (let i = 0; i < items.length; i++) {
      target -= weights[i] ?? 0;
      if (target < 0) return items[i] as T;
    }
    return this.pick(items);
  }
}

/** Constant-time weighted choice (Vose's alias method), built once for a fixed table. */
export class AliasTable<T> {
  private readonly items: readonly T[];
  private readonly probability: Float64Array;
  private readonly alias: Uint32Array;

  constructor(items: readonly T[], weights: readonly number[]) {
    const n = items.length;
    if (n === 0 || weights.length !== n) throw new RangeError('an alias table needs one weight per item');
    let total = 0;
    for (const w of weights) {
      if (!(w >= 0)) throw new RangeError('weights must be non-negative');
      total += w;
    }
    if (total <= 0) throw new RangeError('weights must not all be zero');
    this.items = items;
    this.probability = new Float64Array(n);
    this.alias = new Uint32Array(n);
    const scaled = weights.map((w) => (w * n) / total);
    const small: number[] = [];
    const large: number[] = [];
    scaled.forEach((p, i) => {
      (p < 1 ? small : large).push(i);
    });
    for (;;) {
      const s = small.pop();
      const l = large.pop();
      if (s === undefined || l === undefined) {
        if (s !== undefined) this.probability[s] = 1;
        if (l !== undefined) this.probability[l] = 1;
        for (const i of small) this.probability[i] = 1;
        for (const i of large) this.probability[i] = 1;
        break;
      }
      const ps = scaled[s] as number;
      this.probability[s] = ps;
      this.alias[s] = l;
      const pl = (scaled[l] as number) + ps - 1;
      scaled[l] = pl;
      (pl < 1 ? small : large).push(l);
    }
  }

  /** Draws one item. */
  pick(rng: Rng): T {
    const n = this.items.length;
    const x = rng.next() * n;
    const i = Math.floor(x);
    const column = (this.probability[i] as number) > x - i ? i : (this.alias[i] as number);
    return this.items[column] as T;
  }
}
