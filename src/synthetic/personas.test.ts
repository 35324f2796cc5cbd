import { describe, expect, it } from 'vitest';
import { RELATIONSHIP_PERSONAS } from './personas.ts';
import { generateWorld } from './world.ts';

describe('relationship personas', () => {
  it('are planted in a share of people, every kind present in a world of a few thousand', () => {
    const world = generateWorld({ seed: 'personas', customers: 4000 });
    const counts = new Map<string, number>();
    for (const c of world.customers()) {
      if (c.persona !== undefined) counts.set(c.persona, (counts.get(c.persona) ?? 0) + 1);
    }
    const total = [...counts.values()].reduce((a, b) => a + b, 0);
    expect(total).toBeGreaterThan(4000 * 0.04 * 0.6);
    expect(total).toBeLessThan(4000 * 0.04 * 1.4);
    for (const persona of RELATIONSHIP_PERSONAS) expect(counts.get(persona), persona).toBeGreaterThan(0);
  });

  it('leave everyone without a persona exactly as a world without personas makes them', () => {
    const options = { seed: 'additive', customers: 400 };
    const withPersonas = generateWorld(options);
    const without = generateWorld({ ...options, personaShare: 0 });
    let planted = 0;
    for (let i = 0; i < 400; i++) {
      const person = withPersonas.customer(i);
      const a = [...withPersonas.interactions({ from: i, to: i + 1 })];
      const b = [...without.interactions({ from: i, to: i + 1 })];
      if (person.persona === undefined) {
        expect(person).toEqual(without.customer(i));
        expect(a).toEqual(b);
      } else {
        planted++;
        // The persona's interactions come on top of the person's own.
        expect(a.length).toBeGreaterThanOrEqual(b.length);
      }
    }
    expect(planted).toBeGreaterThan(0);
  });
});
