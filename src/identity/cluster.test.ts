import { describe, expect, it } from 'vitest';
import { computeClusters } from './cluster.ts';

function constraints(governmentId: number[], birthDate: number[] = [], verified: number[] = []) {
  const n = governmentId.length;
  return {
    governmentId: Int32Array.from(governmentId),
    governmentIdVerified: new Uint8Array(n),
    birthDate: Int32Array.from({ length: n }, (_, i) => birthDate[i] ?? -1),
    birthDateVerified: Uint8Array.from({ length: n }, (_, i) => verified[i] ?? 0),
  };
}

function edges(list: [number, number][]) {
  return { a: Uint32Array.from(list, ([a]) => a), b: Uint32Array.from(list, ([, b]) => b) };
}

describe('computeClusters', () => {
  it('joins records along matched pairs and numbers clusters by first record', () => {
    const result = computeClusters(
      5,
      edges([
        [0, 2],
        [2, 4],
      ]),
      constraints([-1, -1, -1, -1, -1]),
    );
    expect(Array.from(result.clusterOf)).toEqual([0, 1, 0, 2, 0]);
    expect(result.clusterCount).toBe(3);
  });

  it('refuses to chain two different government ids through a third record', () => {
    // 0 and 2 carry different ids; 1 has none and matches both: the second link is refused.
    const result = computeClusters(
      3,
      edges([
        [0, 1],
        [1, 2],
      ]),
      constraints([10, -1, 20]),
    );
    expect(result.clusterOf[0]).toBe(result.clusterOf[1]);
    expect(result.clusterOf[2]).not.toBe(result.clusterOf[0]);
    expect(result.refused).toEqual([1]);
  });

  it('allows differing ids when the records carrying them matched directly (a mistyped id)', () => {
    const result = computeClusters(
      3,
      edges([
        [0, 2],
        [0, 1],
        [1, 2],
      ]),
      constraints([10, -1, 20]),
    );
    expect(new Set(result.clusterOf).size).toBe(1);
    expect(result.refused).toEqual([]);
  });

  it('never joins two different verified birth dates, even by a direct match', () => {
    const result = computeClusters(2, edges([[0, 1]]), constraints([-1, -1], [5, 6], [1, 1]));
    expect(result.clusterOf[0]).not.toBe(result.clusterOf[1]);
    const unverified = computeClusters(2, edges([[0, 1]]), constraints([-1, -1], [5, 6], [1, 0]));
    expect(unverified.clusterOf[0]).toBe(unverified.clusterOf[1]);
  });
});

describe('computeClusters with pairwise conflicts and groups', () => {
  it('never chains two conflicting records through a third', () => {
    // 0–1 and 1–2 are matches, but 0 and 2 contradict each other: the second union is refused.
    const result = computeClusters(
      3,
      edges([
        [0, 1],
        [1, 2],
      ]),
      { ...constraints([-1, -1, -1]), conflicts: (a, b) => (a === 0 && b === 2) || (a === 2 && b === 0) },
    );
    expect(result.clusterOf[0]).toBe(result.clusterOf[1]);
    expect(result.clusterOf[2]).not.toBe(result.clusterOf[0]);
    expect(result.refused).toEqual([1]);
  });

  it('starts records of one group in one cluster', () => {
    const group = Int32Array.from([7, -1, 7, -1]);
    const result = computeClusters(4, edges([[1, 3]]), { ...constraints([-1, -1, -1, -1]), group });
    expect(Array.from(result.clusterOf)).toEqual([0, 1, 0, 1]);
  });
});
