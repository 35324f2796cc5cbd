import { parse } from 'csv-parse/sync';
import { invalid } from '../shared/errors.ts';

/**
 * Pairwise evaluation of a clustering against the truth: every pair of records placed in one cluster is
 * a predicted match, every pair of records of one person a true match; each unordered pair counts once.
 */

/** Pairwise precision, recall and F1, with the counts they come from. */
export interface PairwiseScores {
  records: number;
  truePairs: number;
  predictedPairs: number;
  truePositives: number;
  falsePositives: number;
  falseNegatives: number;
  precision: number;
  recall: number;
  f1: number;
}

function pairsIn(size: number): number {
  return (size * (size - 1)) / 2;
}

function countBy<T>(values: readonly T[]): Map<T, number> {
  const counts = new Map<T, number>();
  for (const v of values) counts.set(v, (counts.get(v) ?? 0) + 1);
  return counts;
}

/**
 * Scores a clustering: `truth[i]` and `predicted[i]` are record i's true entity and cluster. Pairs are
 * counted from group sizes, so the cost is linear in the number of records.
 */
export function computePairwiseScores(
  truth: readonly (string | number)[],
  predicted: readonly (string | number)[],
): PairwiseScores {
  if (truth.length !== predicted.length) {
    throw invalid('EVALUATION_INPUT_INVALID', 'Truth and prediction must have one entry per record.', {
      truth: truth.length,
      predicted: predicted.length,
    });
  }
  let truePairs = 0;
  for (const c of countBy(truth).values()) truePairs += pairsIn(c);
  let predictedPairs = 0;
  for (const c of countBy(predicted).values()) predictedPairs += pairsIn(c);
  let truePositives = 0;
  const joint = truth.map((t, i) => `${String(t)}\u0000${String(predicted[i])}`);
  for (const c of countBy(joint).values()) truePositives += pairsIn(c);
  const precision = predictedPairs === 0 ? 1 : truePositives / predictedPairs;
  const recall = truePairs === 0 ? 1 : truePositives / truePairs;
  const f1 = precision + recall === 0 ? 0 : (2 * precision * recall) / (precision + recall);
  return {
    records: truth.length,
    truePairs,
    predictedPairs,
    truePositives,
    falsePositives: predictedPairs - truePositives,
    falseNegatives: truePairs - truePositives,
    precision,
    recall,
    f1,
  };
}

/** Pairwise scores of a clustering, and how many of its clusters mix people. */
export interface ClusteringScores extends PairwiseScores {
  /** Clusters predicted (distinct values of the prediction). */
  clusters: number;
  /** People in the truth. */
  people: number;
  /** Predicted clusters holding records of more than one person. */
  mixedClusters: number;
  /** Most people in one predicted cluster (1 when none mixes). */
  mostPeopleInOneCluster: number;
}

/**
 * Scores a clustering against the truth (`truth[i]`, `predicted[i]`: record i's person and cluster):
 * pairwise precision, recall and F1, and the clusters that mix people — the failure a customer sees as
 * someone else's history on their record.
 */
export function computeClusteringScores(
  truth: readonly (string | number)[],
  predicted: readonly (string | number)[],
): ClusteringScores {
  const pairwise = computePairwiseScores(truth, predicted);
  const peopleOf = new Map<string | number, Set<string | number>>();
  predicted.forEach((cluster, i) => {
    const people = peopleOf.get(cluster) ?? new Set();
    people.add(truth[i] ?? '');
    peopleOf.set(cluster, people);
  });
  let mixedClusters = 0;
  let mostPeopleInOneCluster = predicted.length > 0 ? 1 : 0;
  for (const people of peopleOf.values()) {
    if (people.size > 1) mixedClusters++;
    mostPeopleInOneCluster = Math.max(mostPeopleInOneCluster, people.size);
  }
  return {
    ...pairwise,
    clusters: peopleOf.size,
    people: new Set(truth).size,
    mixedClusters,
    mostPeopleInOneCluster,
  };
}

const FEBRL_ID = /^rec-(\d+)-(?:org|dup-\d+)$/;

/** The person number of a FEBRL-style record id (`rec-N-org`, `rec-N-dup-k`), or null for other ids. */
export function findFebrlEntity(recordId: string): string | null {
  const match = FEBRL_ID.exec(recordId.trim());
  return match?.[1] ?? null;
}

/** One row of a clusters file. */
export interface ClusterAssignment {
  recordId: string;
  clusterId: string;
}

/** Reads a `record_id,cluster_id` CSV; throws FORMAT_INVALID when the header or a row is wrong. */
export function readClusterAssignments(text: string): ClusterAssignment[] {
  let table: string[][];
  try {
    table = parse(text, { bom: true, skip_empty_lines: true, trim: true });
  } catch (error) {
    throw invalid('FORMAT_INVALID', `The clusters file could not be read: ${(error as Error).message}`);
  }
  const [header, ...rows] = table;
  if (header?.[0] !== 'record_id' || header[1] !== 'cluster_id') {
    throw invalid('FORMAT_INVALID', 'The clusters file must start with the header record_id,cluster_id.', {
      header,
    });
  }
  return rows.map((row) => ({ recordId: row[0] ?? '', clusterId: row[1] ?? '' }));
}

/**
 * Scores FEBRL-style clusters (the truth is in the record ids). Throws FORMAT_INVALID naming the first
 * id that is not FEBRL-style, and RECORD_ID_DUPLICATE for an id listed twice.
 */
export function evaluateFebrlClusters(assignments: readonly ClusterAssignment[]): PairwiseScores {
  const truth: string[] = [];
  const predicted: string[] = [];
  const seen = new Set<string>();
  for (const { recordId, clusterId } of assignments) {
    const entity = findFebrlEntity(recordId);
    if (entity === null) {
      throw invalid(
        'FORMAT_INVALID',
        `The record id "${recordId}" is not FEBRL-style (rec-N-org, rec-N-dup-k).`,
        {
          recordId,
        },
      );
    }
    if (seen.has(recordId)) {
      throw invalid('RECORD_ID_DUPLICATE', `The record id "${recordId}" is listed twice.`, { recordId });
    }
    seen.add(recordId);
    truth.push(entity);
    predicted.push(clusterId);
  }
  return computePairwiseScores(truth, predicted);
}
