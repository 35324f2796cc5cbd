import { computeDayNumber } from '../value/index.ts';
import type { ItemEvent } from './evaluate.ts';
import type { OwnItem } from './own-history.ts';
import type { TrainingInput } from './train.ts';

/**
 * Item purchases (a file's, a synthetic world's) as training input: items and customers indexed in key
 * order, each customer's items with their distinct purchase days, as of `today` (a day number; events
 * after it are left out). Pure; the workspace path builds the same shape from SQL (`prepareTraining`).
 */
export function buildTrainingInput(events: Iterable<ItemEvent>, today: number): TrainingInput {
  const byCustomer = new Map<string, Map<string, Set<number>>>();
  const itemKeys = new Set<string>();
  for (const e of events) {
    const day = computeDayNumber(e.date);
    if (!(day <= today)) continue;
    itemKeys.add(e.item);
    let items = byCustomer.get(e.customer);
    if (!items) {
      items = new Map();
      byCustomer.set(e.customer, items);
    }
    let days = items.get(e.item);
    if (!days) {
      days = new Set();
      items.set(e.item, days);
    }
    days.add(day);
  }
  const items = [...itemKeys].sort();
  const index = new Map(items.map((key, i) => [key, i]));
  const customers = [...byCustomer.keys()].sort();
  const histories = customers.map((c): OwnItem[] =>
    [...(byCustomer.get(c) ?? new Map<string, Set<number>>())].map(([item, days]) => ({
      item: index.get(item) ?? 0,
      days: [...days].sort((a, b) => a - b),
    })),
  );
  return { items, customers, histories, today };
}
