/**
 * Special functions for the customer-value models: log-gamma, digamma, log-beta and the Gauss
 * hypergeometric function 2F1 on the real line. Accuracy goals: absolute error near 1e-14 for
 * log-gamma and digamma (what a sum of log-likelihood terms needs), relative error near 1e-12 for 2F1
 * up to z = 0.9999 (about 1e-7 closer to its singular point z = 1).
 */

const HALF_LOG_TWO_PI = 0.5 * Math.log(2 * Math.PI);

/** Below this, log-gamma and digamma are shifted up by their recurrences before the asymptotic series. */
const ASYMPTOTIC_FROM = 10;

/**
 * Natural log of |Γ(x)|. Stirling's series for x ≥ 10 (error below 1e-17 there), the recurrence
 * Γ(x) = Γ(x + n) / (x (x + 1) … (x + n − 1)) below, and the reflection formula for negative x.
 * Poles (0, −1, −2, …) give +Infinity.
 */
export function logGamma(x: number): number {
  if (Number.isNaN(x)) return Number.NaN;
  if (x === Number.POSITIVE_INFINITY) return Number.POSITIVE_INFINITY;
  if (x <= 0) {
    if (Number.isInteger(x)) return Number.POSITIVE_INFINITY;
    // Reflection: Γ(x) Γ(1 − x) = π / sin(πx).
    return Math.log(Math.PI / Math.abs(sinPi(x))) - logGamma(1 - x);
  }
  if (x < ASYMPTOTIC_FROM) {
    // The product stays far from overflow: at most 10 factors each below 10.
    let product = 1;
    let y = x;
    while (y < ASYMPTOTIC_FROM) {
      product *= y;
      y += 1;
    }
    return stirling(y) - Math.log(product);
  }
  return stirling(x);
}

/** Stirling's series for log Γ(x), x ≥ 10, with Bernoulli-number terms through x^−13. */
function stirling(x: number): number {
  const inv = 1 / x;
  const inv2 = inv * inv;
  const series =
    inv *
    (1 / 12 +
      inv2 *
        (-1 / 360 +
          inv2 * (1 / 1260 + inv2 * (-1 / 1680 + inv2 * (1 / 1188 + inv2 * (-691 / 360360 + inv2 / 156))))));
  return (x - 0.5) * Math.log(x) - x + HALF_LOG_TWO_PI + series;
}

/** sin(πx) with exact zeros at the integers and no loss of accuracy for large |x|. */
function sinPi(x: number): number {
  const r = x - 2 * Math.floor(x / 2);
  if (r === 0 || r === 1) return 0;
  if (r === 0.5) return 1;
  if (r === 1.5) return -1;
  return Math.sin(Math.PI * r);
}

/** The sign of Γ(x): +1 for positive x, alternating between the poles for negative x; NaN at poles. */
export function gammaSign(x: number): number {
  if (x > 0) return 1;
  if (Number.isInteger(x) || Number.isNaN(x)) return Number.NaN;
  return Math.floor(x) % 2 === 0 ? 1 : -1;
}

/** Γ(x) itself, through exp(log Γ); overflows to Infinity above x ≈ 171.6. */
export function gamma(x: number): number {
  return gammaSign(x) * Math.exp(logGamma(x));
}

/**
 * The digamma function ψ(x) = d/dx log Γ(x): the recurrence ψ(x) = ψ(x + 1) − 1/x up to x ≥ 10, then
 * the asymptotic series; reflection for negative x. Poles give NaN.
 */
export function digamma(x: number): number {
  if (Number.isNaN(x)) return Number.NaN;
  if (x <= 0) {
    if (Number.isInteger(x)) return Number.NaN;
    // ψ(1 − x) − ψ(x) = π cot(πx).
    return digamma(1 - x) - Math.PI / Math.tan(Math.PI * (x - Math.floor(x)));
  }
  let shift = 0;
  let y = x;
  while (y < ASYMPTOTIC_FROM) {
    shift -= 1 / y;
    y += 1;
  }
  const inv2 = 1 / (y * y);
  const series =
    inv2 *
    (1 / 12 -
      inv2 * (1 / 120 - inv2 * (1 / 252 - inv2 * (1 / 240 - inv2 * (1 / 132 - inv2 * (691 / 32760))))));
  return shift + Math.log(y) - 0.5 / y - series;
}

/** Natural log of the beta function B(a, b) = Γ(a) Γ(b) / Γ(a + b), for a, b > 0. */
export function logBeta(a: number, b: number): number {
  return logGamma(a) + logGamma(b) - logGamma(a + b);
}

/** Relative size of the last term at which a hypergeometric series is taken as converged. */
const SERIES_TOLERANCE = 1e-16;
/** Enough terms for the direct series at z ≤ 0.9999 (about 4 × 10^5) with room for large parameters. */
const SERIES_MAX_TERMS = 4_000_000;
/** Up to here 2F1 is always summed directly. */
const TRANSFORM_FROM = 0.9;
/** Farther than this from an integer, c − a − b is safe for the 1 − z transformation. */
const CLEARLY_NON_INTEGER = 0.05;
/**
 * Near the degenerate case (c − a − b close to an integer) the series is summed directly up to here,
 * even where it converges slowly (a few milliseconds at 0.9999): for positive parameters its terms
 * share one sign, so it is accurate to a few ulps, which the perturbed transformation is not.
 */
const DIRECT_SERIES_UP_TO = 0.9999;
/** Distance from an integer under which c − a − b is treated as an integer (the degenerate case). */
const NEAR_INTEGER = 1e-7;
/** Half-width of the symmetric perturbation that sidesteps the degenerate case. */
const PERTURBATION = 2e-5;

function isNonPositiveInteger(x: number): boolean {
  return x <= 0 && Number.isInteger(x);
}

/**
 * The Gauss hypergeometric series Σ (a)_k (b)_k / ((c)_k k!) z^k, summed directly. Meant for |z| < 1;
 * it stops early when a or b is a non-positive integer (the series is then a polynomial).
 */
export function hyp2f1Series(a: number, b: number, c: number, z: number): number {
  let term = 1;
  let sum = 1;
  for (let k = 0; k < SERIES_MAX_TERMS; k++) {
    term *= (((a + k) * (b + k)) / ((c + k) * (k + 1))) * z;
    sum += term;
    if (term === 0) return sum;
    // Converged once the terms are negligible and shrinking (they may grow before they shrink).
    if (Math.abs(term) <= SERIES_TOLERANCE * Math.abs(sum)) {
      const ratio = Math.abs((((a + k + 1) * (b + k + 1)) / ((c + k + 1) * (k + 2))) * z);
      if (ratio < 1) return sum;
    }
    if (!Number.isFinite(sum)) return sum;
  }
  return Number.NaN;
}

/**
 * The Gauss hypergeometric function 2F1(a, b; c; z) for real arguments and z ≤ 1 (the principal
 * branch; NaN above 1 and when c is a non-positive integer). Strategy by region: the series for
 * 0 ≤ z ≤ 0.9; Pfaff's transformation z → z/(z − 1) for z < 0, which maps [−1, 0) into (0, 0.5] and
 * (−∞, −1) into (0.5, 1); above 0.9 the 1 − z transformation (Abramowitz & Stegun 15.3.6) when
 * c − a − b is clearly not an integer and its two terms do not cancel, else the series up to 0.9999,
 * and beyond that the transformation with a symmetric perturbation of c (its gamma factors have poles
 * at integer c − a − b but their sum is analytic in c).
 */
export function hyp2f1(a: number, b: number, c: number, z: number): number {
  if ([a, b, c, z].some(Number.isNaN)) return Number.NaN;
  if (a === 0 || b === 0 || z === 0) return 1;
  if (isNonPositiveInteger(c)) return Number.NaN;
  if (z > 1) return Number.NaN;
  if (isNonPositiveInteger(a) || isNonPositiveInteger(b)) {
    if (z >= -1) return hyp2f1Series(a, b, c, z);
  }
  if (z === 1) {
    const s = c - a - b;
    if (s <= 0) return Number.POSITIVE_INFINITY;
    return gammaRatio([c, s], [c - a, c - b]);
  }
  if (z < 0) {
    // Pfaff: 2F1(a, b; c; z) = (1 − z)^(−a) 2F1(a, c − b; c; z / (z − 1)). 2F1 is symmetric in a and b;
    // factoring out the one smaller in size keeps both the power and the new series' terms moderate.
    const [p, q] = Math.abs(a) <= Math.abs(b) ? [a, b] : [b, a];
    const w = z / (z - 1);
    return (1 - z) ** -p * hyp2f1Positive(p, c - q, c, w);
  }
  return hyp2f1Positive(a, b, c, z);
}

/** 2F1 for 0 < z < 1. */
function hyp2f1Positive(a: number, b: number, c: number, z: number): number {
  if (z <= TRANSFORM_FROM || isNonPositiveInteger(a) || isNonPositiveInteger(b)) {
    return hyp2f1Series(a, b, c, z);
  }
  const s = c - a - b;
  const offInteger = Math.abs(s - Math.round(s));
  if (offInteger > CLEARLY_NON_INTEGER) {
    // Away from the degenerate case the transformation is accurate unless its two terms cancel.
    const value = oneMinusZ(a, b, c, z, 1e-3);
    if (Number.isFinite(value)) return value;
  }
  if (z <= DIRECT_SERIES_UP_TO) return hyp2f1Series(a, b, c, z);
  const viaOneMinusZ =
    offInteger < NEAR_INTEGER
      ? 0.5 * (oneMinusZ(a, b, c + PERTURBATION, z, 1e-8) + oneMinusZ(a, b, c - PERTURBATION, z, 1e-8))
      : oneMinusZ(a, b, c, z, 1e-8);
  return Number.isFinite(viaOneMinusZ) ? viaOneMinusZ : hyp2f1Series(a, b, c, z);
}

/**
 * The 1 − z transformation for non-integer c − a − b:
 * 2F1(a,b;c;z) = Γ(c)Γ(c−a−b)/(Γ(c−a)Γ(c−b)) 2F1(a, b; a+b−c+1; 1−z)
 *              + (1−z)^(c−a−b) Γ(c)Γ(a+b−c)/(Γ(a)Γ(b)) 2F1(c−a, c−b; c−a−b+1; 1−z).
 * Returns NaN when the two terms cancel by more than the factor `cancellation` (digits lost).
 */
function oneMinusZ(a: number, b: number, c: number, z: number, cancellation: number): number {
  const s = c - a - b;
  const y = 1 - z;
  const first = gammaRatio([c, s], [c - a, c - b]);
  const second = gammaRatio([c, -s], [a, b]);
  const t1 = first === 0 ? 0 : first * hyp2f1Series(a, b, 1 - s, y);
  const t2 = second === 0 ? 0 : second * y ** s * hyp2f1Series(c - a, c - b, s + 1, y);
  const sum = t1 + t2;
  if (!(Math.abs(sum) >= cancellation * Math.max(Math.abs(t1), Math.abs(t2)))) return Number.NaN;
  return sum;
}

/** Π Γ(numerator) / Π Γ(denominator), signed, computed in logs; zero when a denominator is at a pole. */
function gammaRatio(numerator: readonly number[], denominator: readonly number[]): number {
  let log = 0;
  let sign = 1;
  for (const x of denominator) {
    if (isNonPositiveInteger(x)) return 0;
    log -= logGamma(x);
    sign *= gammaSign(x);
  }
  for (const x of numerator) {
    if (isNonPositiveInteger(x)) return Number.NaN;
    log += logGamma(x);
    sign *= gammaSign(x);
  }
  return sign * Math.exp(log);
}
