import { describe, expect, it } from 'vitest';
import { isoSeconds } from './person.ts';
import { Rng } from './random.ts';

describe('isoSeconds', () => {
  it('agrees with the built-in formatter to the second, across centuries and leap days', () => {
    const rng = new Rng(4);
    const samples = [0, Date.UTC(2024, 1, 29, 23, 59, 59, 999), Date.UTC(2000, 11, 31), Date.UTC(1900, 0, 1)];
    for (let i = 0; i < 2000; i++) samples.push(Math.floor(rng.uniform(-2.2e12, 4.1e12)));
    const wrong = samples.filter(
      (ms) => isoSeconds(ms) !== `${new Date(Math.floor(ms / 1000) * 1000).toISOString().slice(0, 19)}Z`,
    );
    expect(wrong).toEqual([]);
  });
});
