/**
 * RFM: recency, frequency and monetary quintile scores (1 worst … 5 best) and the named segments of the
 * usual recency × frequency grid. Scores are relative to the customers scored together.
 */

/** What RFM reads of a customer. */
export interface RfmInput {
  /** Time since the last purchase (any unit; smaller is better). */
  recency: number;
  /** Number of purchases (larger is better). */
  frequency: number;
  /** Money spent (larger is better). */
  monetary: number;
}

/** The named segments, from best to most lapsed. */
export const RFM_SEGMENTS = [
  'champions',
  'loyal',
  'potential loyalists',
  'new customers',
  'promising',
  'need attention',
  'about to sleep',
  'at risk',
  "can't lose them",
  'hibernating',
] as const;

/** One of the named segments. */
export type RfmSegment = (typeof RFM_SEGMENTS)[number];

/** A customer's scores and segment. */
export interface RfmScore {
  recencyScore: number;
  frequencyScore: number;
  monetaryScore: number;
  segment: RfmSegment;
}

/**
 * The segment of a (recency score, frequency score) pair. The grid covers every pair exactly once:
 *
 * | R \ F | 1              | 2                   | 3                   | 4               | 5               |
 * |-------|----------------|---------------------|---------------------|-----------------|-----------------|
 * | 5     | new customers  | potential loyalists | potential loyalists | champions       | champions       |
 * | 4     | promising      | potential loyalists | potential loyalists | loyal           | loyal           |
 * | 3     | about to sleep | about to sleep      | need attention      | loyal           | loyal           |
 * | 2     | hibernating    | hibernating         | at risk             | at risk         | can't lose them |
 * | 1     | hibernating    | hibernating         | at risk             | at risk         | can't lose them |
 *
 * Monetary value is scored but does not enter the segment: the grid is the one practitioners share,
 * and frequency and spend are strongly correlated in most books of customers.
 */
export function computeRfmSegment(recencyScore: number, frequencyScore: number): RfmSegment {
  const r = recencyScore;
  const f = frequencyScore;
  if (r <= 2) {
    if (f <= 2) return 'hibernating';
    return f === 5 ? "can't lose them" : 'at risk';
  }
  if (r === 3) {
    if (f <= 2) return 'about to sleep';
    return f === 3 ? 'need attention' : 'loyal';
  }
  if (f === 1) return r === 5 ? 'new customers' : 'promising';
  if (f <= 3) return 'potential loyalists';
  return r === 5 ? 'champions' : 'loyal';
}

/** Index of the first element ≥ value in an ascending array. */
function lowerBound(sorted: Float64Array, value: number): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((sorted[mid] as number) < value) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/**
 * Quintile scores 1–5 where larger values score higher: a value scores 1 + ⌊5 · (share of values
 * strictly below it)⌋, so ties always share a score and distinct values split into fifths.
 */
export function computeQuintileScores(values: readonly number[]): number[] {
  const sorted = Float64Array.from(values).sort();
  const n = values.length;
  return values.map((v) => 1 + Math.min(4, Math.floor((5 * lowerBound(sorted, v)) / n)));
}

/** RFM scores and segments for customers scored together (recency scores higher when more recent). */
export function computeRfmScores(customers: readonly RfmInput[]): RfmScore[] {
  const recency = computeQuintileScores(customers.map((c) => -c.recency));
  const frequency = computeQuintileScores(customers.map((c) => c.frequency));
  const monetary = computeQuintileScores(customers.map((c) => c.monetary));
  return customers.map((_, i) => {
    const recencyScore = recency[i] ?? 1;
    const frequencyScore = frequency[i] ?? 1;
    return {
      recencyScore,
      frequencyScore,
      monetaryScore: monetary[i] ?? 1,
      segment: computeRfmSegment(recencyScore, frequencyScore),
    };
  });
}
