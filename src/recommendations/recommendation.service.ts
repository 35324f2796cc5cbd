import type { Tx } from '../db/index.ts';
import { formatDayNumber } from '../value/index.ts';
import { explainSuggestion } from './explain.ts';
import type { OwnItem } from './own-history.ts';
import {
  findRecommendationLists,
  findRecommendationModel,
  listExcludedFromTraining,
  listItemDays,
  replaceRecommendations,
  type StoredModel,
  type StoredSuggestion,
} from './recommendation.repository.ts';
import type { Suggestion, TrainedRecommendations, TrainingInput, TrainingParams } from './train.ts';

/**
 * A workspace's recommendations over the database: what training reads (purchases' line items, returns
 * netted out, customers who objected or restricted processing left out), storing what it made, and
 * the lists of one customer as the serving read finds them. Training itself runs elsewhere (a worker
 * thread): these functions only take a transaction for reading or for writing, never both around it.
 */

/** What training reads, with the item names the stored sentences quote. */
export interface PreparedTraining {
  input: TrainingInput;
  names: string[];
  /** Customers left out of training (objected, restricted). */
  excluded: number;
  asOf: string;
}

/** Reads the training data of a workspace as of the end of `asOf` (UTC day). */
export async function prepareTraining(tx: Tx, workspaceId: string, asOf: Date): Promise<PreparedTraining> {
  const today = Math.floor(asOf.getTime() / 86_400_000);
  const excluded = await listExcludedFromTraining(tx, workspaceId);
  const rows = await listItemDays(tx, workspaceId, new Date((today + 1) * 86_400_000), excluded);
  // Items indexed in key order, so ties between equal scores break the same way on every run.
  const keys = [...new Set(rows.map((r) => r.item))].sort();
  const itemIndex = new Map(keys.map((key, i) => [key, i]));
  const names = [...keys];
  const byCustomer = new Map<string, Map<number, { days: Set<number>; net: number }>>();
  for (const row of rows) {
    const i = itemIndex.get(row.item) ?? 0;
    if (row.name) names[i] = row.name;
    let items = byCustomer.get(row.customer_id);
    if (!items) {
      items = new Map();
      byCustomer.set(row.customer_id, items);
    }
    let entry = items.get(i);
    if (!entry) {
      entry = { days: new Set(), net: 0 };
      items.set(i, entry);
    }
    if (row.bought > 0) entry.days.add(row.day);
    entry.net += row.bought - row.returned;
  }
  const customers: string[] = [];
  const histories: OwnItem[][] = [];
  for (const [customerId, items] of [...byCustomer].sort((a, b) => (a[0] < b[0] ? -1 : 1))) {
    // Returns count against: an item returned as often as it was bought is not the customer's.
    const history = [...items]
      .filter(([, e]) => e.net > 0 && e.days.size > 0)
      .map(([item, e]) => ({ item, days: [...e.days].sort((a, b) => a - b) }));
    if (history.length === 0) continue;
    customers.push(customerId);
    histories.push(history);
  }
  return {
    input: { items: keys, customers, histories, today },
    names,
    excluded: excluded.length,
    asOf: formatDayNumber(today),
  };
}

function toStored(s: Suggestion, items: readonly string[], names: readonly string[]): StoredSuggestion {
  const stored: StoredSuggestion = {
    item: items[s.item] ?? '',
    name: names[s.item] ?? '',
    score: s.score,
    reason: s.reason,
    because: s.because === null ? null : (items[s.because] ?? null),
    becauseName: s.because === null ? null : (names[s.because] ?? null),
  };
  if (s.cadenceDays !== undefined) stored.cadenceDays = s.cadenceDays;
  if (s.times !== undefined) stored.times = s.times;
  return stored;
}

/** Stores a trained model and its lists, replacing the previous ones. */
export async function storeTraining(
  tx: Tx,
  workspaceId: string,
  prepared: PreparedTraining,
  trained: TrainedRecommendations,
  params: TrainingParams,
  now: Date,
): Promise<void> {
  const { items, customers } = prepared.input;
  await replaceRecommendations(
    tx,
    workspaceId,
    {
      trainedAt: now,
      asOf: prepared.asOf,
      params: { ...params },
      stats: { ...trained.stats, excluded: prepared.excluded },
      popular: trained.popular.map((i) => ({ item: items[i] ?? '', name: prepared.names[i] ?? '' })),
    },
    trained.lists.map((l, u) => ({
      customerId: customers[u] ?? '',
      own: l.own.map((s) => toStored(s, items, prepared.names)),
      collective: l.collective.map((s) => toStored(s, items, prepared.names)),
    })),
  );
}

/** Which list a suggestion came from: the customer's own history, or collective. */
export type RecommendationKind = 'own_history' | 'collective';

/** One recommendation as served. */
export interface Recommendation {
  item: string;
  name: string;
  score: number;
  kind: RecommendationKind;
  reason: string;
}

/** What the serving read finds for a customer, before the policy chose what to show. */
export interface CandidateLists {
  model: StoredModel | undefined;
  own: Recommendation[];
  collective: Recommendation[];
}

function present(s: StoredSuggestion, kind: RecommendationKind): Recommendation {
  return {
    item: s.item,
    name: s.name,
    score: s.score,
    kind,
    reason: explainSuggestion({
      reason: s.reason as Parameters<typeof explainSuggestion>[0]['reason'],
      ownItemName: s.becauseName,
      cadenceDays: s.cadenceDays,
      times: s.times,
    }),
  };
}

/**
 * A customer's candidate recommendations, each with its sentence. A customer without a list (no
 * purchases yet: a cold start) gets the popular items as collective candidates.
 */
export async function findCandidateLists(
  tx: Tx,
  workspaceId: string,
  customerId: string,
): Promise<CandidateLists> {
  const model = await findRecommendationModel(tx, workspaceId);
  if (!model) return { model, own: [], collective: [] };
  const lists = await findRecommendationLists(tx, workspaceId, customerId);
  if (!lists) {
    return {
      model,
      own: [],
      collective: model.popular.map((p) =>
        present(
          { item: p.item, name: p.name, score: 0, reason: 'popular', because: null, becauseName: null },
          'collective',
        ),
      ),
    };
  }
  return {
    model,
    own: lists.own.map((s) => present(s, 'own_history')),
    collective: lists.collective.map((s) => present(s, 'collective')),
  };
}

/**
 * The shown list: own-history and collective suggestions alternately (own first), an item once,
 * at most `limit`.
 */
export function mergeRecommendations(
  own: readonly Recommendation[],
  collective: readonly Recommendation[],
  limit: number,
): Recommendation[] {
  const out: Recommendation[] = [];
  const seen = new Set<string>();
  for (let k = 0; out.length < limit && (k < own.length || k < collective.length); k++) {
    for (const r of [own[k], collective[k]]) {
      if (r === undefined || seen.has(r.item) || out.length >= limit) continue;
      seen.add(r.item);
      out.push(r);
    }
  }
  return out;
}
