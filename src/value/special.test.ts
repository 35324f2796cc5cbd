import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { digamma, gamma, hyp2f1, logBeta, logGamma } from './special.ts';

// Reference values computed to 30 digits with an arbitrary-precision library, rounded to 17.
const LOG_GAMMA: [number, number][] = [
  [1e-8, 18.42068073818021],
  [0.1, 2.252712651734206],
  [0.5, 0.5723649429247001],
  [1, 0],
  [1.5, -0.12078223763524522],
  [2, 0],
  [2.5, 0.2846828704729192],
  [7.3, 7.147892523022248],
  [9.999, 12.799575780077413],
  [10, 12.801827480081469],
  [33.3, 82.60372358165495],
  [1000.5, 5908.674175848678],
  [1e6, 12815504.569147611],
  [-0.5, 1.2655121234846454],
  [-2.7, -0.07140708531564569],
];

const DIGAMMA: [number, number][] = [
  [1e-6, -1000000.5772140201],
  [0.25, -4.2274535333762655],
  [1, -0.5772156649015329],
  [3.7, 1.1671535393615113],
  [12.5, 2.4851956512749123],
  [1e5, 11.512920464961896],
  [-0.5, 0.03648997397857652],
  [-3.3, 3.620353460592126],
];

const HYP2F1: [number, number, number, number, number][] = [
  [1, 1, 2, 0.5, 1.3862943611198906],
  [0.5, 1.5, 2.5, 0.3, 1.108062551056932],
  [2.3, 1.7, 4.1, 0.95, 7.624257954084783],
  [1.5, 2.5, 4, 0.97, 9.784734861085157],
  [10.24, 1.793, 14.219, -2.5, 0.16248551491470214],
  [0.243, 0.793, 2.219, -1.3, 0.9189829931507072],
  [150.243, 0.793, 152.219, -0.4, 0.7680726769336553],
  [3, 2, 5, 0.999, 53.295718788451865],
  [1, 2, 3, 0.95, 4.533478722557319],
  [2.5, 1.5, 3.3, -30, 0.011337197693079625],
  [-3, 2, 4, 0.7, 0.3224],
  [0.7, 0.2, 0.9, 0.9999, 2.611890833227293],
  [55.5, 3.2, 57.5, 0.93, 1883.4305059342082],
];

describe('logGamma', () => {
  it.each(LOG_GAMMA)('log Γ(%d) matches the reference', (x, expected) => {
    expect(Math.abs(logGamma(x) - expected)).toBeLessThan(1e-13 * Math.max(1, Math.abs(expected)));
  });

  it('has poles at the non-positive integers', () => {
    expect(logGamma(0)).toBe(Number.POSITIVE_INFINITY);
    expect(logGamma(-3)).toBe(Number.POSITIVE_INFINITY);
  });

  it('satisfies log Γ(x + 1) = log Γ(x) + log x', () => {
    fc.assert(
      fc.property(fc.double({ min: 1e-6, max: 1e6, noNaN: true }), (x) => {
        const gap = logGamma(x + 1) - logGamma(x) - Math.log(x);
        expect(Math.abs(gap)).toBeLessThan(1e-12 * Math.max(1, Math.abs(logGamma(x + 1))));
      }),
    );
  });

  it('gives factorials through gamma()', () => {
    expect(gamma(6)).toBeCloseTo(120, 10);
    expect(gamma(-0.5)).toBeCloseTo(-2 * Math.sqrt(Math.PI), 12);
  });
});

describe('digamma', () => {
  it.each(DIGAMMA)('ψ(%d) matches the reference', (x, expected) => {
    expect(Math.abs(digamma(x) - expected)).toBeLessThan(1e-12 * Math.max(1, Math.abs(expected)));
  });

  it('is the derivative of log Γ', () => {
    fc.assert(
      fc.property(fc.double({ min: 0.05, max: 500, noNaN: true }), (x) => {
        const h = 1e-5 * Math.max(1, x);
        const numeric = (logGamma(x + h) - logGamma(x - h)) / (2 * h);
        expect(Math.abs(digamma(x) - numeric)).toBeLessThan(1e-6 * Math.max(1, Math.abs(numeric)));
      }),
    );
  });
});

describe('logBeta', () => {
  it('matches B(2, 3) = 1/12 and is symmetric', () => {
    expect(logBeta(2, 3)).toBeCloseTo(Math.log(1 / 12), 14);
    expect(logBeta(0.3, 7.1)).toBeCloseTo(logBeta(7.1, 0.3), 14);
  });
});

describe('hyp2f1', () => {
  it.each(HYP2F1)('2F1(%d, %d; %d; %d) matches the reference', (a, b, c, z, expected) => {
    expect(Math.abs(hyp2f1(a, b, c, z) - expected)).toBeLessThan(1e-11 * Math.abs(expected));
  });

  it('agrees with closed forms across the real line below 1', () => {
    fc.assert(
      fc.property(fc.double({ min: -50, max: 0.9999, noNaN: true }), (z) => {
        fc.pre(z !== 0);
        // 2F1(1, 1; 2; z) = −log(1 − z)/z and 2F1(a, b; b; z) = (1 − z)^(−a).
        const log = -Math.log1p(-z) / z;
        expect(Math.abs(hyp2f1(1, 1, 2, z) - log)).toBeLessThan(1e-10 * Math.abs(log));
        const power = (1 - z) ** -0.7;
        expect(Math.abs(hyp2f1(0.7, 2.3, 2.3, z) - power)).toBeLessThan(1e-10 * power);
      }),
    );
  });

  it('keeps about seven digits in the degenerate case closer to 1 than 0.9999', () => {
    for (const z of [0.99991, 0.999999, 1 - 1e-9]) {
      const log = -Math.log1p(-z) / z;
      expect(Math.abs(hyp2f1(1, 1, 2, z) - log)).toBeLessThan(1e-6 * log);
    }
  });

  it('is exactly 1 at z = 0, the Gauss sum at z = 1 and undefined above 1', () => {
    expect(hyp2f1(3, 4, 5, 0)).toBe(1);
    // 2F1(a, b; c; 1) = Γ(c) Γ(c − a − b) / (Γ(c − a) Γ(c − b)) = Γ(5) Γ(1.5) / (Γ(3.5) Γ(3)) here.
    const gauss = Math.exp(logGamma(5) + logGamma(1.5) - logGamma(3.5) - logGamma(3));
    expect(hyp2f1(1.5, 2, 5, 1)).toBeCloseTo(gauss, 12);
    expect(hyp2f1(1, 1, 2, 1.5)).toBeNaN();
  });
});
