import { describe, expect, it } from 'vitest';
import { computeBgNbdConditionalExpectedPurchases } from './bgnbd.ts';
import { computeCustomerValues, computeDiscountedPurchases } from './score.ts';
import type { CustomerSummary } from './summary.ts';

const BGNBD = { r: 0.243, alpha: 4.414, a: 0.793, b: 2.426 };
const GG = { p: 6.25, q: 3.74, gamma: 15.44 };

function customer(
  id: string,
  frequency: number,
  recency: number,
  T: number,
  monetaryValue: number,
): CustomerSummary {
  return {
    customerId: id,
    frequency,
    recency,
    T,
    monetaryValue,
    spendFrequency: frequency,
    totalSpend: monetaryValue * (frequency + 1),
    firstPurchase: '2020-01-01',
    lastPurchase: '2020-01-01',
    holdoutFrequency: 0,
    holdoutSpend: 0,
  };
}

describe('discounted purchases', () => {
  it('equal the expected purchases without discounting, and fewer with it', () => {
    const c = customer('a', 3, 20, 30, 25);
    const expected = computeBgNbdConditionalExpectedPurchases(BGNBD, c, 52);
    expect(
      computeDiscountedPurchases(BGNBD, c, { period: 'week', horizon: 52, annualDiscountRate: 0 }),
    ).toBeCloseTo(expected, 12);
    const discounted = computeDiscountedPurchases(BGNBD, c, {
      period: 'week',
      horizon: 52,
      annualDiscountRate: 0.1,
    });
    expect(discounted).toBeLessThan(expected);
    // Discounting at most a year at 10 % cannot take off more than 1 − 1/1.1 ≈ 9.1 %.
    expect(discounted).toBeGreaterThan(expected / 1.1);
  });

  it('agree between weeks and days for the same calendar horizon', () => {
    const weeks = customer('a', 3, 20, 30, 25);
    const days = { ...weeks, recency: 140, T: 210 };
    const perDay = { r: BGNBD.r, alpha: BGNBD.alpha * 7, a: BGNBD.a, b: BGNBD.b };
    const w = computeDiscountedPurchases(BGNBD, weeks, {
      period: 'week',
      horizon: 52,
      annualDiscountRate: 0.1,
    });
    const d = computeDiscountedPurchases(perDay, days, {
      period: 'day',
      horizon: 364,
      annualDiscountRate: 0.1,
    });
    expect(d).toBeCloseTo(w, 10);
  });
});

describe('computeCustomerValues', () => {
  it('ranks an active frequent buyer above a lapsed one on every measure', () => {
    const values = computeCustomerValues(
      [customer('active', 10, 29, 30, 40), customer('lapsed', 2, 3, 30, 40), customer('new', 0, 0, 1, 0)],
      { bgnbd: BGNBD, gammaGamma: GG },
      { period: 'week', horizon: 52, annualDiscountRate: 0.1 },
    );
    const [active, lapsed, fresh] = values;
    expect(active?.probabilityAlive).toBeGreaterThan(lapsed?.probabilityAlive ?? 1);
    expect(active?.expectedPurchases).toBeGreaterThan(lapsed?.expectedPurchases ?? Infinity);
    expect(active?.clv).toBeGreaterThan(lapsed?.clv ?? Infinity);
    expect(fresh?.probabilityAlive).toBe(1);
    expect(fresh?.expectedSpend).toBeCloseTo((6.25 * 15.44) / 2.74, 10);
    expect(active?.frequencyScore).toBeGreaterThan(lapsed?.frequencyScore ?? 5);
    expect(active?.recencyScore).toBeGreaterThan(lapsed?.recencyScore ?? 5);
    expect(lapsed?.segment).toBe('hibernating');
  });
});

describe('valuation bounds', () => {
  const params = { r: 0.24, alpha: 4.41, a: 0.79, b: 2.43 };
  const history = { frequency: 2, recency: 30.43, T: 38.86 };

  it('refuses horizons that are not finite, not positive or beyond ten years, and absurd discount rates', () => {
    for (const horizon of [1e308, Number.POSITIVE_INFINITY, Number.NaN, 0, -1, 523]) {
      expect(() =>
        computeDiscountedPurchases(params, history, { period: 'week', horizon, annualDiscountRate: 0.1 }),
      ).toThrow(expect.objectContaining({ code: 'HORIZON_INVALID' }));
    }
    expect(() =>
      computeDiscountedPurchases(params, history, { period: 'day', horizon: 365, annualDiscountRate: 1e9 }),
    ).toThrow(expect.objectContaining({ code: 'DISCOUNT_RATE_INVALID' }));
  });

  it('values the longest horizon allowed', () => {
    const value = computeDiscountedPurchases(params, history, {
      period: 'week',
      horizon: 521,
      annualDiscountRate: 0.1,
    });
    expect(value).toBeGreaterThan(0);
    expect(Number.isFinite(value)).toBe(true);
  });
});
