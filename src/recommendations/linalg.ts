/**
 * The one piece of dense linear algebra the linear item model needs: the inverse of a symmetric
 * positive-definite matrix (n up to a few thousand), in place in a row-major Float64Array. Written
 * here because the packages on npm work on arrays of arrays, which is several times slower at this
 * size. Every step is a dot product of two contiguous rows; rows are processed four at a time so each
 * row streamed from memory serves four dot products (the matrix does not fit in cache).
 */

/** Thrown (as a plain Error, caught by the trainer) when the matrix is not positive definite. */
export class NotPositiveDefiniteError extends Error {}

function dot(a: Float64Array, ai: number, b: Float64Array, bi: number, length: number): number {
  let s0 = 0;
  let s1 = 0;
  let k = 0;
  for (; k + 1 < length; k += 2) {
    s0 += a[ai + k]! * b[bi + k]!;
    s1 += a[ai + k + 1]! * b[bi + k + 1]!;
  }
  if (k < length) s0 += a[ai + k]! * b[bi + k]!;
  return s0 + s1;
}

/**
 * Four dot products at once: rows r0..r3 of `a` (offsets) against one row of `b`, over `length`
 * entries starting at column `from` of each row. Returns them in `out`.
 */
function dot4(
  a: Float64Array,
  r0: number,
  r1: number,
  r2: number,
  r3: number,
  b: Float64Array,
  rb: number,
  length: number,
  out: Float64Array,
): void {
  let s0 = 0;
  let s1 = 0;
  let s2 = 0;
  let s3 = 0;
  for (let k = 0; k < length; k++) {
    const v = b[rb + k]!;
    s0 += a[r0 + k]! * v;
    s1 += a[r1 + k]! * v;
    s2 += a[r2 + k]! * v;
    s3 += a[r3 + k]! * v;
  }
  out[0] = s0;
  out[1] = s1;
  out[2] = s2;
  out[3] = s3;
}

/** Lower Cholesky factor in place (the upper triangle is zeroed): A = L Lᵀ. */
function cholesky(a: Float64Array, n: number): void {
  const sums = new Float64Array(4);
  let i = 0;
  for (; i < n; i += 4) {
    const rows = Math.min(4, n - i);
    // Columns before the block: four rows against each finished row j.
    if (rows === 4) {
      const r0 = i * n;
      for (let j = 0; j < i; j++) {
        const rj = j * n;
        dot4(a, r0, r0 + n, r0 + 2 * n, r0 + 3 * n, a, rj, j, sums);
        const d = a[rj + j]!;
        a[r0 + j] = (a[r0 + j]! - sums[0]!) / d;
        a[r0 + n + j] = (a[r0 + n + j]! - sums[1]!) / d;
        a[r0 + 2 * n + j] = (a[r0 + 2 * n + j]! - sums[2]!) / d;
        a[r0 + 3 * n + j] = (a[r0 + 3 * n + j]! - sums[3]!) / d;
      }
    } else {
      for (let r = i; r < i + rows; r++) {
        const ri = r * n;
        for (let j = 0; j < i; j++) {
          const rj = j * n;
          a[ri + j] = (a[ri + j]! - dot(a, ri, a, rj, j)) / a[rj + j]!;
        }
      }
    }
    // The block itself, row by row.
    for (let r = i; r < i + rows; r++) {
      const ri = r * n;
      for (let j = i; j <= r; j++) {
        const rj = j * n;
        const s = a[ri + j]! - dot(a, ri, a, rj, j);
        if (j === r) {
          if (!(s > 0)) throw new NotPositiveDefiniteError(`pivot ${r} is ${s}`);
          a[ri + r] = Math.sqrt(s);
        } else {
          a[ri + j] = s / a[rj + j]!;
        }
      }
    }
  }
  for (let r = 0; r < n; r++) a.fill(0, r * n + r + 1, (r + 1) * n);
}

/**
 * Inverts a symmetric positive-definite n×n matrix (row-major, both triangles filled) in place and
 * returns it. Cholesky A = L Lᵀ; M = L⁻ᵀ row by row (row j of M solves L x = e_j); A⁻¹ = M Mᵀ.
 * Throws NotPositiveDefiniteError.
 */
export function invertSymmetricPositiveDefinite(a: Float64Array, n: number): Float64Array {
  if (a.length !== n * n) throw new RangeError(`expected ${n * n} entries, got ${a.length}`);
  cholesky(a, n);
  // M (upper triangular, row-major): M[j][i] for i ≥ j is x_i of L x = e_j. Four rows of M advance
  // together, so each row of L read serves four of them.
  const m = new Float64Array(n * n);
  const sums = new Float64Array(4);
  for (let j0 = 0; j0 < n; j0 += 4) {
    const last = Math.min(j0 + 4, n);
    for (let j = j0; j < last; j++) {
      const rj = j * n;
      m[rj + j] = 1 / a[rj + j]!;
      for (let i = j + 1; i < last; i++) m[rj + i] = -dot(a, i * n + j, m, rj + j, i - j) / a[i * n + i]!;
    }
    if (last - j0 === 4) {
      const r0 = j0 * n + j0;
      for (let i = last; i < n; i++) {
        const ri = i * n;
        dot4(m, r0, r0 + n, r0 + 2 * n, r0 + 3 * n, a, ri + j0, i - j0, sums);
        const d = a[ri + i]!;
        m[r0 - j0 + i] = -sums[0]! / d;
        m[r0 + n - j0 + i] = -sums[1]! / d;
        m[r0 + 2 * n - j0 + i] = -sums[2]! / d;
        m[r0 + 3 * n - j0 + i] = -sums[3]! / d;
      }
    } else {
      for (let j = j0; j < last; j++) {
        const rj = j * n;
        for (let i = last; i < n; i++) m[rj + i] = -dot(a, i * n + j, m, rj + j, i - j) / a[i * n + i]!;
      }
    }
  }
  // A⁻¹[i][k] = Σ_{t ≥ max(i,k)} M[i][t] M[k][t]; the upper triangle, four rows i at a time, then mirrored.
  for (let i0 = 0; i0 < n; i0 += 4) {
    const last = Math.min(i0 + 4, n);
    for (let i = i0; i < last; i++) {
      for (let k = i; k < last; k++) a[i * n + k] = dot(m, i * n + k, m, k * n + k, n - k);
    }
    if (last - i0 === 4) {
      const r0 = i0 * n;
      for (let k = last; k < n; k++) {
        dot4(m, r0 + k, r0 + n + k, r0 + 2 * n + k, r0 + 3 * n + k, m, k * n + k, n - k, sums);
        a[r0 + k] = sums[0]!;
        a[r0 + n + k] = sums[1]!;
        a[r0 + 2 * n + k] = sums[2]!;
        a[r0 + 3 * n + k] = sums[3]!;
      }
    } else {
      for (let i = i0; i < last; i++) {
        for (let k = last; k < n; k++) a[i * n + k] = dot(m, i * n + k, m, k * n + k, n - k);
      }
    }
  }
  for (let i = 0; i < n; i++) for (let k = i + 1; k < n; k++) a[k * n + i] = a[i * n + k]!;
  return a;
}
