import {
  type Archetype,
  computeArchetype,
  computeDimensions,
  computePersonaRecovery,
  DEFAULT_INTENSITY_NORM,
  DEFAULT_RULE_TABLE,
  type Disclosure,
  type PersonaRecovery,
  type Signal,
} from '../src/relationships/index.ts';
import { generateWorld, type SyntheticInteraction } from '../src/synthetic/index.ts';

/** The rules' recovery of the synthetic world's relationship personas from each person's true history. */

function signalOf(i: SyntheticInteraction): Signal {
  const p = i.properties as Record<string, unknown>;
  const n = (v: unknown) => (typeof v === 'number' ? v : null);
  const s = (v: unknown) => (typeof v === 'string' ? v : null);
  return {
    id: `${i.source}:${i.externalId}`,
    type: i.type,
    channel: i.channel,
    initiatedBy: i.initiatedBy,
    at: Date.parse(i.occurredAt),
    sentiment: null,
    score: n(p.score),
    rating: n(p.rating),
    severity: s(p.severity),
    subject: s(p.subject),
    outcome: s(p.outcome),
    direction: s(p.direction),
    event: s(p.event),
  };
}

function disclosureOf(i: SyntheticInteraction): Disclosure | undefined {
  const p = i.properties as Record<string, unknown>;
  const at = Date.parse(i.occurredAt);
  const interactionId = `${i.source}:${i.externalId}`;
  if (i.type === 'life_event_declared') {
    return { interactionId, kind: 'life_event', key: String(p.event), value: null, at };
  }
  if (i.type === 'preference_stated') {
    return { interactionId, kind: 'preference', key: String(p.key), value: p.value ?? null, at };
  }
  return undefined;
}

/**
 * The archetype the default rules give each planted person of a world, from their true history
 * (no identity resolution, no database): the rules' own recovery, before the product path.
 */
export function recoverFromTruth(options: { seed: string; customers: number }): PersonaRecovery {
  const world = generateWorld(options);
  const now = new Date(world.config.endMs);
  const pairs: { persona: string; archetype: Archetype }[] = [];
  for (const person of world.customers()) {
    if (person.persona === undefined) continue;
    const interactions = [...world.interactions({ from: person.index, to: person.index + 1 })];
    const { dimensions } = computeDimensions(
      interactions.map(signalOf),
      interactions.map(disclosureOf).filter((d): d is Disclosure => d !== undefined),
      { now, intensityNorm: DEFAULT_INTENSITY_NORM },
      DEFAULT_RULE_TABLE.highDemand,
    );
    pairs.push({
      persona: person.persona,
      archetype: computeArchetype(DEFAULT_RULE_TABLE, dimensions).archetype,
    });
  }
  return computePersonaRecovery(pairs);
}
