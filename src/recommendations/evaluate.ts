import { computeDayNumber } from '../value/index.ts';
import { buildImplicitMatrix, type ImplicitMatrix, itemsOf } from './matrix.ts';
import type { Scorer } from './models.ts';

/**
 * The offline evaluation protocol of the recommendations (a temporal split of implicit feedback):
 * the training matrix holds who bought what before the split date; a customer is evaluated when they
 * are in the training matrix and bought, between the split date and the end date, at least one item
 * they had never bought before; each model recommends its top k items outside the customer's
 * training items; the relevant items are those new ones. Hit rate (at least one relevant item in the
 * top k), precision (relevant in the top k / k) and recall (relevant in the top k / relevant), each
 * averaged over evaluated customers. Pure.
 */

/** One purchase of an item: who, what, which day (ISO date). */
export interface ItemEvent {
  customer: string;
  item: string;
  date: string;
}

/** A split ready for evaluation: names, the training matrix and each evaluated customer's new items. */
export interface Split {
  customers: string[];
  items: string[];
  train: ImplicitMatrix;
  /** Days from each training entry's last purchase to the split (aligned with `train.userItems`). */
  age: Float64Array;
  /** Purchase days of each training entry (aligned with `train.userItems`). */
  days: Float64Array;
  /** Evaluated customers (rows of `train`) and their relevant items. */
  targets: { user: number; relevant: Set<number> }[];
}

/** Builds the split: training before `splitDate`, test from it to `endDate` (inclusive; none: no end). */
export function buildSplit(events: readonly ItemEvent[], splitDate: string, endDate?: string): Split {
  const customerIndex = new Map<string, number>();
  const itemIndex = new Map<string, number>();
  const rows: Set<number>[] = [];
  const last = new Map<number, number>();
  const dayCount = new Map<number, Set<number>>();
  const split = computeDayNumber(splitDate);
  for (const e of events) {
    if (e.date >= splitDate) continue;
    let u = customerIndex.get(e.customer);
    if (u === undefined) {
      u = rows.length;
      customerIndex.set(e.customer, u);
      rows.push(new Set());
    }
    let i = itemIndex.get(e.item);
    if (i === undefined) {
      i = itemIndex.size;
      itemIndex.set(e.item, i);
    }
    rows[u]!.add(i);
    const key = u * 1_048_576 + i;
    const day = computeDayNumber(e.date);
    if ((last.get(key) ?? Number.NEGATIVE_INFINITY) < day) last.set(key, day);
    let days = dayCount.get(key);
    if (!days) {
      days = new Set();
      dayCount.set(key, days);
    }
    days.add(day);
  }
  const train = buildImplicitMatrix(rows, itemIndex.size);
  const age = new Float64Array(train.userItems.length);
  const days = new Float64Array(train.userItems.length);
  for (let u = 0; u < train.users; u++) {
    for (let p = train.userPtr[u]!; p < train.userPtr[u + 1]!; p++) {
      const key = u * 1_048_576 + train.userItems[p]!;
      age[p] = split - (last.get(key) ?? split);
      days[p] = dayCount.get(key)?.size ?? 1;
    }
  }
  const relevant = new Map<number, Set<number>>();
  const unseen = new Map<string, number>();
  for (const e of events) {
    if (e.date < splitDate || (endDate !== undefined && e.date > endDate)) continue;
    const u = customerIndex.get(e.customer);
    const i = itemIndex.get(e.item);
    // An item nobody bought before the split cannot be recommended by any model; it still counts as
    // relevant (it lowers every model's recall alike), so it is kept with an index past the matrix.
    if (u === undefined || rows[u]!.has(i ?? -1)) continue;
    let set = relevant.get(u);
    if (!set) {
      set = new Set();
      relevant.set(u, set);
    }
    if (i !== undefined) {
      set.add(i);
      continue;
    }
    let negative = unseen.get(e.item);
    if (negative === undefined) {
      negative = -1 - unseen.size;
      unseen.set(e.item, negative);
    }
    set.add(negative);
  }
  const targets = [...relevant.entries()]
    .sort((a, b) => a[0] - b[0])
    .map(([user, set]) => ({ user, relevant: set }));
  return { customers: [...customerIndex.keys()], items: [...itemIndex.keys()], train, age, days, targets };
}

/** The k best-scored items outside `exclude` (ties by lower index), best first. */
export function topK(scores: Float64Array, k: number, exclude: ArrayLike<number>): number[] {
  const excluded = new Set<number>();
  for (let p = 0; p < exclude.length; p++) excluded.add(exclude[p]!);
  const best: number[] = [];
  for (let j = 0; j < scores.length; j++) {
    if (excluded.has(j)) continue;
    const s = scores[j]!;
    if (best.length === k && s <= scores[best[k - 1]!]!) continue;
    let at = best.length === k ? k - 1 : best.length;
    if (best.length < k) best.push(j);
    while (at > 0 && scores[best[at - 1]!]! < s) {
      best[at] = best[at - 1]!;
      at--;
    }
    best[at] = j;
  }
  return best;
}

/** Hit rate, precision and recall at k, averaged over evaluated customers. */
export interface Metrics {
  k: number;
  customers: number;
  hitRate: number;
  precision: number;
  recall: number;
}

/** How a customer's own items are weighted when a model scores (all 1 by default). */
export type ProfileWeighting = (split: Split, user: number, out: Float64Array) => void;

/** Evaluates one scorer on a split. */
export function evaluateScorer(
  split: Split,
  scorer: Scorer,
  k: number,
  weighting?: ProfileWeighting,
): Metrics {
  const weights = new Float64Array(split.train.items);
  const scores = new Float64Array(split.train.items);
  let hits = 0;
  let precision = 0;
  let recall = 0;
  for (const { user, relevant } of split.targets) {
    const own = itemsOf(split.train, user);
    let profile: Float64Array | undefined;
    if (weighting) {
      profile = weights.subarray(0, own.length);
      weighting(split, user, profile);
    }
    scorer.score(own, user, scores, profile);
    const top = topK(scores, k, own);
    let found = 0;
    for (const j of top) if (relevant.has(j)) found++;
    if (found > 0) hits++;
    precision += found / k;
    recall += found / relevant.size;
  }
  const n = split.targets.length;
  return {
    k,
    customers: n,
    hitRate: n === 0 ? 0 : hits / n,
    precision: n === 0 ? 0 : precision / n,
    recall: n === 0 ? 0 : recall / n,
  };
}
