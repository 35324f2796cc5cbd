import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { invertSymmetricPositiveDefinite, NotPositiveDefiniteError } from './linalg.ts';

/** B Bᵀ + d I for a random B: symmetric positive definite. */
function randomSpd(n: number, rank: number, values: readonly number[], d: number): Float64Array {
  const a = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) {
      let s = 0;
      for (let t = 0; t < rank; t++)
        s += (values[(i * rank + t) % values.length] ?? 0) * (values[(j * rank + t) % values.length] ?? 0);
      a[i * n + j] = s + (i === j ? d : 0);
    }
  }
  return a;
}

function maxErrorOfProduct(a: Float64Array, inverse: Float64Array, n: number): number {
  let error = 0;
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) {
      let s = 0;
      for (let k = 0; k < n; k++) s += (a[i * n + k] ?? 0) * (inverse[k * n + j] ?? 0);
      error = Math.max(error, Math.abs(s - (i === j ? 1 : 0)));
    }
  }
  return error;
}

describe('invertSymmetricPositiveDefinite', () => {
  it('inverts a 2×2 matrix known by hand', () => {
    // [[4, 2], [2, 3]]⁻¹ = 1/8 · [[3, −2], [−2, 4]]
    const inverse = invertSymmetricPositiveDefinite(Float64Array.from([4, 2, 2, 3]), 2);
    expect([...inverse]).toEqual([3 / 8, -2 / 8, -2 / 8, 4 / 8].map((v) => expect.closeTo(v, 14)));
  });

  it('gives A·A⁻¹ = I and a symmetric inverse for every size around the blocking of four', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 23 }),
        fc.integer({ min: 1, max: 6 }),
        fc.array(fc.double({ min: -3, max: 3, noNaN: true }), { minLength: 1, maxLength: 50 }),
        fc.double({ min: 0.5, max: 50, noNaN: true }),
        (n, rank, values, d) => {
          const a = randomSpd(n, rank, values, d);
          const inverse = invertSymmetricPositiveDefinite(a.slice(), n);
          expect(maxErrorOfProduct(a, inverse, n)).toBeLessThan(1e-9);
          for (let i = 0; i < n; i++)
            for (let j = 0; j < i; j++) expect(inverse[i * n + j]).toBe(inverse[j * n + i]);
        },
      ),
      { numRuns: 60 },
    );
  });

  it('refuses a matrix that is not positive definite', () => {
    expect(() => invertSymmetricPositiveDefinite(Float64Array.from([1, 2, 2, 1]), 2)).toThrow(
      NotPositiveDefiniteError,
    );
    expect(() => invertSymmetricPositiveDefinite(new Float64Array(3), 2)).toThrow(RangeError);
  });
});
