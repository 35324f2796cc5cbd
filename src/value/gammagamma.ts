import { invalid } from '../shared/errors.ts';
import { fitLogParameters, singlePassObjective } from './optimize.ts';
import { digamma, logGamma } from './special.ts';

/**
 * The Gamma-Gamma model of spend per transaction (Fader & Hardie, "The Gamma-Gamma model of monetary
 * value", 2013, after Colombo & Jiang 1999): a customer's transaction values are Gamma(p, ν) with
 * ν ~ Gamma(q, γ) across customers, independent of the purchase process. It is fitted on customers with
 * at least one repeat transaction, from the number of repeats x and their mean value m̄.
 */

/** Gamma-Gamma parameters: p the shape of transaction values, q and γ of their scale across customers. */
export interface GammaGammaParams {
  p: number;
  q: number;
  gamma: number;
}

/** One customer's input to the spend model. */
export interface SpendHistory {
  /** Repeat transactions. */
  frequency: number;
  /** Their mean value. */
  monetaryValue: number;
}

/** A fitted Gamma-Gamma model. */
export interface GammaGammaFit {
  params: GammaGammaParams;
  standardErrors: GammaGammaParams;
  logLikelihood: number;
  /** Customers fitted (those with at least one repeat and a positive mean value). */
  customers: number;
  converged: boolean;
  iterations: number;
  startsAgreeing: number;
  starts: number;
  /** The maximum lies at the edge of the parameter space (see the optimiser); no standard errors then. */
  atBoundary: boolean;
}

/** Whether a customer enters the spend model: at least one repeat and a positive mean value. */
export function isSpendModelled(customer: SpendHistory): boolean {
  return customer.frequency >= 1 && customer.monetaryValue > 0 && Number.isFinite(customer.monetaryValue);
}

/**
 * One customer's log-density of m̄ given x:
 * log[Γ(px+q) / (Γ(px) Γ(q)) · γ^q m̄^(px−1) x^(px) / (γ + m̄x)^(px+q)].
 */
export function computeGammaGammaLogLikelihood(params: GammaGammaParams, customer: SpendHistory): number {
  const { p, q, gamma } = params;
  const { frequency: x, monetaryValue: m } = customer;
  const px = p * x;
  return (
    logGamma(px + q) -
    logGamma(px) -
    logGamma(q) +
    q * Math.log(gamma) +
    (px - 1) * Math.log(m) +
    px * Math.log(x) -
    (px + q) * Math.log(gamma + m * x)
  );
}

interface GroupedSpend {
  x: Float64Array;
  logM: Float64Array;
  m: Float64Array;
  xIndex: Int32Array;
  distinctX: number[];
  weightByX: number[];
  total: number;
}

function groupSpend(customers: readonly SpendHistory[]): GroupedSpend {
  const used = customers.filter(isSpendModelled);
  const n = used.length;
  const grouped: GroupedSpend = {
    x: new Float64Array(n),
    logM: new Float64Array(n),
    m: new Float64Array(n),
    xIndex: new Int32Array(n),
    distinctX: [],
    weightByX: [],
    total: n,
  };
  const indexOfX = new Map<number, number>();
  used.forEach((c, i) => {
    let k = indexOfX.get(c.frequency);
    if (k === undefined) {
      k = grouped.distinctX.length;
      indexOfX.set(c.frequency, k);
      grouped.distinctX.push(c.frequency);
      grouped.weightByX.push(0);
    }
    grouped.weightByX[k] = (grouped.weightByX[k] ?? 0) + 1;
    grouped.x[i] = c.frequency;
    grouped.m[i] = c.monetaryValue;
    grouped.logM[i] = Math.log(c.monetaryValue);
    grouped.xIndex[i] = k;
  });
  return grouped;
}

/** −LL/n and its gradient in u = log(p, q, γ); terms in x alone are computed once per distinct x. */
function gammaGammaObjective(data: GroupedSpend): {
  value: (u: readonly number[]) => number;
  gradient: (u: readonly number[]) => number[];
} {
  const dX = data.distinctX.length;
  const compute = (u: readonly number[]) => {
    const [p, q, gamma] = u.map(Math.exp) as [number, number, number];
    const n = data.total;
    const logGammaParam = Math.log(gamma);
    let ll = n * (q * logGammaParam - logGamma(q));
    let gp = 0;
    let gq = n * (logGammaParam - digamma(q));
    let gg = (n * q) / gamma;
    for (let k = 0; k < dX; k++) {
      const x = data.distinctX[k] ?? 0;
      const w = data.weightByX[k] ?? 0;
      const px = p * x;
      const logX = Math.log(x);
      const psiPxq = digamma(px + q);
      ll += w * (logGamma(px + q) - logGamma(px) + px * logX);
      gp += w * x * (psiPxq - digamma(px) + logX);
      gq += w * psiPxq;
    }
    const { x: xs, m: ms, logM } = data;
    for (let i = 0; i < xs.length; i++) {
      const x = xs[i] as number;
      const m = ms[i] as number;
      const lm = logM[i] as number;
      const px = p * x;
      const denominator = gamma + m * x;
      const logDenominator = Math.log(denominator);
      ll += (px - 1) * lm - (px + q) * logDenominator;
      gp += x * (lm - logDenominator);
      gq -= logDenominator;
      gg -= (px + q) / denominator;
    }
    return {
      value: Number.isFinite(ll) ? -ll / n : Number.POSITIVE_INFINITY,
      gradient: [(-p * gp) / n, (-q * gq) / n, (-gamma * gg) / n],
    };
  };
  return singlePassObjective(compute, 40);
}

/** Total log-likelihood over the customers the spend model takes (the grouped evaluation the fit uses). */
export function computeGammaGammaTotalLogLikelihood(
  params: GammaGammaParams,
  customers: readonly SpendHistory[],
): number {
  const data = groupSpend(customers);
  return -gammaGammaObjective(data).value([params.p, params.q, params.gamma].map(Math.log)) * data.total;
}

/**
 * Fits Gamma-Gamma by maximum likelihood (BFGS on log-parameters, three starts, Hessian standard
 * errors) on the customers with a repeat transaction. Throws FIT_NO_DATA when there are none.
 */
export function fitGammaGamma(customers: readonly SpendHistory[]): GammaGammaFit {
  const data = groupSpend(customers);
  if (data.total === 0) {
    throw invalid('FIT_NO_DATA', 'Gamma-Gamma needs at least one customer with a repeat transaction to fit.');
  }
  let sum = 0;
  for (const m of data.m) sum += m;
  const meanM = sum / data.total;
  // E[value] = pγ/(q − 1): starts chosen so that each reproduces the observed mean.
  const starts = [
    [1, 2, meanM],
    [5, 3, (meanM * 2) / 5],
    [2, 10, (meanM * 9) / 2],
  ];
  const objective = gammaGammaObjective(data);
  const fit = fitLogParameters({
    negativeMean: objective.value,
    gradient: objective.gradient,
    starts,
    n: data.total,
  });
  const [p, q, gamma] = fit.estimates as [number, number, number];
  const [seP, seQ, seGamma] = fit.standardErrors as [number, number, number];
  return {
    params: { p, q, gamma },
    standardErrors: { p: seP, q: seQ, gamma: seGamma },
    logLikelihood: fit.logLikelihood,
    customers: data.total,
    converged: fit.converged,
    iterations: fit.iterations,
    startsAgreeing: fit.startsAgreeing,
    starts: fit.starts,
    atBoundary: fit.atBoundary,
  };
}

/** Mean spend per transaction across the population, pγ/(q − 1) (infinite when q ≤ 1). */
export function computeGammaGammaPopulationMean(params: GammaGammaParams): number {
  return params.q > 1 ? (params.p * params.gamma) / (params.q - 1) : Number.POSITIVE_INFINITY;
}

/**
 * E[M | x, m̄] = p(γ + m̄x) / (px + q − 1): the customer's expected spend per transaction, a weighted
 * mean of the population mean and the customer's own mean. Without a repeat, the population mean.
 */
export function computeGammaGammaExpectedSpend(params: GammaGammaParams, customer: SpendHistory): number {
  if (!isSpendModelled(customer)) return computeGammaGammaPopulationMean(params);
  const { p, q, gamma } = params;
  const { frequency: x, monetaryValue: m } = customer;
  const denominator = p * x + q - 1;
  return denominator > 0 ? (p * (gamma + m * x)) / denominator : Number.POSITIVE_INFINITY;
}
