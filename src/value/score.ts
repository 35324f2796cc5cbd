import { invalid } from '../shared/errors.ts';
import {
  type BgNbdParams,
  computeBgNbdConditionalExpectedPurchases,
  computeBgNbdProbabilityAlive,
} from './bgnbd.ts';
import { computeGammaGammaExpectedSpend, type GammaGammaParams } from './gammagamma.ts';
import { computeRfmScores, type RfmSegment } from './rfm.ts';
import {
  type CustomerSummary,
  PERIOD_DAYS,
  type Period,
  type PurchaseHistory,
  spendHistoryOf,
} from './summary.ts';

/**
 * Per-customer value from fitted models: P(alive), expected purchases over a horizon, expected spend
 * per purchase, discounted CLV, and the RFM scores and segment.
 *
 * CLV is the discounted sum over the horizon cut into calendar months (the last one possibly shorter):
 * for each month, the BG/NBD expected purchases in it (the difference of the conditional expectation
 * at its end and start) times the Gamma-Gamma expected spend, discounted from the month's end at the
 * annual rate, compounded by day. Monthly steps follow the usual practice and keep the cost at one
 * 2F1 per customer and month whatever the period.
 */

/** Days in a calendar month on average. */
const DAYS_PER_MONTH = 365.25 / 12;
const DAYS_PER_YEAR = 365.25;

/**
 * The longest horizon valued, in days (ten years): it bounds the valuation loop below to
 * ceil(3653 / 30.4375) = 121 monthly steps per customer whatever the input.
 */
export const MAX_HORIZON_DAYS = 3653;
/** The highest annual discount rate accepted (1,000 %). */
export const MAX_ANNUAL_DISCOUNT_RATE = 10;

/** How value is projected. */
export interface ValueOptions {
  period: Period;
  /** Horizon in periods. */
  horizon: number;
  /** Annual discount rate, e.g. 0.1 for 10 %. */
  annualDiscountRate: number;
}

/** The fitted models value is computed from. */
export interface ValueModels {
  bgnbd: BgNbdParams;
  gammaGamma: GammaGammaParams;
}

/** One customer's value. */
export interface CustomerValue {
  customerId: string;
  probabilityAlive: number;
  /** Expected purchases over the horizon. */
  expectedPurchases: number;
  /** Expected spend per purchase. */
  expectedSpend: number;
  /** Discounted value of the purchases expected over the horizon. */
  clv: number;
  recencyScore: number;
  frequencyScore: number;
  monetaryScore: number;
  segment: RfmSegment;
}

/**
 * Discounted expected purchases over the horizon (monthly steps, see above): multiply by the expected
 * spend per purchase for the CLV.
 */
export function computeDiscountedPurchases(
  params: BgNbdParams,
  customer: PurchaseHistory,
  options: ValueOptions,
): number {
  assertValueOptions(options);
  const periodDays = PERIOD_DAYS[options.period];
  const step = DAYS_PER_MONTH / periodDays;
  const yearlyLog = Math.log1p(options.annualDiscountRate);
  // An integer count, not a float accumulator (which stops moving at large values): at most 121 steps,
  // since the horizon is at most MAX_HORIZON_DAYS.
  const months = Math.ceil((options.horizon * periodDays) / DAYS_PER_MONTH);
  let total = 0;
  let previous = 0;
  for (let month = 1; month <= months; month++) {
    const end = Math.min(month * step, options.horizon);
    const expected = computeBgNbdConditionalExpectedPurchases(params, customer, end);
    const discount = Math.exp((-yearlyLog * end * periodDays) / DAYS_PER_YEAR);
    total += (expected - previous) * discount;
    previous = expected;
  }
  return total;
}

/**
 * Refuses a valuation whose loop would not be bounded: the horizon must be a positive number of
 * periods of at most MAX_HORIZON_DAYS days, the annual discount rate a number from 0 to
 * MAX_ANNUAL_DISCOUNT_RATE.
 */
export function assertValueOptions(options: ValueOptions): void {
  const periodDays = PERIOD_DAYS[options.period];
  if (periodDays === undefined) {
    throw invalid('PERIOD_INVALID', 'The period must be "week" or "day".', { period: options.period });
  }
  const maxHorizon = Math.floor(MAX_HORIZON_DAYS / periodDays);
  if (!(options.horizon > 0 && options.horizon <= maxHorizon)) {
    throw invalid(
      'HORIZON_INVALID',
      `The horizon must be a positive number of ${options.period}s, at most ${maxHorizon} (ten years).`,
      { horizon: options.horizon, max: maxHorizon },
    );
  }
  if (!(options.annualDiscountRate >= 0 && options.annualDiscountRate <= MAX_ANNUAL_DISCOUNT_RATE)) {
    throw invalid(
      'DISCOUNT_RATE_INVALID',
      `The annual discount rate must be a number from 0 to ${MAX_ANNUAL_DISCOUNT_RATE}.`,
      { annualDiscountRate: options.annualDiscountRate, max: MAX_ANNUAL_DISCOUNT_RATE },
    );
  }
}

/** Value and RFM of customers scored together. */
export function computeCustomerValues(
  customers: readonly CustomerSummary[],
  models: ValueModels,
  options: ValueOptions,
): CustomerValue[] {
  const rfm = computeRfmScores(
    customers.map((c) => ({ recency: c.T - c.recency, frequency: c.frequency + 1, monetary: c.totalSpend })),
  );
  return customers.map((customer, i) => {
    const expectedSpend = computeGammaGammaExpectedSpend(models.gammaGamma, spendHistoryOf(customer));
    const score = rfm[i];
    return {
      customerId: customer.customerId,
      probabilityAlive: computeBgNbdProbabilityAlive(models.bgnbd, customer),
      expectedPurchases: computeBgNbdConditionalExpectedPurchases(models.bgnbd, customer, options.horizon),
      expectedSpend,
      clv: expectedSpend * computeDiscountedPurchases(models.bgnbd, customer, options),
      recencyScore: score?.recencyScore ?? 1,
      frequencyScore: score?.frequencyScore ?? 1,
      monetaryScore: score?.monetaryScore ?? 1,
      segment: score?.segment ?? 'hibernating',
    };
  });
}
