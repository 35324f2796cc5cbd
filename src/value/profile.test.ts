import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  computeFitVerdict,
  computeProfileSummary,
  computeQuintileBoundaries,
  explainFitVerdict,
  scoreAgainst,
} from './profile.ts';
import { computeQuintileScores } from './rfm.ts';

describe('stored RFM boundaries', () => {
  it('score every value of the population exactly as the quintile scores do', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: -50, max: 50 }), { minLength: 1, maxLength: 200 }), (values) => {
        const boundaries = computeQuintileBoundaries(values);
        expect(values.map((v) => scoreAgainst(boundaries, v))).toEqual(computeQuintileScores(values));
      }),
    );
  });
});

describe('a profile summary from database aggregates', () => {
  const base = {
    customerId: 'c',
    purchaseDays: 3,
    firstDay: 100,
    lastDay: 114,
    total: 90,
    firstDayTotal: 30,
    returned: 0,
    returnedLater: 0,
    totalSpend: 90,
    firstPurchaseAt: new Date(0),
    lastPurchaseAt: new Date(0),
  };

  it('follows the literature: repeat days, first to last, first to the calibration end, mean of repeats', () => {
    expect(computeProfileSummary(base, 128, 'week')).toMatchObject({
      frequency: 2,
      recency: 2,
      T: 4,
      monetaryValue: 30,
      totalSpend: 90,
      purchases: 3,
      daysSinceLast: 14,
    });
  });

  it('lets returns reduce spend, never below zero, and never undo a purchase day', () => {
    const returned = computeProfileSummary(
      { ...base, returned: 50, returnedLater: 20, totalSpend: 40 },
      128,
      'week',
    );
    expect(returned).toMatchObject({ frequency: 2, totalSpend: 40, monetaryValue: 20 });
    const all = computeProfileSummary(
      { ...base, returned: 500, returnedLater: 500, totalSpend: 0 },
      128,
      'week',
    );
    expect(all).toMatchObject({ frequency: 2, totalSpend: 0, monetaryValue: 0 });
  });
});

describe('whether a fit may be stored', () => {
  const outcome = (converged: boolean, atBoundary: boolean) => ({
    converged,
    atBoundary,
    iterations: 40,
    startsAgreeing: 3,
  });

  it('stores only fits where every model converged inside the parameter space; not converged comes first', () => {
    expect(
      computeFitVerdict({ convergence: { bgnbd: outcome(true, false), gammaGamma: outcome(true, false) } }),
    ).toBe('fitted');
    expect(computeFitVerdict({ convergence: { bgnbd: outcome(true, true) } })).toBe('boundary');
    expect(
      computeFitVerdict({ convergence: { bgnbd: outcome(true, false), gammaGamma: outcome(true, true) } }),
    ).toBe('boundary');
    expect(
      computeFitVerdict({ convergence: { bgnbd: outcome(true, true), gammaGamma: outcome(false, false) } }),
    ).toBe('not_converged');
  });

  it('explains which model failed and what was kept', () => {
    const model = { convergence: { bgnbd: outcome(false, false), gammaGamma: outcome(true, true) } };
    expect(explainFitVerdict('not_converged', model, true)).toBe(
      'The fit did not converge: BG/NBD (40 iterations, 3 starts agreeing); the previous model and its profiles are kept.',
    );
    expect(explainFitVerdict('boundary', model, false)).toMatch(
      /^The Gamma-Gamma likelihood is highest at the edge .*; no model was stored and no profile written\.$/,
    );
  });
});
