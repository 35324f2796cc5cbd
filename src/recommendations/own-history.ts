/**
 * Recommendations from the customer's own history (SPEC §10, individual): items bought again and
 * again, and those bought on a cadence that are due. Pure.
 *
 * An item bought on at least two days is a repeat; on at least three days its cadence is the median
 * gap between purchase days, and it is due once that gap has (almost) passed since the last purchase.
 * Score: purchase days, times 2 when due, halved when bought within half a cadence (just restocked).
 */

/** One item of a customer's history: the distinct days it was bought on (day numbers, ascending). */
export interface OwnItem {
  item: number;
  days: readonly number[];
}

/** An own-history suggestion before it is worded. */
export interface OwnSuggestion {
  item: number;
  score: number;
  /** Purchase days of the item. */
  times: number;
  /** Median days between purchases (three purchase days or more), else null. */
  cadenceDays: number | null;
  /** Due again by the cadence. */
  due: boolean;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** The customer's repeat and replenishment suggestions as of `today` (a day number), best first. */
export function computeOwnSuggestions(
  history: readonly OwnItem[],
  today: number,
  limit: number,
): OwnSuggestion[] {
  const out: OwnSuggestion[] = [];
  for (const { item, days } of history) {
    if (days.length < 2) continue;
    let cadenceDays: number | null = null;
    let due = false;
    let score = days.length;
    const last = days[days.length - 1]!;
    if (days.length >= 3) {
      const gaps: number[] = [];
      for (let k = 1; k < days.length; k++) gaps.push(days[k]! - days[k - 1]!);
      cadenceDays = Math.max(1, Math.round(median(gaps)));
      const since = today - last;
      due = since >= 0.8 * cadenceDays;
      if (due) score *= 2;
      else if (since < 0.5 * cadenceDays) score /= 2;
    }
    out.push({ item, score, times: days.length, cadenceDays, due });
  }
  out.sort((a, b) => b.score - a.score || a.item - b.item);
  return out.slice(0, limit);
}

/** "every 4 weeks", "every 10 days", "every 3 months": a cadence as a customer would say it. */
export function describeCadence(days: number): string {
  if (days >= 56 && days % 30 <= 5) return `every ${Math.round(days / 30)} months`;
  if (days >= 14 && days % 7 === 0) return `every ${days / 7} weeks`;
  if (days === 7) return 'every week';
  if (days === 1) return 'every day';
  return `every ${days} days`;
}
