import { describe, expect, it } from 'vitest';
import { BUILT_IN_TYPES, validateInteraction } from '../src/interactions/index.ts';
import { generateWorld } from '../src/synthetic/index.ts';

// The generator speaks the ingest API's language: everything it produces passes ingest validation.
describe('synthetic interactions', () => {
  it('pass the ingest validation of every interaction type', () => {
    const world = generateWorld({ seed: 'ingest', customers: 400, policyProbeRate: 0.05 });
    const now = world.config.endMs;
    const problems: unknown[] = [];
    const types = new Set<string>();
    let n = 0;
    for (const interaction of world.interactions()) {
      const outcome = validateInteraction(interaction, `interactions[${n++}]`, now);
      if (!outcome.ok) problems.push({ interaction, problems: outcome.problems });
      types.add(interaction.type);
    }
    expect(problems.slice(0, 5)).toEqual([]);
    // The world speaks every built-in interaction type.
    expect([...types].sort()).toEqual(Object.keys(BUILT_IN_TYPES).sort());
  });
});
