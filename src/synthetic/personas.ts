/**
 * Relationship personas planted in the world, so relationship intelligence can be shown and measured:
 * a share of people (`personaShare`) is given a persona, chosen among those their history allows (a
 * newcomer must be new; a drifting regular, a buddy and a best friend need more than a year), and the
 * persona's interactions are added to the person's own (events.ts). The choice draws from a stream of
 * its own, so people without a persona are exactly what they were without personas.
 */
import type { WorldContext } from './context.ts';
import { Rng } from './random.ts';
import type { SourceSystem } from './types.ts';

/** The personas, named as the archetypes they should be recognised as. */
export const RELATIONSHIP_PERSONAS = [
  'adversary',
  'captive',
  'drifting_ex_friend',
  'newcomer',
  'business_partner',
  'buddy',
  'best_friend',
] as const;

/** A relationship persona. */
export type RelationshipPersona = (typeof RELATIONSHIP_PERSONAS)[number];

/** The random stream personas are chosen from (people 1, events 2). */
export const PERSONA_STREAM = 3;

const DAY_MS = 86_400_000;

/** What the choice reads of a person. */
export interface PersonaCandidate {
  index: number;
  acquiredMs: number;
  records: readonly { source: SourceSystem; createdMs: number }[];
  lifeEvents: readonly { declared: boolean }[];
}

/** The persona of a person, or undefined (most people). */
export function choosePersona(ctx: WorldContext, person: PersonaCandidate): RelationshipPersona | undefined {
  const { personaShare, seed, endMs } = ctx.config;
  if (personaShare <= 0) return undefined;
  const rng = new Rng(seed, person.index, PERSONA_STREAM);
  if (!rng.chance(personaShare)) return undefined;
  const tenureDays = (endMs - person.acquiredMs) / DAY_MS;
  if (tenureDays <= 90) return 'newcomer';
  const has = (source: SourceSystem, beforeDays = 0) =>
    person.records.some((r) => r.source === source && r.createdMs <= endMs - beforeDays * DAY_MS);
  // Weighted so the personas that need a rarer history (a membership, a long store habit) are not rare.
  const eligible: RelationshipPersona[] = [];
  const weights: number[] = [];
  const offer = (persona: RelationshipPersona, ok: boolean, weight: number) => {
    if (!ok) return;
    eligible.push(persona);
    weights.push(weight);
  };
  offer('adversary', tenureDays >= 150, 1);
  offer('captive', tenureDays >= 200 && has('billing', 200), 6);
  offer('drifting_ex_friend', tenureDays >= 540 && has('pos', 480), 4);
  offer('business_partner', tenureDays >= 200, 1);
  offer('buddy', tenureDays >= 450 && !person.lifeEvents.some((e) => e.declared), 2);
  offer('best_friend', tenureDays >= 450, 1.5);
  return eligible.length === 0 ? undefined : rng.weighted(eligible, weights);
}
