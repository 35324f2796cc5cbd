import {
  ARCHETYPES,
  type Archetype,
  computeArchetype,
  computeDimensions,
  DEFAULT_INTENSITY_NORM,
  DEFAULT_RULE_TABLE,
  type Disclosure,
  type Signal,
} from '../src/relationships/index.ts';
import { generateWorld, type SyntheticInteraction } from '../src/synthetic/index.ts';

/**
 * Recovery of the synthetic world's relationship personas: the confusion matrix of planted persona
 * against assigned archetype, and per-class and macro F1 over the planted people.
 */

/** A confusion matrix with per-class precision, recall and F1 and their macro average. */
export interface Recovery {
  planted: number;
  /** matrix[persona][archetype] = people. */
  matrix: Record<string, Record<string, number>>;
  perClass: Record<string, { precision: number; recall: number; f1: number; support: number }>;
  macroF1: number;
}

/** Scores (persona, archetype) pairs: classes are the personas planted. */
export function scoreRecovery(pairs: readonly { persona: string; archetype: string }[]): Recovery {
  const matrix: Record<string, Record<string, number>> = {};
  for (const { persona, archetype } of pairs) {
    matrix[persona] ??= {};
    const row = matrix[persona] as Record<string, number>;
    row[archetype] = (row[archetype] ?? 0) + 1;
  }
  const classes = Object.keys(matrix).sort();
  const perClass: Recovery['perClass'] = {};
  for (const c of classes) {
    const tp = matrix[c]?.[c] ?? 0;
    const support = Object.values(matrix[c] ?? {}).reduce((a, b) => a + b, 0);
    const predicted = classes.reduce((n, p) => n + (matrix[p]?.[c] ?? 0), 0);
    const precision = predicted === 0 ? 0 : tp / predicted;
    const recall = support === 0 ? 0 : tp / support;
    const f1 = precision + recall === 0 ? 0 : (2 * precision * recall) / (precision + recall);
    perClass[c] = { precision, recall, f1, support };
  }
  const macroF1 = classes.reduce((n, c) => n + (perClass[c]?.f1 ?? 0), 0) / Math.max(1, classes.length);
  return { planted: pairs.length, matrix, perClass, macroF1 };
}

/** The matrix as text: one row per planted persona, one column per archetype. */
export function formatRecovery(recovery: Recovery): string {
  const columns = ARCHETYPES.filter((a) => Object.values(recovery.matrix).some((row) => (row[a] ?? 0) > 0));
  const head = `${'planted \\ assigned'.padEnd(20)}${columns.map((c) => c.slice(0, 10).padStart(11)).join('')}      F1`;
  const rows = Object.entries(recovery.matrix).map(
    ([persona, row]) =>
      `${persona.padEnd(20)}${columns.map((c) => String(row[c] ?? 0).padStart(11)).join('')}  ${(recovery.perClass[persona]?.f1 ?? 0).toFixed(3)}`,
  );
  return [head, ...rows, `macro-F1 ${recovery.macroF1.toFixed(3)} over ${recovery.planted} planted people`].join('\n');
}

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
export function recoverFromTruth(options: { seed: string; customers: number }): Recovery {
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
    pairs.push({ persona: person.persona, archetype: computeArchetype(DEFAULT_RULE_TABLE, dimensions).archetype });
  }
  return scoreRecovery(pairs);
}
