import { type ConsentStatus, mergeConsentFacts } from '../consent/index.ts';
import type { MatchExplanation } from './matcher.ts';

/**
 * The pure rules of merging customers in the database: which value of a golden-record field survives,
 * how two consent states combine, which side an event that arrived during a merge belongs to after an
 * unmerge, what may never be merged (the guard), and what the recorded decisions teach.
 */

/** The golden-record fields that survivorship decides, as the customers domain names them. */
export const MERGED_FIELDS = ['givenName', 'familyName', 'preferredName', 'language', 'birthDate'] as const;
export type MergedField = (typeof MERGED_FIELDS)[number];

/** One side's current value of a field, with its provenance (null row id: a value without provenance). */
export interface FieldCandidate {
  side: 'survivor' | 'absorbed';
  rowId: string | null;
  value: string;
  source: string;
  /** ISO 8601; when the value was captured at its source. */
  capturedAt: string;
  /** ISO 8601; when Cornerstore recorded it. */
  recordedAt: string;
}

/**
 * A value counts as verified when it came from a document check (`document`, `document.<kind>`) or a
 * rectification: evidence, not hearsay. Two different verified birth dates never share a customer.
 */
export function isVerifyingSource(source: string | null | undefined): boolean {
  if (source === null || source === undefined) return false;
  return source === 'document' || source.startsWith('document.') || source === 'rectification';
}

function trustRank(source: string, trust: readonly string[]): number {
  const i = trust.indexOf(source);
  return i < 0 ? trust.length : i;
}

/**
 * The value that survives a merge: the most trusted source first (the workspace's order; unlisted
 * sources rank last), then a verified value, then the most recently captured, then the most recently
 * recorded; a full tie keeps the survivor's. Undefined when neither side has a value.
 */
export function computeSurvivingValue(
  candidates: readonly FieldCandidate[],
  trust: readonly string[],
): FieldCandidate | undefined {
  let best: FieldCandidate | undefined;
  for (const c of candidates) {
    if (best === undefined || compareCandidates(c, best, trust) < 0) best = c;
  }
  return best;
}

/** Negative when `a` should win over `b`. */
function compareCandidates(a: FieldCandidate, b: FieldCandidate, trust: readonly string[]): number {
  const rank = trustRank(a.source, trust) - trustRank(b.source, trust);
  if (rank !== 0) return rank;
  const verified = Number(isVerifyingSource(b.source)) - Number(isVerifyingSource(a.source));
  if (verified !== 0) return verified;
  if (a.capturedAt !== b.capturedAt) return a.capturedAt > b.capturedAt ? -1 : 1;
  if (a.recordedAt !== b.recordedAt) return a.recordedAt > b.recordedAt ? -1 : 1;
  if (a.side !== b.side) return a.side === 'survivor' ? -1 : 1;
  return 0;
}

/** A row of the consent projection as merges read and write it (channel '' = every channel). */
export interface ConsentStateImage {
  purpose: string;
  channel: string;
  status: ConsentStatus;
  explicit: boolean;
  expiresAt: string | null;
  effectiveFrom: string;
  recordId: string;
}

const consentKey = (c: { purpose: string; channel: string }) => `${c.purpose}\u0000${c.channel}`;

/**
 * The survivor's consent state after a merge, per purpose and channel: the most restrictive of the two
 * wins (a withdrawal is never resurrected; two grants keep the narrower terms). A state only one side
 * has is kept as it is. Returns only the rows that differ from the survivor's own.
 */
export function mergeConsentStates(
  survivor: readonly ConsentStateImage[],
  absorbed: readonly ConsentStateImage[],
): ConsentStateImage[] {
  const own = new Map(survivor.map((c) => [consentKey(c), c]));
  const changed: ConsentStateImage[] = [];
  for (const theirs of absorbed) {
    const mine = own.get(consentKey(theirs));
    if (mine === undefined) {
      changed.push(theirs);
      continue;
    }
    const facts = mergeConsentFacts(mine, theirs);
    // The base row (the record it points at, its effective time) is the one whose status won; between
    // equal statuses, the later one, so a newer consent record still moves the projection.
    const base =
      facts.status !== mine.status
        ? theirs
        : facts.status !== theirs.status
          ? mine
          : theirs.effectiveFrom > mine.effectiveFrom
            ? theirs
            : mine;
    const merged: ConsentStateImage = {
      ...base,
      status: facts.status,
      explicit: facts.explicit,
      expiresAt: facts.expiresAt,
    };
    if (!sameConsent(merged, mine)) changed.push(merged);
  }
  return changed;
}

function sameConsent(a: ConsentStateImage, b: ConsentStateImage): boolean {
  return (
    a.status === b.status &&
    a.explicit === b.explicit &&
    a.expiresAt === b.expiresAt &&
    a.effectiveFrom === b.effectiveFrom &&
    a.recordId === b.recordId
  );
}

/**
 * Which side an interaction that arrived while two customers were merged goes to on unmerge. The
 * customer reference an event named is not stored, so its source system decides: the event goes to
 * the absorbed customer when, before the merge, only the absorbed customer held an identity of that
 * source; otherwise (only the survivor did, both did, or neither did) it stays with the survivor.
 */
export function computeInteractionSide(
  source: string,
  survivorSources: ReadonlySet<string>,
  absorbedSources: ReadonlySet<string>,
): 'survivor' | 'absorbed' {
  return absorbedSources.has(source) && !survivorSources.has(source) ? 'absorbed' : 'survivor';
}

/** What the guard needs to know of a customer (or of a cluster of them). */
export interface GuardFacts {
  /** Keyed hashes of government ids by kind (`national_id`, `passport`…); a kind may hold several. */
  governmentIds: ReadonlyMap<string, readonly string[]>;
  /** Verified birth dates (YYYY-MM-DD). */
  verifiedBirthDates: readonly string[];
}

/** Why two customers may not be one person. */
export type GuardConflict =
  | { reason: 'GOVERNMENT_ID_DIFFERS'; kind: string }
  | { reason: 'VERIFIED_BIRTH_DATE_DIFFERS' };

/**
 * The anti-chaining guard at the level of customers: two different government-id hashes of the same
 * kind, or two different verified birth dates, never end up in one customer, whatever the evidence.
 * Hashes of different kinds are not comparable and do not conflict.
 */
export function findGuardConflict(a: GuardFacts, b: GuardFacts): GuardConflict | null {
  for (const [kind, hashes] of a.governmentIds) {
    const other = b.governmentIds.get(kind);
    if (other === undefined) continue;
    if (hashes.some((h) => !other.includes(h)) || other.some((h) => !hashes.includes(h))) {
      return { reason: 'GOVERNMENT_ID_DIFFERS', kind };
    }
  }
  const dates = new Set([...a.verifiedBirthDates, ...b.verifiedBirthDates]);
  if (a.verifiedBirthDates.length > 0 && b.verifiedBirthDates.length > 0 && dates.size > 1) {
    return { reason: 'VERIFIED_BIRTH_DATE_DIFFERS' };
  }
  return null;
}

/** The facts of two customers together (what a cluster holds once they are joined). */
export function combineGuardFacts(a: GuardFacts, b: GuardFacts): GuardFacts {
  const governmentIds = new Map<string, string[]>();
  for (const facts of [a, b]) {
    for (const [kind, hashes] of facts.governmentIds) {
      const list = governmentIds.get(kind) ?? [];
      for (const h of hashes) if (!list.includes(h)) list.push(h);
      governmentIds.set(kind, list);
    }
  }
  return {
    governmentIds,
    verifiedBirthDates: [...new Set([...a.verifiedBirthDates, ...b.verifiedBirthDates])],
  };
}

/** An unordered pair of customers in its stored order (smaller id first). */
export function orderPair(x: string, y: string): [string, string] {
  return x < y ? [x, y] : [y, x];
}

/** A map key for an unordered pair. */
export function pairKey(x: string, y: string): string {
  const [a, b] = orderPair(x, y);
  return `${a}:${b}`;
}

/** The comparison levels of an explained pair, by field (what a decision is learned against). */
export function comparisonLevels(explanation: MatchExplanation): Record<string, string> {
  const levels: Record<string, string> = {};
  for (const f of explanation.fields) levels[f.field] = f.level;
  if (explanation.namesSwapped) levels.namesSwapped = 'yes';
  return levels;
}

/** The comparison pattern of levels as one key: pairs that compared alike share it. */
export function patternKey(levels: Readonly<Record<string, string>>): string {
  return Object.keys(levels)
    .sort()
    .map((k) => `${k}=${levels[k]}`)
    .join('|');
}

/** A recorded decision as a label. */
export interface DecisionLabel {
  customerA: string;
  customerB: string;
  label: 'match' | 'non_match';
  levels: Readonly<Record<string, string>> | null;
  decidedAt: string;
}

/** What the recorded decisions say, for a resolution to obey and learn from. */
export interface LearnedDecisions {
  /** The latest label of each pair (by `pairKey`): it overrides the model for that pair. */
  pairs: Map<string, 'match' | 'non_match'>;
  /**
   * Comparison patterns people decided the same way at least `minLabels` times and never the other way:
   * a new pair with such a pattern is merged (match) or left alone (non_match) without asking again.
   */
  patterns: Map<string, 'match' | 'non_match'>;
}

/** How many unanimous labels a comparison pattern needs before it decides by itself. */
export const MIN_LABELS_TO_LEARN = 3;

/** Learns from the recorded decisions: per-pair overrides and unanimous comparison patterns. */
export function computeLearnedDecisions(
  labels: readonly DecisionLabel[],
  minLabels: number = MIN_LABELS_TO_LEARN,
): LearnedDecisions {
  const pairs = new Map<string, 'match' | 'non_match'>();
  const latest = new Map<string, string>();
  const counts = new Map<string, { match: number; non_match: number }>();
  for (const l of labels) {
    const key = pairKey(l.customerA, l.customerB);
    const seen = latest.get(key);
    if (seen === undefined || l.decidedAt >= seen) {
      latest.set(key, l.decidedAt);
      pairs.set(key, l.label);
    }
    if (l.levels === null) continue;
    const pattern = patternKey(l.levels);
    const count = counts.get(pattern) ?? { match: 0, non_match: 0 };
    count[l.label] += 1;
    counts.set(pattern, count);
  }
  const patterns = new Map<string, 'match' | 'non_match'>();
  for (const [pattern, count] of counts) {
    if (count.match >= minLabels && count.non_match === 0) patterns.set(pattern, 'match');
    else if (count.non_match >= minLabels && count.match === 0) patterns.set(pattern, 'non_match');
  }
  return { pairs, patterns };
}
