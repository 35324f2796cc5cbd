import {
  type BgNbdParams,
  computeBgNbdConditionalExpectedPurchases,
  computeBgNbdProbabilityAlive,
} from './bgnbd.ts';
import {
  computeGammaGammaExpectedSpend,
  computeGammaGammaPopulationMean,
  type GammaGammaParams,
} from './gammagamma.ts';
import { computeRfmSegment, type RfmSegment } from './rfm.ts';
import { computeDiscountedPurchases, type ValueOptions } from './score.ts';
import { PERIOD_DAYS } from './summary.ts';

/**
 * Value profiles from stored purchase aggregates: the per-customer figures the database sums per day
 * turned into the models' (x, t_x, T, m̄), the predictions of stored parameters, and RFM scores against
 * stored quintile boundaries, so one customer can be rescored when an event arrives without refitting
 * or rescoring everyone.
 *
 * Returns: a `return` never undoes a purchase day (the visit happened) but reduces spend: its amount is
 * taken off the customer's total, and, when it happens after the first purchase day, off the repeat
 * transactions whose mean the spend model reads (a return on the first day reduces the first
 * transaction, which that model leaves out). Neither goes below zero.
 */

/** One customer's purchases as the database aggregates them (days since 1970-01-01, UTC). */
export interface PurchaseAggregate {
  customerId: string;
  /** Distinct days with a purchase of a positive amount. */
  purchaseDays: number;
  firstDay: number;
  lastDay: number;
  /** Sum of the purchases. */
  total: number;
  /** Sum of the purchases of the first purchase day. */
  firstDayTotal: number;
  /** Sum of the returns. */
  returned: number;
  /** Sum of the returns after the first purchase day. */
  returnedLater: number;
  /** Purchases less returns, never below zero: summed exactly by the database (numeric), not as floats. */
  totalSpend: number;
  firstPurchaseAt: Date;
  lastPurchaseAt: Date;
}

/** The figures of the models and RFM for one customer. */
export interface ProfileSummary {
  customerId: string;
  frequency: number;
  recency: number;
  T: number;
  monetaryValue: number;
  totalSpend: number;
  purchases: number;
  /** Days from the last purchase to the calibration end. */
  daysSinceLast: number;
}

/** Quintile boundaries of RFM (4 each): a value scores 1 + the number of boundaries it exceeds. */
export interface RfmThresholds {
  /** On minus the days since the last purchase (more recent scores higher). */
  recency: number[];
  frequency: number[];
  monetary: number[];
}

/** Stored models a profile is computed from; without a spend model the mean spend stands in. */
export interface ProfileModels {
  bgnbd: BgNbdParams;
  gammaGamma: GammaGammaParams | null;
  /** Mean spend per purchase of the calibration, used when no spend model could be fitted. */
  meanSpend: number;
  rfm: RfmThresholds;
}

/** A workspace's fitted model as stored: parameters, RFM boundaries, calibration and convergence. */
export interface StoredValueModel {
  fittedAt: Date;
  period: ValueOptions['period'];
  horizon: number;
  annualDiscountRate: number;
  bgnbd: { params: BgNbdParams; standardErrors: BgNbdParams; logLikelihood: number; customers: number };
  gammaGamma: {
    params: GammaGammaParams;
    standardErrors: GammaGammaParams;
    logLikelihood: number;
    customers: number;
  } | null;
  rfm: RfmThresholds;
  calibration: {
    end: string;
    customers: number;
    purchaseDays: number;
    meanSpend: number;
    /** The currency of every money figure (absent in models fitted before it was recorded). */
    currency?: string;
    /** The rates other currencies were converted by (units of `currency` per unit). */
    exchangeRates?: Record<string, number>;
    /** Purchases left out: in a currency without a rate. */
    unconverted?: { currency: string; purchases: number }[];
  };
  convergence: Record<
    string,
    { converged: boolean; iterations: number; atBoundary: boolean; startsAgreeing: number }
  >;
}

/** Whether a fit may be stored: `fitted`, or why not (see `RefitStatus` in the service). */
export type FitVerdict = 'fitted' | 'not_converged' | 'boundary';

const MODEL_NAMES: Record<string, string> = { bgnbd: 'BG/NBD', gammaGamma: 'Gamma-Gamma' };

/**
 * A fit is stored only when every model in it converged to a maximum inside the parameter space. Not
 * converged comes first: a fit that stopped early says nothing about where the maximum lies.
 */
export function computeFitVerdict(model: Pick<StoredValueModel, 'convergence'>): FitVerdict {
  const fits = Object.values(model.convergence);
  if (fits.some((f) => !f.converged)) return 'not_converged';
  if (fits.some((f) => f.atBoundary)) return 'boundary';
  return 'fitted';
}

/** One sentence on a refused fit: which model, what went wrong, and what was kept. */
export function explainFitVerdict(
  verdict: Exclude<FitVerdict, 'fitted'>,
  model: Pick<StoredValueModel, 'convergence'>,
  hadPrevious: boolean,
): string {
  const kept = hadPrevious
    ? 'the previous model and its profiles are kept'
    : 'no model was stored and no profile written';
  const entries = Object.entries(model.convergence);
  if (verdict === 'not_converged') {
    const names = entries
      .filter(([, f]) => !f.converged)
      .map(([name, f]) => {
        return `${MODEL_NAMES[name] ?? name} (${f.iterations} iterations, ${f.startsAgreeing} starts agreeing)`;
      });
    return `The fit did not converge: ${names.join(' and ')}; ${kept}.`;
  }
  const names = entries.filter(([, f]) => f.atBoundary).map(([name]) => MODEL_NAMES[name] ?? name);
  return (
    `The ${names.join(' and ')} likelihood is highest at the edge of the parameter space (a parameter tends to ` +
    '0 or infinity; for BG/NBD, a → 0 with b → ∞ means no dropout): the estimates are limits, without standard ' +
    `errors, too few or too uniform purchase histories to tell customers apart; ${kept}.`
  );
}

/** The models a profile is computed from, out of a stored model. */
export function profileModelsOf(model: StoredValueModel): ProfileModels {
  return {
    bgnbd: model.bgnbd.params,
    gammaGamma: model.gammaGamma?.params ?? null,
    meanSpend: model.calibration.meanSpend,
    rfm: model.rfm,
  };
}

/** A computed value profile. */
export interface ValueProfile extends ProfileSummary {
  pAlive: number;
  expectedPurchases: number;
  expectedSpend: number;
  clv: number;
  rfmR: number;
  rfmF: number;
  rfmM: number;
  rfmSegment: RfmSegment;
}

/** The models' figures of one aggregate at the calibration end (a day number), in periods. */
export function computeProfileSummary(
  row: PurchaseAggregate,
  calibrationEndDay: number,
  period: ValueOptions['period'],
): ProfileSummary {
  const days = PERIOD_DAYS[period];
  const frequency = Math.max(0, row.purchaseDays - 1);
  const end = Math.max(calibrationEndDay, row.lastDay);
  const repeatSpend = Math.max(0, row.total - row.firstDayTotal - row.returnedLater);
  return {
    customerId: row.customerId,
    frequency,
    recency: frequency > 0 ? (row.lastDay - row.firstDay) / days : 0,
    T: (end - row.firstDay) / days,
    monetaryValue: frequency > 0 ? repeatSpend / frequency : 0,
    totalSpend: row.totalSpend,
    purchases: row.purchaseDays,
    daysSinceLast: end - row.lastDay,
  };
}

/** The k-th boundaries (k = 1…4) such that scoring against them equals `computeQuintileScores`. */
export function computeQuintileBoundaries(values: readonly number[]): number[] {
  const sorted = Float64Array.from(values).sort();
  const n = sorted.length;
  if (n === 0) return [0, 0, 0, 0];
  // A value scores ≥ k+1 when at least ⌈kn/5⌉ values lie strictly below it, i.e. when it exceeds the
  // ⌈kn/5⌉-th smallest value.
  return [1, 2, 3, 4].map((k) => sorted[Math.ceil((k * n) / 5) - 1] as number);
}

/** 1 + the number of boundaries a value exceeds. */
export function scoreAgainst(boundaries: readonly number[], value: number): number {
  let score = 1;
  for (const b of boundaries) if (value > b) score++;
  return Math.min(5, score);
}

/** RFM boundaries of customers scored together. */
export function computeRfmThresholds(summaries: readonly ProfileSummary[]): RfmThresholds {
  return {
    recency: computeQuintileBoundaries(summaries.map((s) => -s.daysSinceLast)),
    frequency: computeQuintileBoundaries(summaries.map((s) => s.purchases)),
    monetary: computeQuintileBoundaries(summaries.map((s) => s.totalSpend)),
  };
}

/** Predictions are cached by history: many customers share (x, t_x, T) and the 2F1 calls dominate. */
export type PredictionCache = Map<string, { pAlive: number; expected: number; discounted: number }>;

/** One customer's profile from the stored models. */
export function computeValueProfile(
  summary: ProfileSummary,
  models: ProfileModels,
  options: ValueOptions,
  cache: PredictionCache = new Map(),
): ValueProfile {
  const key = `${summary.frequency}|${summary.recency}|${summary.T}`;
  let prediction = cache.get(key);
  if (!prediction) {
    prediction = {
      pAlive: computeBgNbdProbabilityAlive(models.bgnbd, summary),
      expected: computeBgNbdConditionalExpectedPurchases(models.bgnbd, summary, options.horizon),
      discounted: computeDiscountedPurchases(models.bgnbd, summary, options),
    };
    cache.set(key, prediction);
  }
  const expectedSpend = models.gammaGamma
    ? finiteOr(computeGammaGammaExpectedSpend(models.gammaGamma, summary), models.meanSpend)
    : models.meanSpend;
  const rfmR = scoreAgainst(models.rfm.recency, -summary.daysSinceLast);
  const rfmF = scoreAgainst(models.rfm.frequency, summary.purchases);
  return {
    ...summary,
    pAlive: prediction.pAlive,
    expectedPurchases: prediction.expected,
    expectedSpend,
    clv: expectedSpend * prediction.discounted,
    rfmR,
    rfmF,
    rfmM: scoreAgainst(models.rfm.monetary, summary.totalSpend),
    rfmSegment: computeRfmSegment(rfmR, rfmF),
  };
}

function finiteOr(value: number, fallback: number): number {
  return Number.isFinite(value) ? value : fallback;
}

/** The spend that stands in without a usable spend model: the population mean, else the observed one. */
export function computeMeanSpend(gammaGamma: GammaGammaParams | null, summaries: readonly ProfileSummary[]) {
  const population = gammaGamma ? computeGammaGammaPopulationMean(gammaGamma) : Number.POSITIVE_INFINITY;
  if (Number.isFinite(population)) return population;
  let total = 0;
  let purchases = 0;
  for (const s of summaries) {
    total += s.totalSpend;
    purchases += s.purchases;
  }
  return purchases > 0 ? total / purchases : 0;
}
