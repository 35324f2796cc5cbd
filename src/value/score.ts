import {
  type BgNbdParams,
  computeBgNbdConditionalExpectedPurchases,
  computeBgNbdProbabilityAlive,
} from './bgnbd.ts';
import { computeGammaGammaExpectedSpend, type GammaGammaParams } from './gammagamma.ts';
import { computeRfmScores, type RfmSegment } from './rfm.ts';
import { type CustomerSummary, PERIOD_DAYS, type Period, type PurchaseHistory } from './summary.ts';

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
  const periodDays = PERIOD_DAYS[options.period];
  const step = DAYS_PER_MONTH / periodDays;
  const yearlyLog = Math.log1p(options.annualDiscountRate);
  let total = 0;
  let previous = 0;
  for (let start = 0; start < options.horizon; start += step) {
    const end = Math.min(start + step, options.horizon);
    const expected = computeBgNbdConditionalExpectedPurchases(params, customer, end);
    const discount = Math.exp((-yearlyLog * end * periodDays) / DAYS_PER_YEAR);
    total += (expected - previous) * discount;
    previous = expected;
  }
  return total;
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
    const expectedSpend = computeGammaGammaExpectedSpend(models.gammaGamma, customer);
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
