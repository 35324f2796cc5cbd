import { invalid } from '../shared/errors.ts';
import { assertPurchaseHistory } from './bgnbd.ts';
import { fitLogParameters, numericalGradient } from './optimize.ts';
import { hyp2f1, logGamma } from './special.ts';
import type { PurchaseHistory } from './summary.ts';

/**
 * The Pareto/NBD model (Schmittlein, Morrison & Colombo 1987): purchases at rate λ ~ Gamma(r, α)
 * during an exponential lifetime with death rate μ ~ Gamma(s, β). Its likelihood needs 2F1, in the
 * form of Fader & Hardie's note "A note on deriving the Pareto/NBD model and related expressions"
 * (2005). Slower to fit than BG/NBD (a numerical gradient; two 2F1 per customer and evaluation), so it
 * is offered beside it, not instead of it.
 */

/** Pareto/NBD parameters: r, α of the purchase rate; s, β of the death rate. */
export interface ParetoNbdParams {
  r: number;
  alpha: number;
  s: number;
  beta: number;
}

/** A fitted Pareto/NBD model. */
export interface ParetoNbdFit {
  params: ParetoNbdParams;
  standardErrors: ParetoNbdParams;
  logLikelihood: number;
  customers: number;
  converged: boolean;
  iterations: number;
  startsAgreeing: number;
  starts: number;
  /** The maximum lies at the edge of the parameter space (see the optimiser); no standard errors then. */
  atBoundary: boolean;
}

/**
 * log A0 of the note, eqs. (19)–(20): the integral over the death time between t_x and T, as a
 * difference of two 2F1 terms; −Infinity when t_x = T.
 */
function logA0(params: ParetoNbdParams, x: number, tx: number, T: number): number {
  const { r, alpha, s, beta } = params;
  const k = r + s + x;
  const [larger, b, difference] = alpha >= beta ? [alpha, s + 1, alpha - beta] : [beta, r + x, beta - alpha];
  const l1 = Math.log(hyp2f1(k, b, k + 1, difference / (larger + tx))) - k * Math.log(larger + tx);
  const l2 = Math.log(hyp2f1(k, b, k + 1, difference / (larger + T))) - k * Math.log(larger + T);
  if (!(l1 > l2)) return Number.NEGATIVE_INFINITY;
  return l1 + Math.log(-Math.expm1(l2 - l1));
}

/**
 * One customer's log-likelihood: log Γ(r+x) α^r β^s / Γ(r) + log[1/((α+T)^(r+x) (β+T)^s) + s/(r+s+x) A0].
 */
export function computeParetoNbdLogLikelihood(params: ParetoNbdParams, customer: PurchaseHistory): number {
  const { r, alpha, s, beta } = params;
  const { frequency: x, recency: tx, T } = customer;
  const common = logGamma(r + x) - logGamma(r) + r * Math.log(alpha) + s * Math.log(beta);
  const aliveTerm = -(r + x) * Math.log(alpha + T) - s * Math.log(beta + T);
  const deadTerm = Math.log(s / (r + s + x)) + logA0(params, x, tx, T);
  const m = Math.max(aliveTerm, deadTerm);
  return common + m + Math.log(Math.exp(aliveTerm - m) + Math.exp(deadTerm - m));
}

/** Fits Pareto/NBD by maximum likelihood (BFGS with a central-difference gradient on log-parameters, three starts). */
export function fitParetoNbd(customers: readonly PurchaseHistory[]): ParetoNbdFit {
  if (customers.length === 0) throw invalid('FIT_NO_DATA', 'Pareto/NBD needs at least one customer to fit.');
  const groups = new Map<string, { history: PurchaseHistory; weight: number }>();
  let sumX = 0;
  let sumT = 0;
  for (const c of customers) {
    assertPurchaseHistory(c);
    sumX += c.frequency;
    sumT += c.T;
    const key = `${c.frequency}|${c.recency}|${c.T}`;
    const group = groups.get(key);
    if (group) group.weight++;
    else groups.set(key, { history: c, weight: 1 });
  }
  const rows = [...groups.values()];
  const n = customers.length;
  const negativeMean = (u: readonly number[]) => {
    if (u.some((v) => !(Math.abs(v) < 40))) return Number.POSITIVE_INFINITY;
    const [r, alpha, s, beta] = u.map(Math.exp) as [number, number, number, number];
    let ll = 0;
    for (const { history, weight } of rows) {
      ll += weight * computeParetoNbdLogLikelihood({ r, alpha, s, beta }, history);
    }
    return Number.isFinite(ll) ? -ll / n : Number.POSITIVE_INFINITY;
  };
  const meanT = Math.max(sumT / n, 1e-3);
  const alphaFor = (r: number) => (r * meanT) / Math.max(sumX / n, 0.05);
  const fit = fitLogParameters({
    negativeMean,
    gradient: numericalGradient(negativeMean),
    // Non-integer s keeps the starts away from 2F1's degenerate case (c − a − b an integer), where it is slow.
    starts: [
      [1, alphaFor(1), 0.75, meanT],
      [0.5, alphaFor(0.5), 0.45, meanT],
      [2, alphaFor(2), 1.6, 4 * meanT],
    ],
    n,
  });
  const [r, alpha, s, beta] = fit.estimates as [number, number, number, number];
  const [seR, seAlpha, seS, seBeta] = fit.standardErrors as [number, number, number, number];
  return {
    params: { r, alpha, s, beta },
    standardErrors: { r: seR, alpha: seAlpha, s: seS, beta: seBeta },
    logLikelihood: fit.logLikelihood,
    customers: n,
    converged: fit.converged,
    iterations: fit.iterations,
    startsAgreeing: fit.startsAgreeing,
    starts: fit.starts,
    atBoundary: fit.atBoundary,
  };
}

/** P(alive | x, t_x, T) = 1 / (1 + s/(r+s+x) · (α+T)^(r+x) (β+T)^s · A0), eq. (22) of the note. */
export function computeParetoNbdProbabilityAlive(params: ParetoNbdParams, customer: PurchaseHistory): number {
  const { r, alpha, s, beta } = params;
  const { frequency: x, recency: tx, T } = customer;
  const logRatio =
    Math.log(s / (r + s + x)) +
    (r + x) * Math.log(alpha + T) +
    s * Math.log(beta + T) +
    logA0(params, x, tx, T);
  return logRatio > 0 ? Math.exp(-logRatio) / (1 + Math.exp(-logRatio)) : 1 / (1 + Math.exp(logRatio));
}

/**
 * E[Y(t) | x, t_x, T] = (r+x)(β+T) / ((α+T)(s−1)) · [1 − ((β+T)/(β+T+t))^(s−1)] · P(alive), eq. (24);
 * at s = 1 the bracket's limit (β+T)·log((β+T+t)/(β+T)) replaces (β+T)/(s−1) · [ … ].
 */
export function computeParetoNbdConditionalExpectedPurchases(
  params: ParetoNbdParams,
  customer: PurchaseHistory,
  t: number,
): number {
  if (t <= 0) return 0;
  const { r, alpha, s, beta } = params;
  const { frequency: x, T } = customer;
  const lifetimePart =
    Math.abs(s - 1) < 1e-9
      ? (beta + T) * Math.log((beta + T + t) / (beta + T))
      : ((beta + T) / (s - 1)) * -Math.expm1((s - 1) * Math.log((beta + T) / (beta + T + t)));
  return ((r + x) / (alpha + T)) * lifetimePart * computeParetoNbdProbabilityAlive(params, customer);
}
