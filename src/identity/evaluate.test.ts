import { describe, expect, it } from 'vitest';
import {
  computeClusteringScores,
  computePairwiseScores,
  evaluateFebrlClusters,
  findFebrlEntity,
  readClusterAssignments,
} from './evaluate.ts';

describe('computePairwiseScores', () => {
  it('counts each unordered pair once', () => {
    // Truth: {0,1,2} {3}; predicted: {0,1} {2,3}.
    const scores = computePairwiseScores(['a', 'a', 'a', 'b'], [1, 1, 2, 2]);
    expect(scores).toMatchObject({ truePairs: 3, predictedPairs: 2, truePositives: 1, falsePositives: 1 });
    expect(scores.falseNegatives).toBe(2);
    expect(scores.precision).toBe(0.5);
    expect(scores.recall).toBeCloseTo(1 / 3, 12);
    expect(scores.f1).toBeCloseTo(0.4, 12);
  });

  it('is perfect for the truth itself', () => {
    expect(computePairwiseScores([1, 1, 2], ['x', 'x', 'y']).f1).toBe(1);
  });
});

describe('FEBRL-style evaluation', () => {
  it('reads the person from the record id', () => {
    expect(findFebrlEntity('rec-12-org')).toBe('12');
    expect(findFebrlEntity('rec-12-dup-3')).toBe('12');
    expect(findFebrlEntity('customer-7')).toBeNull();
  });

  it('scores a clusters file and rejects foreign ids', () => {
    const text = 'record_id,cluster_id\nrec-1-org,1\nrec-1-dup-0,1\nrec-2-org,2\nrec-2-dup-0,3\n';
    const scores = evaluateFebrlClusters(readClusterAssignments(text));
    expect(scores).toMatchObject({ truePairs: 2, predictedPairs: 1, truePositives: 1 });
    expect(() => evaluateFebrlClusters(readClusterAssignments('record_id,cluster_id\nx,1\n'))).toThrow(
      expect.objectContaining({ code: 'FORMAT_INVALID' }),
    );
    expect(() => readClusterAssignments('id,cluster\n')).toThrow(
      expect.objectContaining({ code: 'FORMAT_INVALID' }),
    );
  });
});

describe('computeClusteringScores', () => {
  it('counts the clusters that mix people and the most people in one', () => {
    // People a (3 records), b (2), c (1); predicted: {a, a, b}, {a}, {b, c}.
    const scores = computeClusteringScores(['a', 'a', 'b', 'a', 'b', 'c'], [1, 1, 1, 2, 3, 3]);
    expect(scores).toMatchObject({ clusters: 3, people: 3, mixedClusters: 2, mostPeopleInOneCluster: 2 });
    // Predicted pairs: 3 + 0 + 1 = 4, of which one (the two a's) is true; true pairs: 3 + 1 = 4.
    expect(scores.predictedPairs).toBe(4);
    expect(scores.truePositives).toBe(1);
    expect(scores.precision).toBeCloseTo(0.25);
    expect(scores.recall).toBeCloseTo(0.25);
  });

  it('scores a perfect clustering as pure', () => {
    const scores = computeClusteringScores(['a', 'a', 'b'], ['x', 'x', 'y']);
    expect(scores).toMatchObject({ precision: 1, recall: 1, mixedClusters: 0, mostPeopleInOneCluster: 1 });
  });
});
