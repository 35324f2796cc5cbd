import { describe, expect, it } from 'vitest';
import { FIELD_COUNT, FIELD_LEVELS, MATCH_FIELDS, MISSING } from './features.ts';
import { estimateLatentClasses, monotone, probabilityOf } from './matcher.ts';
import { SeededRandom } from './random.ts';

const LEVELS = MATCH_FIELDS.map((f) => FIELD_LEVELS[f].length);

/** Known m and u per field: matches mostly agree, non-matches mostly do not, with some middle levels. */
function knownParameters(): { m: number[][]; u: number[][] } {
  const m = LEVELS.map((count, f) => {
    const top = 0.7 + 0.03 * f;
    const row = new Array<number>(count).fill((1 - top) / (count - 1));
    row[count - 1] = top;
    return row;
  });
  const u = LEVELS.map((count, f) => {
    const bottom = 0.75 + 0.02 * f;
    const row = new Array<number>(count).fill((1 - bottom) / (count - 1));
    row[0] = bottom;
    return row;
  });
  return { m, u };
}

function draw(random: SeededRandom, probabilities: readonly number[]): number {
  let r = random.next();
  for (let l = 0; l < probabilities.length; l++) {
    r -= probabilities[l] ?? 0;
    if (r < 0) return l;
  }
  return probabilities.length - 1;
}

describe('estimateLatentClasses', () => {
  it('recovers known m, u and λ from simulated comparison vectors, without labels', () => {
    const { m, u } = knownParameters();
    const lambda = 0.2;
    const pairs = 60_000;
    const random = new SeededRandom(7);
    const levels = new Uint8Array(pairs * FIELD_COUNT);
    for (let p = 0; p < pairs; p++) {
      const match = random.chance(lambda);
      for (let f = 0; f < FIELD_COUNT; f++) {
        // Some values are missing, as in real records; they must not bias the estimates.
        levels[p * FIELD_COUNT + f] = random.chance(0.1) ? MISSING : draw(random, (match ? m : u)[f] ?? []);
      }
    }
    const estimate = estimateLatentClasses(levels, pairs);
    expect(estimate.converged).toBe(true);
    expect(estimate.lambda).toBeCloseTo(lambda, 2);
    for (let f = 0; f < FIELD_COUNT; f++) {
      for (let l = 0; l < (LEVELS[f] ?? 0); l++) {
        expect(Math.abs((estimate.m[f]?.[l] ?? 0) - (m[f]?.[l] ?? 0))).toBeLessThan(0.02);
        expect(Math.abs((estimate.u[f]?.[l] ?? 0) - (u[f]?.[l] ?? 0))).toBeLessThan(0.02);
      }
    }
  });
});

describe('monotone', () => {
  it('pools adjacent levels that decrease, weighted by how often they occur', () => {
    expect(monotone([-3, 5, 4, 6], [100, 10, 30, 50])).toEqual([-3, 4.25, 4.25, 6]);
    expect(monotone([1, 2, 3], [1, 1, 1])).toEqual([1, 2, 3]);
  });
});

describe('probabilityOf', () => {
  it('turns bits of evidence into a probability', () => {
    expect(probabilityOf(0)).toBe(0.5);
    expect(probabilityOf(10)).toBeCloseTo(1024 / 1025, 10);
    expect(probabilityOf(-10)).toBeCloseTo(1 / 1025, 10);
  });
});
