import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { computeQuintileScores, computeRfmScores, computeRfmSegment, RFM_SEGMENTS } from './rfm.ts';

describe('quintile scores', () => {
  it('splits distinct values into fifths', () => {
    const scores = computeQuintileScores(Array.from({ length: 100 }, (_, i) => 100 - i));
    for (let score = 1; score <= 5; score++) expect(scores.filter((s) => s === score)).toHaveLength(20);
    expect(scores[0]).toBe(5);
    expect(scores[99]).toBe(1);
  });

  it('scores 1–5, gives ties one score and never ranks a smaller value higher', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 20 }), { minLength: 1, maxLength: 200 }), (values) => {
        const scores = computeQuintileScores(values);
        values.forEach((v, i) => {
          const s = scores[i] ?? 0;
          expect(s).toBeGreaterThanOrEqual(1);
          expect(s).toBeLessThanOrEqual(5);
          values.forEach((w, j) => {
            if (v === w) expect(scores[j]).toBe(s);
            if (v < w) expect(scores[j]).toBeGreaterThanOrEqual(s);
          });
        });
      }),
    );
  });
});

describe('RFM segments', () => {
  it('covers the whole grid with the named segments, each used', () => {
    const used = new Set<string>();
    for (let r = 1; r <= 5; r++) for (let f = 1; f <= 5; f++) used.add(computeRfmSegment(r, f));
    expect([...used].sort()).toEqual([...RFM_SEGMENTS].sort());
  });

  it('names the corners as practitioners do', () => {
    expect(computeRfmSegment(5, 5)).toBe('champions');
    expect(computeRfmSegment(5, 1)).toBe('new customers');
    expect(computeRfmSegment(1, 5)).toBe("can't lose them");
    expect(computeRfmSegment(1, 1)).toBe('hibernating');
    expect(computeRfmSegment(2, 3)).toBe('at risk');
    expect(computeRfmSegment(3, 3)).toBe('need attention');
  });

  it('scores recent buyers higher on recency', () => {
    const scores = computeRfmScores([
      { recency: 1, frequency: 10, monetary: 500 },
      { recency: 50, frequency: 1, monetary: 5 },
      { recency: 20, frequency: 3, monetary: 50 },
      { recency: 30, frequency: 2, monetary: 20 },
      { recency: 5, frequency: 6, monetary: 100 },
    ]);
    expect(scores[0]).toEqual({ recencyScore: 5, frequencyScore: 5, monetaryScore: 5, segment: 'champions' });
    expect(scores[1]).toEqual({
      recencyScore: 1,
      frequencyScore: 1,
      monetaryScore: 1,
      segment: 'hibernating',
    });
  });
});
