import {
  C_BIRTH,
  C_EMAIL,
  C_GIVEN,
  C_GOVERNMENT_ID,
  C_PHONE,
  C_SURNAME,
  F_BIRTH,
  F_EMAIL,
  F_GIVEN,
  F_GOVERNMENT_ID,
  F_PHONE,
  F_SURNAME,
  FIELD_COUNT,
  FIELD_LEVELS,
  MATCH_FIELDS,
  type MatchField,
  MISSING,
  type PairComparer,
  type RecordFeatures,
} from './features.ts';
import { SeededRandom } from './random.ts';

/**
 * The Fellegi–Sunter model: each field's comparison level is evidence for or against two records being
 * the same person, worth log2(m / u) bits, where m is the level's probability among true matches and u
 * among non-matches. Nothing is labelled, so everything is estimated from the records themselves:
 * - m (and the number of matches) by expectation–maximisation of the latent-class model over the
 *   candidate pairs' comparison vectors (fields agree independently given the match status);
 * - u as chance agreement over all pairs of records: exact agreement counted from value frequencies
 *   (less the matches' own agreement), the other levels from a seeded sample of random pairs.
 * Scoring in the space of all pairs, not only the candidates, matters: a candidate pair agrees on some
 * blocking key by construction, so u measured among candidates would discount exactly the evidence
 * (a shared birth date, a shared name) that blocking selected on.
 * Exact agreement on a name is then adjusted by how common the name is: two records sharing a rare
 * surname are stronger evidence than two sharing the commonest one.
 */

/** What expectation–maximisation found among the candidate pairs. */
export interface LatentClassEstimate {
  /** Share of candidate pairs that are matches. */
  lambda: number;
  m: number[][];
  /** u among candidate pairs (reported; the model uses chance agreement over all pairs). */
  u: number[][];
  /** Candidate pairs at each level, per field. */
  levelMass: number[][];
  /** Expected number of matches among the candidates where the field is present on both sides. */
  matchesWithField: number[];
  iterations: number;
  converged: boolean;
}

/** Settings of the expectation–maximisation. */
export interface EstimateOptions {
  maxIterations?: number;
  /** Stop when no probability moves by more than this. */
  tolerance?: number;
  /** Starting u per field and level (chance agreement suits); a guess otherwise. */
  initialU?: readonly (readonly number[])[];
  initialLambda?: number;
}

const LEVEL_COUNTS = MATCH_FIELDS.map((f) => FIELD_LEVELS[f].length);

/** Smallest probability EM keeps, so that no level's estimate collapses to zero. */
const FLOOR = 1e-6;

/** Largest weight of one field either way, in bits: no single field decides a pair alone. */
const WEIGHT_LIMIT = 20;

interface Patterns {
  levels: Uint8Array;
  counts: Float64Array;
  size: number;
}

/** Collapses comparison vectors into distinct patterns with counts: EM then costs per pattern. */
function compressPatterns(levels: Uint8Array, pairCount: number): Patterns {
  const index = new Map<number, number>();
  const rows: number[] = [];
  const counts: number[] = [];
  for (let p = 0; p < pairCount; p++) {
    const base = p * FIELD_COUNT;
    let key = 0;
    for (let f = 0; f < FIELD_COUNT; f++) {
      const level = levels[base + f] ?? MISSING;
      key = key * 8 + (level === MISSING ? 0 : level + 1);
    }
    const found = index.get(key);
    if (found === undefined) {
      index.set(key, counts.length);
      counts.push(1);
      rows.push(p);
    } else counts[found] = (counts[found] ?? 0) + 1;
  }
  const size = counts.length;
  const out = new Uint8Array(size * FIELD_COUNT);
  for (let k = 0; k < size; k++) {
    const p = rows[k] ?? 0;
    out.set(levels.subarray(p * FIELD_COUNT, (p + 1) * FIELD_COUNT), k * FIELD_COUNT);
  }
  return { levels: out, counts: Float64Array.from(counts), size };
}

function initialM(levelCount: number): number[] {
  // Matches mostly agree exactly; the rest is spread over the lower levels.
  const m = new Array<number>(levelCount).fill(0.1 / (levelCount - 1));
  m[levelCount - 1] = 0.9;
  return m;
}

function initialU(levelCount: number): number[] {
  // Random pairs mostly disagree.
  const u = new Array<number>(levelCount).fill(0.02 / (levelCount - 1));
  u[0] = 0.98;
  return u;
}

function normalise(values: readonly number[], alpha: number): number[] {
  const total = values.reduce((s, v) => s + v, 0) + alpha * values.length;
  return values.map((v) => Math.max(FLOOR, (v + alpha) / total));
}

function zeros(): number[][] {
  return LEVEL_COUNTS.map((c) => new Array<number>(c).fill(0));
}

/**
 * Estimates λ, m and u among candidate pairs by expectation–maximisation over their comparison vectors
 * (`pairCount` rows of FIELD_COUNT levels; MISSING where a side lacks the field, which then says
 * nothing either way).
 */
export function estimateLatentClasses(
  levels: Uint8Array,
  pairCount: number,
  options: EstimateOptions = {},
): LatentClassEstimate {
  const maxIterations = options.maxIterations ?? 200;
  const tolerance = options.tolerance ?? 1e-6;
  const patterns = compressPatterns(levels, pairCount);
  let lambda = options.initialLambda ?? 0.1;
  let m = LEVEL_COUNTS.map((count) => initialM(count));
  let u = LEVEL_COUNTS.map((count, f) => {
    const given = options.initialU?.[f];
    return given && given.length === count ? normalise(given, 0) : initialU(count);
  });
  let iterations = 0;
  let converged = false;
  let matchesWithField = new Array<number>(FIELD_COUNT).fill(0);
  const logM = LEVEL_COUNTS.map((c) => new Float64Array(c));
  const logU = LEVEL_COUNTS.map((c) => new Float64Array(c));

  while (iterations < maxIterations) {
    iterations++;
    for (let f = 0; f < FIELD_COUNT; f++) {
      const lm = logM[f] as Float64Array;
      const lu = logU[f] as Float64Array;
      for (let l = 0; l < lm.length; l++) {
        lm[l] = Math.log(m[f]?.[l] ?? FLOOR);
        lu[l] = Math.log(u[f]?.[l] ?? FLOOR);
      }
    }
    const mAcc = zeros();
    const uAcc = zeros();
    let matchMass = 0;
    let total = 0;
    const logLambda = Math.log(lambda);
    const logOther = Math.log(1 - lambda);
    for (let k = 0; k < patterns.size; k++) {
      const base = k * FIELD_COUNT;
      let lm = logLambda;
      let lu = logOther;
      for (let f = 0; f < FIELD_COUNT; f++) {
        const level = patterns.levels[base + f] ?? MISSING;
        if (level === MISSING) continue;
        lm += (logM[f] as Float64Array)[level] ?? 0;
        lu += (logU[f] as Float64Array)[level] ?? 0;
      }
      const g = 1 / (1 + Math.exp(lu - lm));
      const count = patterns.counts[k] ?? 0;
      const gm = g * count;
      matchMass += gm;
      total += count;
      for (let f = 0; f < FIELD_COUNT; f++) {
        const level = patterns.levels[base + f] ?? MISSING;
        if (level === MISSING) continue;
        const ma = mAcc[f] as number[];
        const ua = uAcc[f] as number[];
        ma[level] = (ma[level] ?? 0) + gm;
        ua[level] = (ua[level] ?? 0) + count - gm;
      }
    }
    const nextLambda = Math.min(1 - FLOOR, Math.max(FLOOR, matchMass / Math.max(total, 1)));
    const nextM = mAcc.map((acc) => normalise(acc, 0.01));
    const nextU = uAcc.map((acc) => normalise(acc, 0.01));
    matchesWithField = mAcc.map((acc) => acc.reduce((s, v) => s + v, 0));
    let delta = Math.abs(nextLambda - lambda);
    for (let f = 0; f < FIELD_COUNT; f++) {
      for (let l = 0; l < (LEVEL_COUNTS[f] ?? 0); l++) {
        delta = Math.max(
          delta,
          Math.abs((nextM[f]?.[l] ?? 0) - (m[f]?.[l] ?? 0)),
          Math.abs((nextU[f]?.[l] ?? 0) - (u[f]?.[l] ?? 0)),
        );
      }
    }
    lambda = nextLambda;
    m = nextM;
    u = nextU;
    if (delta < tolerance) {
      converged = true;
      break;
    }
  }

  // The latent classes have no names: the match class is the one where the top levels are likelier.
  let orientation = 0;
  for (let f = 0; f < FIELD_COUNT; f++) {
    const top = (LEVEL_COUNTS[f] ?? 1) - 1;
    orientation += Math.log((m[f]?.[top] ?? FLOOR) / (u[f]?.[top] ?? FLOOR));
  }
  const levelMass = zeros();
  for (let k = 0; k < patterns.size; k++) {
    for (let f = 0; f < FIELD_COUNT; f++) {
      const level = patterns.levels[k * FIELD_COUNT + f] ?? MISSING;
      const row = levelMass[f] as number[];
      if (level !== MISSING) row[level] = (row[level] ?? 0) + (patterns.counts[k] ?? 0);
    }
  }
  if (orientation < 0) {
    [m, u] = [u, m];
    lambda = 1 - lambda;
    matchesWithField = matchesWithField.map((x, f) => (levelMass[f] ?? []).reduce((s, v) => s + v, -x));
  }
  return { lambda, m, u, levelMass, matchesWithField, iterations, converged };
}

/** Which value column gives the exact-agreement count of a field, and with which value counts. */
function exactColumns(features: RecordFeatures): Map<number, readonly number[]> {
  const datesFull = (features.columns[C_BIRTH]?.counts ?? []).map((c, v) =>
    (features.dates[v]?.digits.length ?? 0) === 8 ? c : 0,
  );
  return new Map<number, readonly number[]>([
    [F_GIVEN, features.givenCounts],
    [F_SURNAME, features.surnameCounts],
    [F_BIRTH, datesFull],
    [F_PHONE, features.columns[C_PHONE]?.counts ?? []],
    [F_EMAIL, features.columns[C_EMAIL]?.counts ?? []],
    [F_GOVERNMENT_ID, features.columns[C_GOVERNMENT_ID]?.counts ?? []],
  ]);
}

function present(counts: readonly number[]): number {
  let n = 0;
  for (const c of counts) n += c;
  return n;
}

/** Settings of the chance-agreement estimate. */
export interface ChanceOptions {
  /** Random pairs compared (default: 50,000, or every pair of a smaller set). */
  samples?: number;
  seed?: number;
}

/**
 * Level counts among random pairs of records (every pair when there are few): chance agreement.
 */
export function sampleChanceLevels(
  features: RecordFeatures,
  comparer: PairComparer,
  options: ChanceOptions = {},
): number[][] {
  const n = features.count;
  const counts = zeros();
  if (n < 2) return counts;
  const out = new Uint8Array(FIELD_COUNT);
  const record = (a: number, b: number) => {
    comparer.compare(a, b, out, 0);
    for (let f = 0; f < FIELD_COUNT; f++) {
      const level = out[f] ?? MISSING;
      const row = counts[f] as number[];
      if (level !== MISSING) row[level] = (row[level] ?? 0) + 1;
    }
  };
  const samples = options.samples ?? 50_000;
  if ((n * (n - 1)) / 2 <= samples) {
    for (let a = 0; a < n; a++) for (let b = a + 1; b < n; b++) record(a, b);
    return counts;
  }
  const random = new SeededRandom(options.seed ?? 1);
  for (let s = 0; s < samples; s++) {
    const a = random.int(0, n - 1);
    let b = random.int(0, n - 2);
    if (b >= a) b++;
    record(a, b);
  }
  return counts;
}

/**
 * u over all pairs of records. Exact agreement is counted from value frequencies (pairs sharing a
 * value, less the expected matches among them); the other levels come from the sampled random pairs.
 * Without an estimate of the matches (before EM runs), exact agreement is taken as counted.
 */
export function computeChanceAgreement(
  features: RecordFeatures,
  sampled: readonly (readonly number[])[],
  estimate: Pick<LatentClassEstimate, 'm' | 'matchesWithField'> | null,
): number[][] {
  const exact = exactColumns(features);
  return sampled.map((row, f) => {
    const top = row.length - 1;
    const frequencies = normalise(row, 0.5);
    const valueCounts = exact.get(f);
    if (valueCounts === undefined) return frequencies;
    const withField = present(valueCounts);
    const pairsWithField = (withField * (withField - 1)) / 2;
    if (pairsWithField <= 0) return frequencies;
    let agreeing = 0;
    for (const c of valueCounts) agreeing += (c * (c - 1)) / 2;
    const matches = estimate?.matchesWithField[f] ?? 0;
    const matchesAgreeing = matches * (estimate?.m[f]?.[top] ?? 0);
    const nonMatchPairs = Math.max(1, pairsWithField - matches);
    // At least half a pair: a value no two strangers share is still not proof.
    const uExact = Math.min(0.5, Math.max(0.5, agreeing - matchesAgreeing) / nonMatchPairs);
    const rest = 1 - (frequencies[top] ?? 0);
    return frequencies.map((v, l) => (l === top ? uExact : rest > 0 ? (v / rest) * (1 - uExact) : v));
  });
}

/** Weighted isotonic regression (pool adjacent violators): the closest non-decreasing sequence. */
export function monotone(values: readonly number[], mass: readonly number[]): number[] {
  const blocks: { value: number; mass: number; size: number }[] = [];
  for (let i = 0; i < values.length; i++) {
    blocks.push({ value: values[i] ?? 0, mass: mass[i] ?? 0, size: 1 });
    while (blocks.length > 1) {
      const last = blocks[blocks.length - 1] as { value: number; mass: number; size: number };
      const prev = blocks[blocks.length - 2] as { value: number; mass: number; size: number };
      if (prev.value <= last.value) break;
      const total = prev.mass + last.mass;
      prev.value =
        total > 0 ? (prev.value * prev.mass + last.value * last.mass) / total : (prev.value + last.value) / 2;
      prev.mass = total;
      prev.size += last.size;
      blocks.pop();
    }
  }
  return blocks.flatMap((b) => new Array<number>(b.size).fill(b.value));
}

/** The term-frequency adjustment of one field: the value column it reads and bits per value. */
export interface TermFrequency {
  column: number;
  bits: Float32Array;
}

/** Largest term-frequency adjustment in bits, either way. */
const TF_LIMIT = 5;

function adjustments(counts: readonly number[]): Float32Array {
  const total = present(counts);
  const out = new Float32Array(counts.length);
  if (total === 0) return out;
  // Mean frequency of the value two agreeing random records share: Σ tf². A value as common as that
  // gets no adjustment; a rarer one gains, a commoner one loses.
  let meanTf = 0;
  for (const c of counts) meanTf += (c / total) * (c / total);
  for (let v = 0; v < counts.length; v++) {
    const c = counts[v] ?? 0;
    if (c === 0) continue;
    out[v] = Math.max(-TF_LIMIT, Math.min(TF_LIMIT, Math.log2(meanTf / (c / total))));
  }
  return out;
}

/** Term-frequency adjustments of given names and surnames, from the records themselves. */
export function computeTermFrequencies(features: RecordFeatures): Map<number, TermFrequency> {
  return new Map([
    [F_GIVEN, { column: C_GIVEN, bits: adjustments(features.givenCounts) }],
    [F_SURNAME, { column: C_SURNAME, bits: adjustments(features.surnameCounts) }],
  ]);
}

/** The model that scores pairs. Probabilities are per field, per level (lowest level first). */
export interface MatchModel {
  /** Share of all pairs of records that are matches (the prior). */
  lambda: number;
  /** Share of candidate pairs that are matches, as EM found it. */
  candidateLambda: number;
  /** Expected number of matching pairs. */
  expectedMatches: number;
  m: number[][];
  u: number[][];
  /** log2(m / u) per field and level, made non-decreasing in the level and bounded. */
  weights: number[][];
  /** log2(λ / (1 − λ)): the starting point of every pair's score. */
  priorWeight: number;
  iterations: number;
  converged: boolean;
  termFrequency: ReadonlyMap<number, TermFrequency>;
}

/** Combines m from EM with chance agreement u into the scoring model over all pairs of `records`. */
export function computeMatchModel(
  estimate: LatentClassEstimate,
  u: number[][],
  counts: { records: number; candidates: number },
  termFrequency: ReadonlyMap<number, TermFrequency>,
): MatchModel {
  const allPairs = Math.max(1, (counts.records * (counts.records - 1)) / 2);
  const expectedMatches = Math.max(0.5, estimate.lambda * counts.candidates);
  const lambda = Math.min(0.5, expectedMatches / allPairs);
  const weights = estimate.m.map((mf, f) =>
    monotone(
      mf.map((value, l) => {
        const w = Math.log2(value / Math.max(u[f]?.[l] ?? FLOOR, 1e-12));
        return Math.max(-WEIGHT_LIMIT, Math.min(WEIGHT_LIMIT, w));
      }),
      // Closer agreement is never weaker evidence; where the estimates say otherwise (a level seen
      // only a few times), adjacent levels are pooled by how often they occur among candidates.
      estimate.levelMass[f] ?? [],
    ),
  );
  return {
    lambda,
    candidateLambda: estimate.lambda,
    expectedMatches,
    m: estimate.m,
    u,
    weights,
    priorWeight: Math.log2(lambda / (1 - lambda)),
    iterations: estimate.iterations,
    converged: estimate.converged,
    termFrequency,
  };
}

/**
 * Score of one comparison vector in bits (log2 odds of a match): the prior plus every field's weight,
 * with exact name agreement adjusted by the name's frequency.
 */
export function computePairScore(
  model: MatchModel,
  features: RecordFeatures,
  a: number,
  levels: Uint8Array,
  offset: number,
  swapped: boolean,
): number {
  let score = model.priorWeight;
  for (let f = 0; f < FIELD_COUNT; f++) {
    const level = levels[offset + f] ?? MISSING;
    if (level === MISSING) continue;
    score += model.weights[f]?.[level] ?? 0;
    if (level === (LEVEL_COUNTS[f] ?? 0) - 1 && !swapped) score += termFrequencyBits(model, features, f, a);
  }
  return score;
}

function termFrequencyBits(model: MatchModel, features: RecordFeatures, field: number, a: number): number {
  const tf = model.termFrequency.get(field);
  if (tf === undefined) return 0;
  const value = features.columns[tf.column]?.ids[a] ?? -1;
  return value >= 0 ? (tf.bits[value] ?? 0) : 0;
}

/** The probability of a match from a score in bits. */
export function probabilityOf(score: number): number {
  return 1 / (1 + 2 ** -score);
}

/** What one field contributed to a pair's score. */
export interface FieldContribution {
  field: MatchField;
  /** The comparison level, or `missing` when either record lacks the field. */
  level: string;
  /** Bits of evidence (positive for a match), including any term-frequency adjustment. */
  weight: number;
  /** How the parts compared, for composite fields (the address). */
  detail?: string;
}

/** Why two records were (or were not) matched: the prior, each field's weight, and the result. */
export interface MatchExplanation {
  prior: number;
  fields: FieldContribution[];
  /** Given and family names were compared crosswise (written the other way round on one record). */
  namesSwapped: boolean;
  score: number;
  probability: number;
}

const round = (value: number) => Math.round(value * 1000) / 1000;

/** Explains a pair's score field by field; `detail` describes composite fields where known. */
export function explainPair(
  model: MatchModel,
  features: RecordFeatures,
  pair: { a: number; levels: Uint8Array; offset: number; swapped: boolean },
  detail?: (field: MatchField) => string | undefined,
): MatchExplanation {
  const fields: FieldContribution[] = [];
  let score = model.priorWeight;
  for (let f = 0; f < FIELD_COUNT; f++) {
    const field = MATCH_FIELDS[f] as MatchField;
    const level = pair.levels[pair.offset + f] ?? MISSING;
    if (level === MISSING) {
      fields.push({ field, level: 'missing', weight: 0 });
      continue;
    }
    let weight = model.weights[f]?.[level] ?? 0;
    if (level === (LEVEL_COUNTS[f] ?? 0) - 1 && !pair.swapped)
      weight += termFrequencyBits(model, features, f, pair.a);
    score += weight;
    const text = detail?.(field);
    fields.push({
      field,
      level: FIELD_LEVELS[field][level] ?? String(level),
      weight: round(weight),
      ...(text === undefined ? {} : { detail: text }),
    });
  }
  return {
    prior: round(model.priorWeight),
    fields,
    namesSwapped: pair.swapped,
    score: round(score),
    probability: probabilityOf(score),
  };
}
