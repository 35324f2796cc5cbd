import { describe, expect, it } from 'vitest';
import { AliasTable, logGamma, Rng, seedToUint32 } from './random.ts';

function moments(draw: () => number, n: number): { mean: number; variance: number } {
  let sum = 0;
  let sumSq = 0;
  for (let i = 0; i < n; i++) {
    const x = draw();
    sum += x;
    sumSq += x * x;
  }
  const mean = sum / n;
  return { mean, variance: sumSq / n - mean * mean };
}

describe('Rng', () => {
  it('repeats the same sequence for the same seed and stream, and differs otherwise', () => {
    const a = new Rng(42, 7, 1);
    const b = new Rng(42, 7, 1);
    const c = new Rng(42, 7, 2);
    const d = new Rng(43, 7, 1);
    const seqA = Array.from({ length: 20 }, () => a.uint32());
    expect(Array.from({ length: 20 }, () => b.uint32())).toEqual(seqA);
    expect(Array.from({ length: 20 }, () => c.uint32())).not.toEqual(seqA);
    expect(Array.from({ length: 20 }, () => d.uint32())).not.toEqual(seqA);
  });

  it('reduces text and large numeric seeds to stable 32-bit values', () => {
    expect(seedToUint32('demo')).toBe(seedToUint32('demo'));
    expect(seedToUint32('demo')).not.toBe(seedToUint32('demo2'));
    expect(seedToUint32(2 ** 40 + 1)).not.toBe(seedToUint32(1));
    expect(() => seedToUint32(Number.NaN)).toThrow(RangeError);
  });

  it('draws uniforms in range with the right mean', () => {
    const rng = new Rng(1);
    let min = 1;
    let max = 0;
    const { mean } = moments(() => {
      const x = rng.next();
      min = Math.min(min, x);
      max = Math.max(max, x);
      return x;
    }, 100_000);
    expect(min).toBeGreaterThanOrEqual(0);
    expect(max).toBeLessThan(1);
    expect(mean).toBeCloseTo(0.5, 2);
    for (let i = 0; i < 1000; i++) {
      const k = rng.intBetween(3, 5);
      expect(k >= 3 && k <= 5 && Number.isInteger(k)).toBe(true);
    }
  });

  it('matches the moments of normal, exponential, gamma, beta and Poisson distributions', () => {
    const rng = new Rng(2);
    const n = 40_000;
    const normal = moments(() => rng.normal(3, 2), n);
    expect(normal.mean).toBeCloseTo(3, 1);
    expect(Math.sqrt(normal.variance)).toBeCloseTo(2, 1);

    const exponential = moments(() => rng.exponential(4), n);
    expect(exponential.mean).toBeCloseTo(0.25, 2);

    // Gamma(shape, rate): mean shape / rate, variance shape / rate².
    for (const [shape, rate] of [
      [0.4, 2],
      [0.9, 6],
      [6, 0.5],
    ] as const) {
      const g = moments(() => rng.gamma(shape, rate), n);
      expect(Math.abs(g.mean - shape / rate) / (shape / rate)).toBeLessThan(0.03);
      expect(Math.abs(g.variance - shape / rate ** 2) / (shape / rate ** 2)).toBeLessThan(0.1);
    }

    const beta = moments(() => rng.beta(0.6, 3), n);
    expect(beta.mean).toBeCloseTo(0.6 / 3.6, 2);

    for (const mean of [0.7, 12, 80, 1000]) {
      const p = moments(() => rng.poisson(mean), n);
      expect(Math.abs(p.mean - mean) / mean).toBeLessThan(0.03);
      expect(Math.abs(p.variance - mean) / mean).toBeLessThan(0.1);
    }
    expect(rng.poisson(0)).toBe(0);
  });

  it('computes log-gamma accurately', () => {
    expect(logGamma(1)).toBeCloseTo(0, 10);
    expect(logGamma(5)).toBeCloseTo(Math.log(24), 10);
    expect(logGamma(0.5)).toBeCloseTo(Math.log(Math.sqrt(Math.PI)), 10);
  });
});

describe('AliasTable', () => {
  it('picks items in proportion to their weights', () => {
    const table = new AliasTable(['a', 'b', 'c', 'd'], [1, 2, 3, 0]);
    const rng = new Rng(3);
    const counts: Record<string, number> = { a: 0, b: 0, c: 0, d: 0 };
    const n = 60_000;
    for (let i = 0; i < n; i++) {
      const item = table.pick(rng);
      counts[item] = (counts[item] ?? 0) + 1;
    }
    expect((counts.a ?? 0) / n).toBeCloseTo(1 / 6, 2);
    expect((counts.b ?? 0) / n).toBeCloseTo(2 / 6, 2);
    expect((counts.c ?? 0) / n).toBeCloseTo(3 / 6, 2);
    expect(counts.d).toBe(0);
  });

  it('rejects empty, mismatched and all-zero weights', () => {
    expect(() => new AliasTable([], [])).toThrow(RangeError);
    expect(() => new AliasTable(['a'], [1, 2])).toThrow(RangeError);
    expect(() => new AliasTable(['a'], [0])).toThrow(RangeError);
  });
});
