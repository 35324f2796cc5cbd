import { describe, expect, it } from 'vitest';
import {
  computeParetoNbdConditionalExpectedPurchases,
  computeParetoNbdLogLikelihood,
  computeParetoNbdProbabilityAlive,
  fitParetoNbd,
  type ParetoNbdParams,
} from './paretonbd.ts';
import { simulateParetoNbdCustomers } from './simulate.ts';

const PARAMS: ParetoNbdParams = { r: 0.55, alpha: 10.58, s: 0.61, beta: 11.67 };

describe('Pareto/NBD likelihood', () => {
  // Reference values by direct numerical integration of the individual likelihood over λ and μ
  // (not through 2F1), at 20 digits.
  it.each([
    [0, 0, 38.86, -0.517025150887596],
    [2, 30.43, 38.86, -9.56198126084297],
    [5, 12, 35, -15.104816543173],
  ])('matches the double integral for x = %d, t_x = %d, T = %d', (x, tx, T, expected) => {
    expect(computeParetoNbdLogLikelihood(PARAMS, { frequency: x, recency: tx, T })).toBeCloseTo(expected, 9);
  });

  it('takes the α < β branch of the 2F1 formula consistently', () => {
    // The likelihood is continuous in β across β = α, where the note switches formulas.
    const below = computeParetoNbdLogLikelihood(
      { ...PARAMS, beta: 10.58 - 1e-7 },
      { frequency: 3, recency: 20, T: 30 },
    );
    const above = computeParetoNbdLogLikelihood(
      { ...PARAMS, beta: 10.58 + 1e-7 },
      { frequency: 3, recency: 20, T: 30 },
    );
    expect(Math.abs(below - above)).toBeLessThan(1e-6);
  });
});

describe('Pareto/NBD predictions', () => {
  it('gives P(alive) = 1 at the last purchase and less after a long silence', () => {
    expect(computeParetoNbdProbabilityAlive(PARAMS, { frequency: 4, recency: 30, T: 30 })).toBeCloseTo(1, 12);
    const silent = computeParetoNbdProbabilityAlive(PARAMS, { frequency: 4, recency: 2, T: 30 });
    expect(silent).toBeGreaterThan(0);
    expect(silent).toBeLessThan(0.5);
    const soon = computeParetoNbdConditionalExpectedPurchases(
      PARAMS,
      { frequency: 4, recency: 30, T: 30 },
      10,
    );
    const later = computeParetoNbdConditionalExpectedPurchases(
      PARAMS,
      { frequency: 4, recency: 30, T: 30 },
      20,
    );
    expect(later).toBeGreaterThan(soon);
  });
});

describe('Pareto/NBD fit', () => {
  it('recovers the parameters of simulated customers within sampling error', () => {
    const truth: ParetoNbdParams = { r: 0.8, alpha: 8, s: 0.7, beta: 12 };
    const customers = simulateParetoNbdCustomers(truth, {
      customers: 1500,
      seed: 'pareto',
      T: { min: 40, max: 80 },
    });
    const fit = fitParetoNbd(customers);
    expect(fit.converged).toBe(true);
    for (const name of ['r', 'alpha', 's', 'beta'] as const) {
      expect(Math.abs(fit.params[name] - truth[name]), name).toBeLessThan(4 * fit.standardErrors[name]);
    }
    expect(Math.abs(fit.params.r / fit.params.alpha - 0.1) / 0.1).toBeLessThan(0.15);
  });
});
