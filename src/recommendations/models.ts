import { invertSymmetricPositiveDefinite } from './linalg.ts';
import { computeCooccurrence, type ImplicitMatrix, itemsOf } from './matrix.ts';

/**
 * The collective models over implicit feedback, each a scorer: given a customer's items (and the
 * customer's row in the training matrix, when it has one, so it is never its own neighbour), a score
 * per item. Pure and deterministic.
 *
 * - popularity: buyers per item;
 * - item-kNN: cosine similarity of items' buyer sets, summed over the customer's items;
 * - user-kNN: cosine similarity of customers' item sets, the k nearest customers' items weighted by it;
 * - the linear item model (EASE: B = I − P·diag(1/diag P), P = (XᵀX + λI)⁻¹, zero diagonal), whose
 *   scores are sums of rows of B; optionally blended with item-kNN and divided by popularity^β
 *   (the product's model; its λ, weight and β are chosen on a validation split, `tune.ts`).
 */

/** Scores every item for one customer into `out` (length items). */
export interface Scorer {
  readonly name: string;
  /** `weights` (aligned with `items`, absent: all 1) say how much each of the customer's items counts. */
  score(
    items: ArrayLike<number>,
    self: number | undefined,
    out: Float64Array,
    weights?: ArrayLike<number>,
  ): void;
}

/** Buyers per item, the same for everyone. */
export function popularityScorer(matrix: ImplicitMatrix): Scorer {
  return {
    name: 'popularity',
    score(_items, _self, out) {
      out.set(matrix.itemCounts);
    },
  };
}

function sumRows(
  matrix: Float64Array,
  n: number,
  items: ArrayLike<number>,
  out: Float64Array,
  weights: ArrayLike<number> | undefined,
): void {
  out.fill(0);
  for (let p = 0; p < items.length; p++) {
    const row = items[p]! * n;
    const w = weights === undefined ? 1 : weights[p]!;
    if (w === 0) continue;
    for (let j = 0; j < n; j++) out[j]! += w * matrix[row + j]!;
  }
}

/** Cosine item–item similarity (zero diagonal), dense. Takes XᵀX, which it leaves unchanged. */
export function computeCosineSimilarity(cooccurrence: Float64Array, n: number): Float64Array {
  const norms = new Float64Array(n);
  for (let i = 0; i < n; i++) norms[i] = Math.sqrt(cooccurrence[i * n + i]!);
  const s = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    const ni = norms[i]!;
    if (ni === 0) continue;
    const row = i * n;
    for (let j = 0; j < n; j++) {
      const c = cooccurrence[row + j]!;
      if (c !== 0 && j !== i) s[row + j] = c / (ni * norms[j]!);
    }
  }
  return s;
}

/** Item-kNN with cosine similarity over every item ("often bought with what you bought"). */
export function itemKnnScorer(matrix: ImplicitMatrix, similarity?: Float64Array): Scorer {
  const n = matrix.items;
  const s = similarity ?? computeCosineSimilarity(computeCooccurrence(matrix), n);
  return {
    name: 'item-knn',
    score(items, _self, out, weights) {
      sumRows(s, n, items, out, weights);
    },
  };
}

/** User-kNN: the k most similar customers (cosine), their items weighted by similarity. */
export function userKnnScorer(matrix: ImplicitMatrix, k = 50): Scorer {
  const overlap = new Float64Array(matrix.users);
  const touched: number[] = [];
  return {
    name: 'user-knn',
    score(items, self, out) {
      out.fill(0);
      touched.length = 0;
      for (let p = 0; p < items.length; p++) {
        const i = items[p]!;
        if (i < 0 || i >= matrix.items) continue;
        for (let q = matrix.itemPtr[i]!; q < matrix.itemPtr[i + 1]!; q++) {
          const v = matrix.itemUsers[q]!;
          if (v === self) continue;
          if (overlap[v] === 0) touched.push(v);
          overlap[v]!++;
        }
      }
      const size = items.length;
      const neighbours = touched.map((v) => {
        const degree = matrix.userPtr[v + 1]! - matrix.userPtr[v]!;
        return { v, sim: overlap[v]! / Math.sqrt(size * degree) };
      });
      for (const v of touched) overlap[v] = 0;
      neighbours.sort((a, b) => b.sim - a.sim || a.v - b.v);
      for (const { v, sim } of neighbours.slice(0, k)) {
        for (const j of itemsOf(matrix, v)) out[j]! += sim;
      }
    },
  };
}

/**
 * The EASE weights B (dense, zero diagonal) from XᵀX, which it consumes: B = I − P·diag(1/diag P),
 * P = (XᵀX + λI)⁻¹; only the off-diagonal −P_ij / P_jj is kept.
 */
export function computeEaseWeights(cooccurrence: Float64Array, n: number, lambda: number): Float64Array {
  for (let i = 0; i < n; i++) cooccurrence[i * n + i]! += lambda;
  const p = invertSymmetricPositiveDefinite(cooccurrence, n);
  const diag = new Float64Array(n);
  for (let j = 0; j < n; j++) diag[j] = p[j * n + j]!;
  for (let i = 0; i < n; i++) {
    const row = i * n;
    for (let j = 0; j < n; j++) p[row + j] = i === j ? 0 : -p[row + j]! / diag[j]!;
  }
  return p;
}

/** The linear item model alone. */
export function easeScorer(weights: Float64Array, n: number): Scorer {
  return {
    name: 'ease',
    score(items, _self, out, profile) {
      sumRows(weights, n, items, out, profile);
    },
  };
}

/** The product model's settings (chosen on a validation split, `tune.ts`). */
export interface ProductParams {
  /** Ridge of the linear item model. */
  lambda: number;
  /** A purchase this many days before the scoring day counts half in the customer's profile (0: all count 1). */
  halfLifeDays: number;
  /** The profile weight grows with the days the item was bought: × days^frequencyPower. */
  frequencyPower: number;
  /** Trending items: buyers in the last `trendDays` days (by their latest purchase)… */
  trendDays: number;
  /** …added with this weight to the linear model's scores (both scaled to their largest value first). */
  trendWeight: number;
}

/** A customer's profile weight for one item: recency-decayed, growing with repeat purchase days. */
export function computeProfileWeight(params: ProductParams, ageDays: number, purchaseDays: number): number {
  const recency =
    params.halfLifeDays > 0 ? Math.exp((-Math.LN2 * Math.max(0, ageDays)) / params.halfLifeDays) : 1;
  return recency * purchaseDays ** params.frequencyPower;
}

/** Buyers per item whose latest purchase is at most `days` old (ages aligned with `matrix.userItems`). */
export function computeTrend(matrix: ImplicitMatrix, ages: ArrayLike<number>, days: number): Float64Array {
  const trend = new Float64Array(matrix.items);
  for (let p = 0; p < matrix.userItems.length; p++) if (ages[p]! <= days) trend[matrix.userItems[p]!]!++;
  let top = 0;
  for (const v of trend) if (v > top) top = v;
  if (top > 0) for (let j = 0; j < trend.length; j++) trend[j]! /= top;
  return trend;
}

/**
 * The product model's scores: the linear item model over the weighted profile, scaled to its largest
 * score, plus `trendWeight` × the trend (already scaled). `out` also receives the linear part alone in
 * `linear` when given (reasons need to know whether the item model or the trend put an item there).
 */
export function computeProductScores(
  ease: Float64Array,
  n: number,
  items: ArrayLike<number>,
  weights: ArrayLike<number>,
  trend: Float64Array,
  trendWeight: number,
  out: Float64Array,
): void {
  sumRows(ease, n, items, out, weights);
  let top = 0;
  for (let j = 0; j < n; j++) if (out[j]! > top) top = out[j]!;
  const scale = top > 0 ? 1 / top : 1;
  for (let j = 0; j < n; j++) out[j] = out[j]! * scale + trendWeight * trend[j]!;
}
