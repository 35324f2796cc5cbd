import { describe, expect, it } from 'vitest';
import {
  type BgNbdParams,
  computeBgNbdConditionalExpectedPurchases,
  computeBgNbdExpectedPurchases,
  computeBgNbdLogLikelihood,
  computeBgNbdProbabilityAlive,
  computeBgNbdTotalLogLikelihood,
  fitBgNbd,
} from './bgnbd.ts';
import { simulateBgNbdCustomers } from './simulate.ts';

/** The published CDNOW estimates (weeks), used here only as realistic parameter values. */
const CDNOW: BgNbdParams = { r: 0.243, alpha: 4.414, a: 0.793, b: 2.426 };

// Reference values of eqs. (6), (10), (13) computed to 30 digits with an arbitrary-precision library.
const REFERENCE: {
  x: number;
  tx: number;
  T: number;
  ll: number;
  alive: number;
  in39: number;
  in52: number;
}[] = [
  {
    x: 0,
    tx: 0,
    T: 38.86,
    ll: -0.5547132764381585,
    alive: 1,
    in39: 0.19509805201126265,
    in52: 0.2520730222824589,
  },
  {
    x: 2,
    tx: 30.43,
    T: 38.86,
    ll: -9.45860630706627,
    alive: 0.726578570080673,
    in39: 1.2260281747671444,
    in52: 1.558720806432088,
  },
  {
    x: 7,
    tx: 35,
    T: 38,
    ll: -22.012920134497154,
    alive: 0.8619910650934329,
    in39: 4.556185276589723,
    in52: 5.7286816643461,
  },
  {
    x: 40,
    tx: 37.5,
    T: 38.5,
    ll: -46.96414448314126,
    alive: 0.9528885883622057,
    in39: 26.78950732363525,
    in52: 33.47225654792538,
  },
];

describe('BG/NBD likelihood', () => {
  it('matches a case computed by hand with whole-number parameters', () => {
    // r = 2, α = 3, a = 2, b = 3; x = 2, t_x = 4, T = 6. With whole numbers every gamma is a factorial:
    // B(2, 5)/B(2, 3) = (1/30)/(1/12) = 0.4, B(3, 4)/B(2, 3) = (1/60)/(1/12) = 0.2,
    // Γ(4) α^r / Γ(2) = 6 · 9 = 54.
    const expected = 0.4 * (54 / 9 ** 4) + 0.2 * (54 / 7 ** 4);
    const ll = computeBgNbdLogLikelihood({ r: 2, alpha: 3, a: 2, b: 3 }, { frequency: 2, recency: 4, T: 6 });
    expect(ll).toBeCloseTo(Math.log(expected), 13);
    // Without a repeat only the "alive throughout" term remains: Γ(2)·9/(Γ(2)·9²) = 1/9.
    const single = computeBgNbdLogLikelihood(
      { r: 2, alpha: 3, a: 2, b: 3 },
      { frequency: 0, recency: 0, T: 6 },
    );
    expect(single).toBeCloseTo(Math.log(9 / 81), 13);
  });

  it.each(REFERENCE)('matches the reference for x = $x', ({ x, tx, T, ll, alive, in39, in52 }) => {
    const customer = { frequency: x, recency: tx, T };
    expect(computeBgNbdLogLikelihood(CDNOW, customer)).toBeCloseTo(ll, 11);
    expect(computeBgNbdProbabilityAlive(CDNOW, customer)).toBeCloseTo(alive, 13);
    expect(computeBgNbdConditionalExpectedPurchases(CDNOW, customer, 39)).toBeCloseTo(in39, 11);
    expect(computeBgNbdConditionalExpectedPurchases(CDNOW, customer, 52)).toBeCloseTo(in52, 11);
  });

  it('sums the same in the grouped evaluation the fit uses', () => {
    const customers = simulateBgNbdCustomers(CDNOW, { customers: 500, seed: 3, T: { min: 20, max: 40 } });
    const direct = customers.reduce((sum, c) => sum + computeBgNbdLogLikelihood(CDNOW, c), 0);
    const doubled = [...customers, ...customers];
    expect(computeBgNbdTotalLogLikelihood(CDNOW, customers)).toBeCloseTo(direct, 8);
    expect(computeBgNbdTotalLogLikelihood(CDNOW, doubled)).toBeCloseTo(2 * direct, 7);
  });

  it('rejects impossible histories', () => {
    expect(() => computeBgNbdTotalLogLikelihood(CDNOW, [{ frequency: 1, recency: 5, T: 4 }])).toThrow(
      /recency/,
    );
  });
});

describe('BG/NBD expectations', () => {
  // E[X(t)] of eq. (9), to 30 digits.
  it.each([
    [1, 0.05326789117165828],
    [39, 1.196723193320817],
    [78, 1.8605190579427684],
    [520, 4.9746178618496595],
  ])('E[X(%d)] matches the reference', (t, expected) => {
    expect(computeBgNbdExpectedPurchases(CDNOW, t)).toBeCloseTo(expected, 11);
  });

  it('reduces to E[X(t)] for a customer who has just bought for the first time', () => {
    for (const t of [0.5, 10, 100]) {
      expect(
        computeBgNbdConditionalExpectedPurchases(CDNOW, { frequency: 0, recency: 0, T: 0 }, t),
      ).toBeCloseTo(computeBgNbdExpectedPurchases(CDNOW, t), 12);
    }
  });

  it('agrees with the mean of simulated customers', () => {
    const t = 30;
    const customers = simulateBgNbdCustomers(CDNOW, { customers: 40_000, seed: 11, T: t });
    const mean = customers.reduce((s, c) => s + c.frequency, 0) / customers.length;
    // Standard error of the mean is about 0.012 here; allow four of them.
    expect(Math.abs(mean - computeBgNbdExpectedPurchases(CDNOW, t))).toBeLessThan(0.05);
  });

  it('behaves at the edges: nothing in no time, P(alive) falls with time since the last purchase', () => {
    expect(computeBgNbdConditionalExpectedPurchases(CDNOW, { frequency: 3, recency: 10, T: 20 }, 0)).toBe(0);
    const early = computeBgNbdProbabilityAlive(CDNOW, { frequency: 3, recency: 19, T: 20 });
    const late = computeBgNbdProbabilityAlive(CDNOW, { frequency: 3, recency: 5, T: 20 });
    expect(early).toBeGreaterThan(late);
    expect(computeBgNbdExpectedPurchases({ ...CDNOW, a: 1 }, 10)).toBeCloseTo(
      0.5 *
        (computeBgNbdExpectedPurchases({ ...CDNOW, a: 1.001 }, 10) +
          computeBgNbdExpectedPurchases({ ...CDNOW, a: 0.999 }, 10)),
      5,
    );
  });
});

describe('BG/NBD fit', () => {
  it('recovers the parameters of simulated customers within sampling error', () => {
    const truth: BgNbdParams = { r: 0.5, alpha: 6, a: 0.9, b: 3 };
    const customers = simulateBgNbdCustomers(truth, {
      customers: 20_000,
      seed: 'recovery',
      T: { min: 26, max: 78 },
    });
    const fit = fitBgNbd(customers);
    expect(fit.converged).toBe(true);
    expect(fit.atBoundary).toBe(false);
    expect(fit.startsAgreeing).toBe(fit.starts);
    for (const name of ['r', 'alpha', 'a', 'b'] as const) {
      const error = Math.abs(fit.params[name] - truth[name]);
      expect(error, name).toBeLessThan(4 * fit.standardErrors[name]);
      expect(error / truth[name], name).toBeLessThan(0.2);
    }
    // The fit is a maximum: nudging any parameter lowers the likelihood.
    for (const name of ['r', 'alpha', 'a', 'b'] as const) {
      const nudged = { ...fit.params, [name]: fit.params[name] * 1.01 };
      expect(computeBgNbdTotalLogLikelihood(nudged, customers)).toBeLessThan(fit.logLikelihood);
    }
  });

  it('reports the boundary when no customer ever drops out', () => {
    // Pure NBD data: the likelihood rises towards p → 0 (a → 0 or b → ∞).
    const customers = simulateBgNbdCustomers(
      { r: 1, alpha: 5, a: 1e-9, b: 1e9 },
      {
        customers: 3000,
        seed: 'nbd',
        T: { min: 20, max: 40 },
      },
    );
    const fit = fitBgNbd(customers);
    expect(fit.atBoundary).toBe(true);
    expect(fit.params.a / (fit.params.a + fit.params.b)).toBeLessThan(1e-3);
  });

  it('refuses to fit nothing', () => {
    expect(() => fitBgNbd([])).toThrow(/at least one customer/);
  });
});
