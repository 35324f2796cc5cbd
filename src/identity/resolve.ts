import { invalid } from '../shared/errors.ts';
import { type BlockingOptions, computeCandidatePairs } from './blocking.ts';
import { computeClusters } from './cluster.ts';
import {
  assessEvidence,
  BIRTH_DATE_ALONE_PROBABILITY,
  type EvidenceRefusal,
  isIdentityConflict,
  restsOnBirthDateAlone,
} from './evidence.ts';
import {
  C_BIRTH,
  C_GOVERNMENT_ID,
  computeFeatures,
  FIELD_COUNT,
  FIELD_LEVELS,
  MATCH_FIELDS,
  type MatchField,
  PairComparer,
} from './features.ts';
import {
  computeChanceAgreement,
  computeMatchModel,
  computePairScore,
  computeTermFrequencies,
  type EstimateOptions,
  estimateLatentClasses,
  explainPair,
  type MatchExplanation,
  type MatchModel,
  sampleChanceLevels,
} from './matcher.ts';
import type { PersonRecord } from './records.ts';

/**
 * The whole offline resolution: records → features → candidate pairs from blocking → comparison
 * vectors → model by expectation–maximisation → scores → clusters under the anti-chaining guard, with
 * every merged or reviewable pair explained field by field. Thresholds are posterior match
 * probabilities of the estimated model, not scores tuned to a data set; above the automatic threshold
 * a pair still needs evidence that may decide (`evidence.ts`: more than names, no disagreement on who
 * the records are), otherwise it goes to review.
 */

/** How a resolution runs; every setting has a default. */
export interface ResolveOptions {
  /** Pairs at or above this match probability are merged automatically. */
  autoThreshold?: number;
  /** Pairs from this probability up to the automatic threshold go to review. */
  reviewThreshold?: number;
  blocking?: BlockingOptions;
  em?: EstimateOptions;
  /** Random pairs sampled to start u off from the data's own chance agreement. */
  randomPairs?: number;
  seed?: number;
  /**
   * A group per record (input order; null for none): records of one group are already known to be one
   * person (a customer's records in a workspace) and start in one cluster.
   */
  groups?: readonly (string | null)[];
  /**
   * Pairs of records (by id) that something besides their fields connects: an interaction of one
   * naming an interaction or an account of the other. Linked records are always compared, and the link
   * counts as the second agreement names need (see `evidence.ts`); it never outweighs a disagreement
   * on who they are.
   */
  links?: readonly (readonly [string, string])[];
}

/** Default posterior thresholds: merge when a match is more likely than not, review from 10 %. */
export const DEFAULT_THRESHOLDS = { auto: 0.5, review: 0.1 } as const;

/** A pair the resolution merged or wants a person to look at, with its explanation. */
export interface ResolvedPair {
  a: string;
  b: string;
  decision: 'merged' | 'review';
  /** Why a pair is in review: its probability sits in the band, or the guard refused an automatic merge. */
  reason?: 'band' | 'guard';
  /** For a pair above the automatic threshold held for review by its evidence: which rule held it. */
  held?: EvidenceRefusal;
  explanation: MatchExplanation;
}

/** One field of the estimated model, for reports. */
export interface FieldModel {
  field: MatchField;
  levels: { level: string; m: number; u: number; weight: number }[];
}

/** Counts and timings of a resolution. */
export interface ResolveStats {
  records: number;
  candidatePairs: number;
  mergedPairs: number;
  reviewPairs: number;
  refusedByGuard: number;
  /** Pairs above the automatic threshold whose evidence may not decide alone (names only, or a conflict). */
  heldByEvidence: number;
  clusters: number;
  proposedByKey: Record<string, number>;
  oversizedBlocks: number;
  /** Prior share of matches among all pairs of records. */
  lambda: number;
  /** Matching pairs the model expects (from EM over the candidates). */
  expectedMatches: number;
  emIterations: number;
  emConverged: boolean;
  milliseconds: Record<'features' | 'blocking' | 'comparing' | 'estimating' | 'clustering' | 'total', number>;
}

/** The outcome: a cluster number per input record (input order), the explained pairs, the model. */
export interface ResolveResult {
  clusterOf: Int32Array;
  clusterCount: number;
  pairs: ResolvedPair[];
  model: FieldModel[];
  stats: ResolveStats;
}

function assertUniqueIds(records: readonly PersonRecord[]): void {
  const seen = new Set<string>();
  for (const r of records) {
    if (seen.has(r.id)) {
      throw invalid('RECORD_ID_DUPLICATE', `The record id "${r.id}" appears more than once.`, {
        id: r.id,
        fix: 'Give every record (across both files in link mode) its own id.',
      });
    }
    seen.add(r.id);
  }
}

function describeModel(model: MatchModel): FieldModel[] {
  return MATCH_FIELDS.map((field, f) => ({
    field,
    levels: FIELD_LEVELS[field].map((level, l) => ({
      level,
      m: model.m[f]?.[l] ?? 0,
      u: model.u[f]?.[l] ?? 0,
      weight: Math.round((model.weights[f]?.[l] ?? 0) * 1000) / 1000,
    })),
  }));
}

function computeGroups(
  groups: readonly (string | null)[] | undefined,
  count: number,
): Int32Array | undefined {
  if (groups === undefined) return undefined;
  if (groups.length !== count) {
    throw invalid('GROUPS_INVALID', 'Give one group (or null) per record.', {
      records: count,
      groups: groups.length,
    });
  }
  const numbers = new Map<string, number>();
  return Int32Array.from(groups, (g) => {
    if (g === null) return -1;
    let n = numbers.get(g);
    if (n === undefined) {
      n = numbers.size;
      numbers.set(g, n);
    }
    return n;
  });
}

/** The linked pairs as record indices, and a test of whether two indices are linked. */
function computeLinkedIndices(
  records: readonly PersonRecord[],
  links: readonly (readonly [string, string])[] | undefined,
): { pairs: [number, number][]; has: (a: number, b: number) => boolean } {
  if (links === undefined || links.length === 0) return { pairs: [], has: () => false };
  const index = new Map(records.map((r, i) => [r.id, i]));
  const pairs: [number, number][] = [];
  const keys = new Set<number>();
  const n = records.length;
  for (const [x, y] of links) {
    const a = index.get(x);
    const b = index.get(y);
    if (a === undefined || b === undefined || a === b) continue;
    const [lo, hi] = a < b ? [a, b] : [b, a];
    pairs.push([lo, hi]);
    keys.add(lo * n + hi);
  }
  return { pairs, has: (a, b) => keys.has(a < b ? a * n + b : b * n + a) };
}

/** Resolves records into people. Throws RECORD_ID_DUPLICATE when two records share an id. */
export function resolveIdentities(
  records: readonly PersonRecord[],
  options: ResolveOptions = {},
): ResolveResult {
  const autoThreshold = options.autoThreshold ?? DEFAULT_THRESHOLDS.auto;
  const reviewThreshold = Math.min(options.reviewThreshold ?? DEFAULT_THRESHOLDS.review, autoThreshold);
  assertUniqueIds(records);
  const clock = { last: performance.now(), start: performance.now() };
  const lap = () => {
    const now = performance.now();
    const ms = Math.round(now - clock.last);
    clock.last = now;
    return ms;
  };

  const features = computeFeatures(records);
  const featuresMs = lap();

  const linked = computeLinkedIndices(records, options.links);
  const candidates = computeCandidatePairs(features, { ...options.blocking, linked: linked.pairs });
  const pairCount = candidates.a.length;
  const blockingMs = lap();

  const comparer = new PairComparer(features);
  const levels = new Uint8Array(pairCount * FIELD_COUNT);
  const swapped = new Uint8Array(pairCount);
  for (let p = 0; p < pairCount; p++) {
    swapped[p] = comparer.compare(candidates.a[p] ?? 0, candidates.b[p] ?? 0, levels, p * FIELD_COUNT)
      ? 1
      : 0;
  }
  const comparingMs = lap();

  const sampled = sampleChanceLevels(features, comparer, {
    ...(options.randomPairs === undefined ? {} : { samples: options.randomPairs }),
    seed: options.seed ?? 1,
  });
  const estimate = estimateLatentClasses(levels, pairCount, {
    initialU: computeChanceAgreement(features, sampled, null),
    ...options.em,
  });
  const model = computeMatchModel(
    estimate,
    computeChanceAgreement(features, sampled, estimate),
    { records: features.count, candidates: pairCount },
    computeTermFrequencies(features),
  );
  const scores = new Float64Array(pairCount);
  for (let p = 0; p < pairCount; p++) {
    scores[p] = computePairScore(
      model,
      features,
      candidates.a[p] ?? 0,
      levels,
      p * FIELD_COUNT,
      swapped[p] === 1,
    );
  }
  const estimatingMs = lap();

  // Automatic merges, strongest first, so the guard keeps the best-supported links.
  const autoScore = Math.log2(autoThreshold / (1 - autoThreshold));
  const reviewScore = Math.log2(reviewThreshold / (1 - reviewThreshold));
  const birthAloneScore = Math.log2(BIRTH_DATE_ALONE_PROBABILITY / (1 - BIRTH_DATE_ALONE_PROBABILITY));
  const autoIndex: number[] = [];
  const bandIndex: number[] = [];
  const held: { p: number; why: EvidenceRefusal }[] = [];
  for (let p = 0; p < pairCount; p++) {
    const s = scores[p] ?? Number.NEGATIVE_INFINITY;
    if (s >= autoScore) {
      let why = assessEvidence(levels, p * FIELD_COUNT);
      const isLinked = linked.has(candidates.a[p] ?? 0, candidates.b[p] ?? 0);
      if (why === 'names_only' && isLinked) why = null;
      else if (
        why === null &&
        s < birthAloneScore &&
        !isLinked &&
        restsOnBirthDateAlone(levels, p * FIELD_COUNT)
      )
        why = 'names_only';
      if (why === null) autoIndex.push(p);
      else held.push({ p, why });
    } else if (s >= reviewScore) bandIndex.push(p);
  }
  autoIndex.sort((x, y) => (scores[y] ?? 0) - (scores[x] ?? 0));
  const edgeA = Uint32Array.from(autoIndex, (p) => candidates.a[p] ?? 0);
  const edgeB = Uint32Array.from(autoIndex, (p) => candidates.b[p] ?? 0);
  const scratch = new Uint8Array(FIELD_COUNT);
  const clusters = computeClusters(
    features.count,
    { a: edgeA, b: edgeB },
    {
      governmentId: features.columns[C_GOVERNMENT_ID]?.ids ?? new Int32Array(features.count).fill(-1),
      governmentIdVerified: features.governmentIdVerified,
      birthDate: features.columns[C_BIRTH]?.ids ?? new Int32Array(features.count).fill(-1),
      birthDateVerified: features.birthVerified,
      conflicts: (x, y) => {
        comparer.compare(x, y, scratch, 0);
        return isIdentityConflict(scratch, 0);
      },
      group: computeGroups(options.groups, records.length),
    },
  );

  const pairs: ResolvedPair[] = [];
  const explain = (p: number) => {
    const a = candidates.a[p] ?? 0;
    const b = candidates.b[p] ?? 0;
    return explainPair(
      model,
      features,
      { a, levels, offset: p * FIELD_COUNT, swapped: swapped[p] === 1 },
      (field) => (field === 'address' ? comparer.describeAddress(a, b) : undefined),
    );
  };
  const idOf = (i: number) => records[i]?.id ?? '';
  const refused = new Set(clusters.refused);
  autoIndex.forEach((p, k) => {
    const a = candidates.a[p] ?? 0;
    const b = candidates.b[p] ?? 0;
    if (refused.has(k)) {
      pairs.push({ a: idOf(a), b: idOf(b), decision: 'review', reason: 'guard', explanation: explain(p) });
    } else pairs.push({ a: idOf(a), b: idOf(b), decision: 'merged', explanation: explain(p) });
  });
  for (const { p, why } of held) {
    const a = candidates.a[p] ?? 0;
    const b = candidates.b[p] ?? 0;
    if (clusters.clusterOf[a] === clusters.clusterOf[b]) continue;
    pairs.push({
      a: idOf(a),
      b: idOf(b),
      decision: 'review',
      reason: 'guard',
      held: why,
      explanation: explain(p),
    });
  }
  let reviewPairs = pairs.length - (autoIndex.length - clusters.refused.length);
  for (const p of bandIndex) {
    const a = candidates.a[p] ?? 0;
    const b = candidates.b[p] ?? 0;
    // A weak link between records already joined by stronger ones needs no review.
    if (clusters.clusterOf[a] === clusters.clusterOf[b]) continue;
    pairs.push({ a: idOf(a), b: idOf(b), decision: 'review', reason: 'band', explanation: explain(p) });
    reviewPairs++;
  }
  const clusteringMs = lap();

  return {
    clusterOf: clusters.clusterOf,
    clusterCount: clusters.clusterCount,
    pairs,
    model: describeModel(model),
    stats: {
      records: features.count,
      candidatePairs: pairCount,
      mergedPairs: autoIndex.length - clusters.refused.length,
      reviewPairs,
      refusedByGuard: clusters.refused.length,
      heldByEvidence: held.length,
      clusters: clusters.clusterCount,
      proposedByKey: candidates.proposedByKey,
      oversizedBlocks: candidates.oversizedBlocks,
      lambda: model.lambda,
      expectedMatches: model.expectedMatches,
      emIterations: model.iterations,
      emConverged: model.converged,
      milliseconds: {
        features: featuresMs,
        blocking: blockingMs,
        comparing: comparingMs,
        estimating: estimatingMs,
        clustering: clusteringMs,
        total: Math.round(performance.now() - clock.start),
      },
    },
  };
}
