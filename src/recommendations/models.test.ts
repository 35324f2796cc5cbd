import { describe, expect, it } from 'vitest';
import { buildSplit, evaluateScorer, topK } from './evaluate.ts';
import { explainSuggestion } from './explain.ts';
import { buildImplicitMatrix, computeCooccurrence } from './matrix.ts';
import { computeEaseWeights, itemKnnScorer, popularityScorer, userKnnScorer } from './models.ts';
import { computeOwnSuggestions, describeCadence } from './own-history.ts';
import { trainRecommendationModel } from './train.ts';

describe('the models on a matrix small enough to check by hand', () => {
  // Customers: 0 {0,1}, 1 {0,1,2}, 2 {1,2}, 3 {3}
  const matrix = buildImplicitMatrix([new Set([0, 1]), new Set([0, 1, 2]), new Set([1, 2]), new Set([3])], 4);
  const out = new Float64Array(4);

  it('counts co-purchases and buyers', () => {
    expect([...computeCooccurrence(matrix)]).toEqual([2, 2, 1, 0, 2, 3, 2, 0, 1, 2, 2, 0, 0, 0, 0, 1]);
    popularityScorer(matrix).score([], undefined, out);
    expect([...out]).toEqual([2, 3, 2, 1]);
  });

  it('item-kNN sums cosine similarities of the customer’s items', () => {
    itemKnnScorer(matrix).score([0], undefined, out);
    // cos(0,1) = 2/√6, cos(0,2) = 1/2, cos(0,3) = 0; no self-similarity.
    expect(out[0]).toBe(0);
    expect(out[1]).toBeCloseTo(2 / Math.sqrt(6), 14);
    expect(out[2]).toBeCloseTo(0.5, 14);
    expect(out[3]).toBe(0);
  });

  it('user-kNN weighs the nearest customers’ items by cosine and never counts the customer itself', () => {
    userKnnScorer(matrix, 1).score([0, 1], 0, out);
    // Customer 1 shares 2 items: 2/√(2·3); customer 2 shares 1: 1/√4. Only the nearest (1) counts.
    expect([...out]).toEqual([2 / Math.sqrt(6), 2 / Math.sqrt(6), 2 / Math.sqrt(6), 0]);
  });

  it('the linear item model solves its ridge regression: B = I − P·diag(1/diag P), zero diagonal', () => {
    const lambda = 0.5;
    const b = computeEaseWeights(computeCooccurrence(matrix), 4, lambda);
    for (let j = 0; j < 4; j++) expect(b[j * 4 + j]).toBe(0);
    // The stationarity condition of min ‖X − XB‖² + λ‖B‖² with diag B = 0: (G + λI) B − G is diagonal.
    const g = computeCooccurrence(matrix);
    for (let i = 0; i < 4; i++) {
      for (let j = 0; j < 4; j++) {
        if (i === j) continue;
        let s = lambda * (b[i * 4 + j] ?? 0) - (g[i * 4 + j] ?? 0);
        for (let k = 0; k < 4; k++) s += (g[i * 4 + k] ?? 0) * (b[k * 4 + j] ?? 0);
        expect(s).toBeCloseTo(0, 12);
      }
    }
  });

  it('takes the top k outside the excluded items, ties to the lower index', () => {
    expect(topK(Float64Array.from([1, 5, 5, 3, 9]), 3, [4])).toEqual([1, 2, 3]);
    expect(topK(Float64Array.from([1, 2]), 5, [])).toEqual([1, 0]);
  });
});

describe('the evaluation protocol', () => {
  it('evaluates only customers with a new item in the test period, recommending outside their training items', () => {
    const events = [
      { customer: 'a', item: 'x', date: '2011-01-01' },
      { customer: 'a', item: 'y', date: '2011-01-02' },
      { customer: 'b', item: 'x', date: '2011-01-01' },
      { customer: 'b', item: 'z', date: '2011-01-03' },
      // a buys z (new: relevant) and x again (not new); b buys x again only: not evaluated.
      { customer: 'a', item: 'z', date: '2011-02-01' },
      { customer: 'a', item: 'x', date: '2011-02-01' },
      { customer: 'b', item: 'x', date: '2011-02-02' },
      // c is not in training; after the end date nothing counts.
      { customer: 'c', item: 'x', date: '2011-02-01' },
      { customer: 'b', item: 'y', date: '2011-03-01' },
    ];
    const split = buildSplit(events, '2011-02-01', '2011-02-28');
    expect(split.targets.map((t) => split.customers[t.user])).toEqual(['a']);
    const metrics = evaluateScorer(split, popularityScorer(split.train), 1);
    // a's only recommendable item outside {x, y} is z: a hit.
    expect(metrics).toEqual({ k: 1, customers: 1, hitRate: 1, precision: 1, recall: 1 });
  });
});

describe('own history and reasons', () => {
  it('finds repeats and the cadence of replenishment, due when the gap has almost passed', () => {
    const suggestions = computeOwnSuggestions(
      [
        { item: 0, days: [0, 28, 56] },
        { item: 1, days: [10, 40] },
        { item: 2, days: [5] },
        { item: 3, days: [70, 75, 80] },
      ],
      82,
      10,
    );
    expect(suggestions).toEqual([
      { item: 0, score: 6, times: 3, cadenceDays: 28, due: true },
      { item: 1, score: 2, times: 2, cadenceDays: null, due: false },
      { item: 3, score: 1.5, times: 3, cadenceDays: 5, due: false },
    ]);
    expect(describeCadence(28)).toBe('every 4 weeks');
    expect(describeCadence(7)).toBe('every week');
    expect(describeCadence(90)).toBe('every 3 months');
    expect(describeCadence(10)).toBe('every 10 days');
  });

  it('words each reason in one sentence naming only the own item it was given', () => {
    expect(explainSuggestion({ reason: 'replenish', ownItemName: 'Cat food', cadenceDays: 28 })).toBe(
      'You usually reorder Cat food every 4 weeks, and it is about time again.',
    );
    expect(explainSuggestion({ reason: 'bought_with', ownItemName: 'Tea pot' })).toBe(
      'Because you bought Tea pot.',
    );
    expect(explainSuggestion({ reason: 'popular_with', ownItemName: 'Tea pot' })).toBe(
      'Popular with customers who buy Tea pot.',
    );
    expect(explainSuggestion({ reason: 'popular', ownItemName: null })).toBe(
      'One of our most popular items.',
    );
  });

  it('training cites, for every collective item, one of the customer’s own items', () => {
    const histories = [
      [
        { item: 0, days: [1] },
        { item: 1, days: [2] },
      ],
      [
        { item: 0, days: [3] },
        { item: 2, days: [4] },
      ],
      [
        { item: 1, days: [5] },
        { item: 2, days: [6] },
        { item: 3, days: [7] },
      ],
      [{ item: 4, days: [8] }],
    ];
    const trained = trainRecommendationModel(
      { items: ['a', 'b', 'c', 'd', 'e'], customers: ['p', 'q', 'r', 's'], histories, today: 10 },
      { lambda: 1, halfLifeDays: 30, frequencyPower: 0, trendDays: 5, trendWeight: 0.2, limit: 5 },
    );
    trained.lists.forEach((lists, u) => {
      const own = new Set((histories[u] ?? []).map((h) => h.item));
      for (const s of lists.collective) {
        expect(own.has(s.item)).toBe(false);
        if (s.because !== null) expect(own.has(s.because)).toBe(true);
      }
    });
  });
});
