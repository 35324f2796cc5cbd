import { buildImplicitMatrix, computeCooccurrence } from './matrix.ts';
import {
  computeEaseWeights,
  computeProductScores,
  computeProfileWeight,
  computeTrend,
  type ProductParams,
} from './models.ts';
import { computeOwnSuggestions, type OwnItem } from './own-history.ts';

/**
 * Training of a workspace's recommendations, pure (it runs in a worker thread, `worker.ts`): from
 * each customer's purchase days per item (returns already netted out), the linear item model over the
 * binary customer × item matrix, then each customer's lists — own-history suggestions and collective
 * ones, each carrying the customer's own item that explains it — and the popularity list that cold
 * starts are served from.
 */

/** What training reads: items by index, and each customer's history of them. */
export interface TrainingInput {
  /** Item keys (SKUs), by index. */
  items: string[];
  /** Customer ids, by index. */
  customers: string[];
  /** Per customer, the items bought and their purchase days. */
  histories: OwnItem[][];
  /** The day (day number) the lists are made for: cadences are due relative to it. */
  today: number;
}

/** The product model's settings and the length of the stored lists. */
export interface TrainingParams extends ProductParams {
  /** Suggestions kept per customer and kind. */
  limit: number;
}

/**
 * The settings `recommend evaluate` chose on the validation split inside the training period of the
 * development data (README, "Recommendations").
 */
export const DEFAULT_TRAINING_PARAMS: TrainingParams = {
  lambda: 500,
  halfLifeDays: 120,
  frequencyPower: 0,
  trendDays: 14,
  trendWeight: 0.4,
  limit: 20,
};

/** Why an item is suggested; each names (at most) one of the customer's own items. */
export type SuggestionReason = 'replenish' | 'repeat' | 'bought_with' | 'popular_with' | 'popular';

/** One stored suggestion: item index, score, reason, and the own item (index) it cites. */
export interface Suggestion {
  item: number;
  score: number;
  reason: SuggestionReason;
  because: number | null;
  /** Replenishment cadence in days. */
  cadenceDays?: number;
  /** How many days the customer bought the item (repeat). */
  times?: number;
}

/** A customer's lists: own history (intimacy ≥ 2) and collective (intimacy ≥ 3). */
export interface CustomerLists {
  own: Suggestion[];
  collective: Suggestion[];
}

/** The trained model: per customer lists (aligned with the input's customers), popularity, figures. */
export interface TrainedRecommendations {
  lists: CustomerLists[];
  /** Item indexes by buyers, most first. */
  popular: number[];
  stats: { customers: number; items: number; pairs: number; seconds: number };
}

function collectiveList(
  n: number,
  weights: Float64Array,
  cooccurrence: Float64Array,
  trend: Float64Array,
  popular: readonly number[],
  own: { items: Int32Array; weights: number[] },
  params: TrainingParams,
  scores: Float64Array,
): Suggestion[] {
  computeProductScores(weights, n, own.items, own.weights, trend, params.trendWeight, scores);
  const mine = new Set(own.items);
  const ranked: number[] = [];
  for (let j = 0; j < n; j++) if (scores[j]! > 0 && !mine.has(j)) ranked.push(j);
  ranked.sort((a, b) => scores[b]! - scores[a]! || a - b);
  const out: Suggestion[] = [];
  const because = (j: number): Suggestion => {
    // The own item that contributes most to the linear part names the reason; when none does, the
    // trend put the item there: popular with buyers of an own item it was bought with, or just popular.
    let best = 0;
    let cited = -1;
    for (let p = 0; p < own.items.length; p++) {
      const contribution = own.weights[p]! * weights[own.items[p]! * n + j]!;
      if (contribution > best) {
        best = contribution;
        cited = own.items[p]!;
      }
    }
    if (cited >= 0) return { item: j, score: scores[j]!, reason: 'bought_with', because: cited };
    let together = 0;
    for (const i of own.items) {
      const c = cooccurrence[i * n + j]!;
      if (c > together) {
        together = c;
        cited = i;
      }
    }
    return cited >= 0
      ? { item: j, score: scores[j]!, reason: 'popular_with', because: cited }
      : { item: j, score: scores[j]!, reason: 'popular', because: null };
  };
  for (const j of ranked.slice(0, params.limit)) out.push(because(j));
  // Too little history for the model to say much: popular items fill the list (cold start).
  for (const j of popular) {
    if (out.length >= params.limit) break;
    if (mine.has(j) || out.some((s) => s.item === j)) continue;
    out.push({ ...because(j), score: 0 });
  }
  return out;
}

/** Trains the model and makes every customer's lists. */
export function trainRecommendationModel(
  input: TrainingInput,
  params: TrainingParams,
): TrainedRecommendations {
  const started = performance.now();
  const n = input.items.length;
  const rows = input.histories.map((h) => new Set(h.map((o) => o.item)));
  const matrix = buildImplicitMatrix(rows, n);
  // Per entry of the matrix (customer, item): days since the last purchase, and purchase days.
  const ages = new Float64Array(matrix.userItems.length);
  const purchaseDays = new Float64Array(matrix.userItems.length);
  input.histories.forEach((history, u) => {
    const byItem = new Map(history.map((o) => [o.item, o.days]));
    for (let p = matrix.userPtr[u]!; p < matrix.userPtr[u + 1]!; p++) {
      const days = byItem.get(matrix.userItems[p]!) ?? [];
      ages[p] = input.today - (days[days.length - 1] ?? input.today);
      purchaseDays[p] = Math.max(1, days.length);
    }
  });
  const trend = computeTrend(matrix, ages, params.trendDays);
  const cooccurrence = computeCooccurrence(matrix);
  const weights = n === 0 ? new Float64Array(0) : computeEaseWeights(cooccurrence.slice(), n, params.lambda);
  const popular = [...Array(n).keys()]
    .filter((j) => matrix.itemCounts[j]! > 0)
    .sort((a, b) => matrix.itemCounts[b]! - matrix.itemCounts[a]! || a - b);
  const scores = new Float64Array(n);
  const lists = input.histories.map((history, u) => {
    const own = computeOwnSuggestions(history, input.today, params.limit).map(
      (s): Suggestion =>
        s.due && s.cadenceDays !== null
          ? { item: s.item, score: s.score, reason: 'replenish', because: s.item, cadenceDays: s.cadenceDays }
          : { item: s.item, score: s.score, reason: 'repeat', because: s.item, times: s.times },
    );
    const start = matrix.userPtr[u]!;
    const items = matrix.userItems.subarray(start, matrix.userPtr[u + 1]!);
    const profile = Array.from(items, (_, p) =>
      computeProfileWeight(params, ages[start + p]!, purchaseDays[start + p]!),
    );
    const collective = collectiveList(
      n,
      weights,
      cooccurrence,
      trend,
      popular,
      { items, weights: profile },
      params,
      scores,
    );
    return { own, collective };
  });
  return {
    lists,
    popular: popular.slice(0, params.limit),
    stats: {
      customers: input.customers.length,
      items: n,
      pairs: matrix.userItems.length,
      seconds: (performance.now() - started) / 1000,
    },
  };
}
