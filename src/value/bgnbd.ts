import { invalid } from '../shared/errors.ts';
import { fitLogParameters, type LogParameterFit, singlePassObjective } from './optimize.ts';
import { digamma, hyp2f1, logBeta, logGamma } from './special.ts';
import type { PurchaseHistory } from './summary.ts';

/**
 * The BG/NBD model of the purchase process (Fader, Hardie & Lee 2005, "Counting your customers the
 * easy way"): while alive, a customer buys as a Poisson process with rate λ ~ Gamma(r, α); after each
 * repeat purchase the customer drops out with probability p ~ Beta(a, b). Durations are in the periods
 * of the summary (α is in those periods too).
 */

/** BG/NBD parameters: r, α of the purchase rate; a, b of the dropout probability. */
export interface BgNbdParams {
  r: number;
  alpha: number;
  a: number;
  b: number;
}

/** A fitted BG/NBD model. */
export interface BgNbdFit {
  params: BgNbdParams;
  standardErrors: BgNbdParams;
  logLikelihood: number;
  customers: number;
  converged: boolean;
  iterations: number;
  startsAgreeing: number;
  starts: number;
  /** The maximum lies at the edge of the parameter space (see the optimiser); no standard errors then. */
  atBoundary: boolean;
}

/** Checks one purchase history: whole frequency ≥ 0, 0 ≤ recency ≤ T, finite figures. */
export function assertPurchaseHistory(customer: PurchaseHistory): void {
  const { frequency: x, recency: tx, T } = customer;
  const ok =
    Number.isInteger(x) &&
    x >= 0 &&
    Number.isFinite(tx) &&
    Number.isFinite(T) &&
    tx >= 0 &&
    tx <= T &&
    (x > 0 || tx === 0);
  if (!ok) {
    throw invalid(
      'PURCHASE_HISTORY_INVALID',
      'A purchase history needs a whole frequency ≥ 0 and 0 ≤ recency ≤ T (recency 0 without repeats).',
      { frequency: x, recency: tx, T },
    );
  }
}

/**
 * One customer's log-likelihood, eq. (6) of the paper:
 * L = B(a, b+x)/B(a, b) · Γ(r+x) α^r / (Γ(r) (α+T)^(r+x))
 *   + [x > 0] B(a+1, b+x−1)/B(a, b) · Γ(r+x) α^r / (Γ(r) (α+t_x)^(r+x)).
 */
export function computeBgNbdLogLikelihood(params: BgNbdParams, customer: PurchaseHistory): number {
  const { r, alpha, a, b } = params;
  const { frequency: x, recency: tx, T } = customer;
  const common = logGamma(r + x) - logGamma(r) + r * Math.log(alpha);
  const alive = logBeta(a, b + x) - logBeta(a, b) - (r + x) * Math.log(alpha + T);
  if (x === 0) return common + alive;
  const dropped = logBeta(a + 1, b + x - 1) - logBeta(a, b) - (r + x) * Math.log(alpha + tx);
  return common + logSumExp(alive, dropped);
}

function logSumExp(u: number, v: number): number {
  const m = Math.max(u, v);
  if (m === Number.NEGATIVE_INFINITY) return m;
  return m + Math.log(Math.exp(u - m) + Math.exp(v - m));
}

/**
 * Purchase histories grouped for fast likelihoods: identical (x, t_x, T) rows merge with a weight, and
 * the terms that depend on x alone are computed once per distinct x.
 */
interface GroupedHistories {
  x: Float64Array;
  tx: Float64Array;
  T: Float64Array;
  weight: Float64Array;
  /** Index into `distinctX` of each row. */
  xIndex: Int32Array;
  distinctX: number[];
  weightByX: number[];
  total: number;
}

function groupHistories(customers: readonly PurchaseHistory[]): GroupedHistories {
  const rows = new Map<string, { x: number; tx: number; T: number; weight: number }>();
  for (const c of customers) {
    assertPurchaseHistory(c);
    const key = `${c.frequency}|${c.recency}|${c.T}`;
    const row = rows.get(key);
    if (row) row.weight++;
    else rows.set(key, { x: c.frequency, tx: c.recency, T: c.T, weight: 1 });
  }
  const n = rows.size;
  const grouped: GroupedHistories = {
    x: new Float64Array(n),
    tx: new Float64Array(n),
    T: new Float64Array(n),
    weight: new Float64Array(n),
    xIndex: new Int32Array(n),
    distinctX: [],
    weightByX: [],
    total: customers.length,
  };
  const indexOfX = new Map<number, number>();
  let i = 0;
  for (const row of rows.values()) {
    let k = indexOfX.get(row.x);
    if (k === undefined) {
      k = grouped.distinctX.length;
      indexOfX.set(row.x, k);
      grouped.distinctX.push(row.x);
      grouped.weightByX.push(0);
    }
    grouped.weightByX[k] = (grouped.weightByX[k] ?? 0) + row.weight;
    grouped.x[i] = row.x;
    grouped.tx[i] = row.tx;
    grouped.T[i] = row.T;
    grouped.weight[i] = row.weight;
    grouped.xIndex[i] = k;
    i++;
  }
  return grouped;
}

/** Log-parameters beyond this are treated as outside the model (exp overflows or underflows). */
const LOG_PARAMETER_LIMIT = 40;

/**
 * −LL/n and its gradient in the log-parameters u = log(r, α, a, b), evaluated together (the
 * optimiser asks for both at the same point) and cached for the last point.
 */
function bgnbdObjective(data: GroupedHistories): {
  value: (u: readonly number[]) => number;
  gradient: (u: readonly number[]) => number[];
} {
  const dX = data.distinctX.length;
  const constA4 = new Float64Array(dX);
  const compute = (u: readonly number[]) => {
    const [r, alpha, a, b] = u.map(Math.exp) as [number, number, number, number];
    const n = data.total;
    let ll = n * r * Math.log(alpha);
    let gr = n * Math.log(alpha);
    let gAlpha = (n * r) / alpha;
    let ga = 0;
    let gb = 0;
    const lgR = logGamma(r);
    const psiR = digamma(r);
    const lgAb = logGamma(a + b);
    const psiAb = digamma(a + b);
    const lgB = logGamma(b);
    const psiB = digamma(b);
    const logA = Math.log(a);
    for (let k = 0; k < dX; k++) {
      const x = data.distinctX[k] ?? 0;
      const w = data.weightByX[k] ?? 0;
      if (x === 0) continue;
      ll += w * (logGamma(r + x) - lgR + lgAb + logGamma(b + x) - lgB - logGamma(a + b + x));
      const psiAbx = digamma(a + b + x);
      gr += w * (digamma(r + x) - psiR);
      ga += w * (psiAb - psiAbx);
      gb += w * (psiAb + digamma(b + x) - psiB - psiAbx);
      constA4[k] = logA - Math.log(b + x - 1);
    }
    const { x: xs, tx: txs, T: Ts, weight, xIndex } = data;
    for (let i = 0; i < xs.length; i++) {
      const x = xs[i] as number;
      const w = weight[i] as number;
      const rx = r + x;
      const alphaT = alpha + (Ts[i] as number);
      const logAlphaT = Math.log(alphaT);
      const a3 = -rx * logAlphaT;
      if (x === 0) {
        ll += w * a3;
        gr -= w * logAlphaT;
        gAlpha -= (w * rx) / alphaT;
        continue;
      }
      const alphaTx = alpha + (txs[i] as number);
      const logAlphaTx = Math.log(alphaTx);
      const a4 = (constA4[xIndex[i] as number] as number) - rx * logAlphaTx;
      // log(e^a3 + e^a4) with the larger exponent factored out; p4 is the "dropped out" share.
      let p4: number;
      if (a4 > a3) {
        const e = Math.exp(a3 - a4);
        ll += w * (a4 + Math.log1p(e));
        p4 = 1 / (1 + e);
      } else {
        const e = Math.exp(a4 - a3);
        ll += w * (a3 + Math.log1p(e));
        p4 = e / (1 + e);
      }
      const p3 = 1 - p4;
      gr -= w * (p3 * logAlphaT + p4 * logAlphaTx);
      gAlpha -= w * rx * (p3 / alphaT + p4 / alphaTx);
      ga += (w * p4) / a;
      gb -= (w * p4) / (b + x - 1);
    }
    return {
      value: Number.isFinite(ll) ? -ll / n : Number.POSITIVE_INFINITY,
      gradient: [(-r * gr) / n, (-alpha * gAlpha) / n, (-a * ga) / n, (-b * gb) / n],
    };
  };
  return singlePassObjective(compute, LOG_PARAMETER_LIMIT);
}

/** Total log-likelihood of many customers (the fast grouped evaluation the fit uses). */
export function computeBgNbdTotalLogLikelihood(
  params: BgNbdParams,
  customers: readonly PurchaseHistory[],
): number {
  const data = groupHistories(customers);
  const u = [params.r, params.alpha, params.a, params.b].map(Math.log);
  return -bgnbdObjective(data).value(u) * data.total;
}

/** Starting points spread over the plausible region, scaled to the data's time unit. */
function bgnbdStarts(customers: readonly PurchaseHistory[]): number[][] {
  let sumX = 0;
  let sumT = 0;
  for (const c of customers) {
    sumX += c.frequency;
    sumT += c.T;
  }
  const meanX = sumX / customers.length;
  const meanT = Math.max(sumT / customers.length, 1e-3);
  // The mean purchase rate r/α is about x̄/T̄ among customers still buying.
  const alphaFor = (r: number) => (r * meanT) / Math.max(meanX, 0.05);
  return [
    [1, alphaFor(1), 1, 1],
    [0.5, alphaFor(0.5), 0.5, 3],
    [2, alphaFor(2), 2, 10],
  ];
}

/**
 * Fits BG/NBD by maximum likelihood: BFGS on log-parameters with the analytic gradient, from three
 * starts; standard errors from the Hessian. Throws FIT_NO_DATA without customers.
 */
export function fitBgNbd(customers: readonly PurchaseHistory[]): BgNbdFit {
  if (customers.length === 0) {
    throw invalid('FIT_NO_DATA', 'BG/NBD needs at least one customer to fit.');
  }
  const data = groupHistories(customers);
  const objective = bgnbdObjective(data);
  const fit: LogParameterFit = fitLogParameters({
    negativeMean: objective.value,
    gradient: objective.gradient,
    starts: bgnbdStarts(customers),
    n: data.total,
  });
  const [r, alpha, a, b] = fit.estimates as [number, number, number, number];
  const [seR, seAlpha, seA, seB] = fit.standardErrors as [number, number, number, number];
  return {
    params: { r, alpha, a, b },
    standardErrors: { r: seR, alpha: seAlpha, a: seA, b: seB },
    logLikelihood: fit.logLikelihood,
    customers: data.total,
    converged: fit.converged,
    iterations: fit.iterations,
    startsAgreeing: fit.startsAgreeing,
    starts: fit.starts,
    atBoundary: fit.atBoundary,
  };
}

/**
 * P(alive | x, t_x, T), eq. (13) of the note "Computing P(alive) using the BG/NBD model":
 * 1 / (1 + [x > 0] a/(b+x−1) · ((α+T)/(α+t_x))^(r+x)). Always 1 without a repeat purchase, since
 * dropout happens only after a repeat.
 */
export function computeBgNbdProbabilityAlive(params: BgNbdParams, customer: PurchaseHistory): number {
  const { r, alpha, a, b } = params;
  const { frequency: x, recency: tx, T } = customer;
  if (x === 0) return 1;
  const logOdds = Math.log(a) - Math.log(b + x - 1) + (r + x) * (Math.log(alpha + T) - Math.log(alpha + tx));
  return logOdds > 0 ? Math.exp(-logOdds) / (1 + Math.exp(-logOdds)) : 1 / (1 + Math.exp(logOdds));
}

/**
 * (1 − 2F1(r+x, a−1; a+b+x−1; −t/(α+T))) / (a − 1): the hypergeometric part of eqs. (9) and (10)
 * after Pfaff's transformation, which keeps it between 0 and t-proportional bounds for every x.
 * At a = 1 the quotient is 0/0; its limit is taken as the mean of two nearby values.
 */
function expectedPurchasesCore(params: BgNbdParams, x: number, T: number, t: number): number {
  const { r, alpha, a, b } = params;
  const core = (aa: number) => (1 - hyp2f1(r + x, aa - 1, aa + b + x - 1, -t / (alpha + T))) / (aa - 1);
  if (Math.abs(a - 1) < 1e-6) return 0.5 * (core(1 + 1e-6) + core(1 - 1e-6));
  return core(a);
}

/** E[X(t)]: expected purchases in (0, t] of a customer who has just made a first purchase, eq. (9). */
export function computeBgNbdExpectedPurchases(params: BgNbdParams, t: number): number {
  if (t <= 0) return 0;
  return (params.a + params.b - 1) * expectedPurchasesCore(params, 0, 0, t);
}

/**
 * E[Y(t) | x, t_x, T]: expected purchases in the next t periods after T, eq. (10):
 * (a+b+x−1)/(a−1) · [1 − ((α+T)/(α+T+t))^(r+x) 2F1(r+x, b+x; a+b+x−1; t/(α+T+t))]
 *   / (1 + [x > 0] a/(b+x−1) · ((α+T)/(α+t_x))^(r+x)).
 */
export function computeBgNbdConditionalExpectedPurchases(
  params: BgNbdParams,
  customer: PurchaseHistory,
  t: number,
): number {
  if (t <= 0) return 0;
  const { a, b } = params;
  const { frequency: x, T } = customer;
  const alive = computeBgNbdProbabilityAlive(params, customer);
  return (a + b + x - 1) * expectedPurchasesCore(params, x, T, t) * alive;
}
