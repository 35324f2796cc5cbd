import { describe, expect, it } from 'vitest';
import {
  computeGammaGammaExpectedSpend,
  computeGammaGammaLogLikelihood,
  computeGammaGammaPopulationMean,
  computeGammaGammaTotalLogLikelihood,
  fitGammaGamma,
  type GammaGammaParams,
} from './gammagamma.ts';
import { simulateBgNbdCustomers } from './simulate.ts';

const CDNOW: GammaGammaParams = { p: 6.25, q: 3.74, gamma: 15.44 };

describe('Gamma-Gamma likelihood', () => {
  it('matches a case computed by hand with whole-number parameters', () => {
    // p = 2, q = 3, γ = 4; x = 2, m̄ = 5: Γ(7)/(Γ(4)Γ(3)) · 4³ · 5³ · 2⁴ / 14⁷ = 60 · 64 · 125 · 16 / 14⁷.
    const expected = (60 * 64 * 125 * 16) / 14 ** 7;
    const ll = computeGammaGammaLogLikelihood({ p: 2, q: 3, gamma: 4 }, { frequency: 2, monetaryValue: 5 });
    expect(ll).toBeCloseTo(Math.log(expected), 13);
  });

  it.each([
    [1, 20, -3.594196492949196],
    [3, 35.5, -4.090552209678846],
    [12, 8.25, -5.731824017734135],
  ])('matches the reference for x = %d, m̄ = %d', (x, m, expected) => {
    expect(computeGammaGammaLogLikelihood(CDNOW, { frequency: x, monetaryValue: m })).toBeCloseTo(
      expected,
      12,
    );
  });

  it('leaves out customers without a repeat in the total', () => {
    const customers = [
      { frequency: 2, monetaryValue: 10 },
      { frequency: 0, monetaryValue: 0 },
      { frequency: 5, monetaryValue: 30 },
    ];
    const direct =
      computeGammaGammaLogLikelihood(CDNOW, { frequency: 2, monetaryValue: 10 }) +
      computeGammaGammaLogLikelihood(CDNOW, { frequency: 5, monetaryValue: 30 });
    expect(computeGammaGammaTotalLogLikelihood(CDNOW, customers)).toBeCloseTo(direct, 10);
  });
});

describe('Gamma-Gamma expectations', () => {
  it('shrinks a customer’s mean towards the population mean, less so with more repeats', () => {
    const population = computeGammaGammaPopulationMean(CDNOW);
    expect(population).toBeCloseTo((6.25 * 15.44) / 2.74, 12);
    expect(computeGammaGammaExpectedSpend(CDNOW, { frequency: 0, monetaryValue: 0 })).toBe(population);
    const one = computeGammaGammaExpectedSpend(CDNOW, { frequency: 1, monetaryValue: 100 });
    const many = computeGammaGammaExpectedSpend(CDNOW, { frequency: 20, monetaryValue: 100 });
    expect(one).toBeGreaterThan(population);
    expect(many).toBeGreaterThan(one);
    expect(many).toBeLessThan(100);
    // p(γ + m̄x)/(px + q − 1) by hand for x = 1, m̄ = 100.
    expect(one).toBeCloseTo((6.25 * 115.44) / (6.25 + 2.74), 12);
  });
});

describe('Gamma-Gamma fit', () => {
  it('recovers the parameters of simulated spend within sampling error', () => {
    const truth: GammaGammaParams = { p: 4, q: 5, gamma: 20 };
    const customers = simulateBgNbdCustomers(
      { r: 1, alpha: 4, a: 0.5, b: 4 },
      { customers: 15_000, seed: 'spend', T: { min: 30, max: 60 }, spend: truth },
    );
    const fit = fitGammaGamma(customers);
    expect(fit.converged).toBe(true);
    expect(fit.customers).toBe(customers.filter((c) => c.frequency > 0).length);
    for (const name of ['p', 'q', 'gamma'] as const) {
      const error = Math.abs(fit.params[name] - truth[name]);
      expect(error, name).toBeLessThan(4 * fit.standardErrors[name]);
      expect(error / truth[name], name).toBeLessThan(0.2);
    }
    const mean = computeGammaGammaPopulationMean(fit.params);
    expect(
      Math.abs(mean - computeGammaGammaPopulationMean(truth)) / computeGammaGammaPopulationMean(truth),
    ).toBeLessThan(0.05);
  });

  it('refuses to fit customers without repeats', () => {
    expect(() => fitGammaGamma([{ frequency: 0, monetaryValue: 0 }])).toThrow(/repeat/);
  });
});
