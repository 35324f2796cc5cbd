import { describe, expect, it } from 'vitest';
import { BASE_TAXONOMY, type IntimacyLevel, resolveCategory } from '../policy/index.ts';
import { type BehaviourCount, deriveFacts } from './derive.ts';
import {
  decideStorage,
  FACT_KEYS,
  factKeyOf,
  memoryHold,
  normaliseFactValue,
  parsePartialDate,
  type SourceKind,
} from './fact.ts';

function category(name: string) {
  const found = resolveCategory(BASE_TAXONOMY, name);
  if (!found) throw new Error(`no category ${name}`);
  return found;
}

/**
 * What is stored, per intimacy level × source kind × category (SPEC §6 table, §5.1 policies). Each cell:
 * the memory level when stored, or the refusal code.
 */
const STORAGE_TABLE: ReadonlyArray<{
  category: string;
  consent: string[];
  expect: Record<SourceKind, number | string>;
}> = [
  // Operational preferences: remembered from "know my basics" (1).
  {
    category: 'preference.receipt',
    consent: [],
    expect: { declared: 1, observed: 1, derived: 1, inferred: 4 },
  },
  // Personal facts: from "remember the little things" (2), only when declared (an inference is a question).
  {
    category: 'personal.household',
    consent: [],
    expect: { declared: 2, observed: 'FACT_NOT_DECLARED', derived: 'FACT_NOT_DECLARED', inferred: 4 },
  },
  // Life events: from "reach out when it matters" (3), only when declared.
  {
    category: 'life_event',
    consent: [],
    expect: { declared: 3, observed: 'FACT_NOT_DECLARED', derived: 'FACT_NOT_DECLARED', inferred: 4 },
  },
  // Behavioural: derived at 1 and above; its intimacy binds outreach only, not memory.
  {
    category: 'behavioral.order_day',
    consent: [],
    expect: { declared: 0, observed: 0, derived: 1, inferred: 4 },
  },
  // Special categories: declared with explicit consent for stated purposes, never otherwise.
  {
    category: 'special.religion',
    consent: ['service'],
    expect: {
      declared: 0,
      observed: 'FACT_SPECIAL_CATEGORY',
      derived: 'FACT_SPECIAL_CATEGORY',
      inferred: 'FACT_SPECIAL_CATEGORY',
    },
  },
  {
    category: 'special.health',
    consent: [],
    expect: {
      declared: 'FACT_SPECIAL_CATEGORY',
      observed: 'FACT_SPECIAL_CATEGORY',
      derived: 'FACT_SPECIAL_CATEGORY',
      inferred: 'FACT_SPECIAL_CATEGORY',
    },
  },
  // Do-not-store and hash-only: never a fact.
  {
    category: 'financial.card',
    consent: [],
    expect: {
      declared: 'POLICY_DO_NOT_STORE',
      observed: 'POLICY_DO_NOT_STORE',
      derived: 'POLICY_DO_NOT_STORE',
      inferred: 'POLICY_DO_NOT_STORE',
    },
  },
  {
    category: 'government_id.passport',
    consent: [],
    expect: {
      declared: 'POLICY_DO_NOT_STORE',
      observed: 'POLICY_DO_NOT_STORE',
      derived: 'POLICY_DO_NOT_STORE',
      inferred: 'POLICY_DO_NOT_STORE',
    },
  },
];

describe('what a fact may be stored as (intimacy × source kind × category)', () => {
  for (const row of STORAGE_TABLE) {
    for (const kind of ['declared', 'observed', 'derived', 'inferred'] as const) {
      for (const level of [0, 1, 2, 3, 4] as IntimacyLevel[]) {
        const expected = row.expect[kind];
        const outcome = typeof expected === 'number' && level < expected ? 'FACT_ABOVE_INTIMACY' : expected;
        it(`${row.category} ${kind} at level ${level}: ${outcome}`, () => {
          const decision = decideStorage(category(row.category), kind, row.consent, level);
          if (typeof outcome === 'number') expect(decision).toEqual({ ok: true, minIntimacy: outcome });
          else expect(decision.ok ? 'stored' : decision.refusal.code).toBe(outcome);
        });
      }
    }
  }
});

describe('fact values', () => {
  const def = (key: string) => {
    const found = factKeyOf(key, BASE_TAXONOMY, []);
    if (!found) throw new Error(key);
    return found;
  };

  it('every catalog key resolves to a category of the base taxonomy', () => {
    for (const key of FACT_KEYS) expect(resolveCategory(BASE_TAXONOMY, key.category), key.key).toBeDefined();
  });

  it('reads partial dates with and without a year, and refuses days that do not exist', () => {
    expect(parsePartialDate('--02-29', 'value')).toEqual({ ok: true, value: { month: 2, day: 29 } });
    expect(parsePartialDate({ month: 12, day: 24, label: 'anniversary' }, 'value')).toMatchObject({
      ok: true,
    });
    expect(parsePartialDate('2024-02-29', 'value')).toEqual({
      ok: true,
      value: { month: 2, day: 29, year: 2024 },
    });
    expect(parsePartialDate({ month: 2, day: 31 }, 'value')).toMatchObject({
      ok: false,
      problems: [{ path: 'value.day' }],
    });
    expect(parsePartialDate('2023-02-29', 'value')).toMatchObject({
      ok: false,
      problems: [{ path: 'value.day' }],
    });
    expect(parsePartialDate({ month: 13, day: 1 }, 'value')).toMatchObject({
      ok: false,
      problems: [{ path: 'value.month' }],
    });
    expect(parsePartialDate({ month: 1, day: 1, colour: 'red' }, 'value')).toMatchObject({
      ok: false,
      problems: [{ path: 'value.colour' }],
    });
  });

  it('checks each type and names the JSON path', () => {
    expect(normaliseFactValue(def('receipt'), 'Paper', 'value')).toEqual({ ok: true, value: 'paper' });
    expect(normaliseFactValue(def('receipt'), 3, 'value')).toMatchObject({
      ok: false,
      problems: [{ path: 'value' }],
    });
    expect(normaliseFactValue(def('language'), 'es_mx', 'value')).toEqual({ ok: true, value: 'es-MX' });
    expect(
      normaliseFactValue(def('household_member'), { name: 'Mia', relation: 'Daughter' }, 'value'),
    ).toEqual({
      ok: true,
      value: { name: 'Mia', relation: 'daughter' },
    });
    expect(
      normaliseFactValue(def('life_event'), { event: 'moved_house', date: '--02-31' }, 'v'),
    ).toMatchObject({
      ok: false,
      problems: [{ path: 'v.date.day' }],
    });
    expect(normaliseFactValue(def('interest'), 'card 4111 1111 1111 1111 please', 'value')).toMatchObject({
      ok: true,
      value: expect.not.stringContaining('4111 1111 1111 1111'),
    });
    expect(factKeyOf('contact_channel', BASE_TAXONOMY, [])?.key).toBe('channel');
    expect(factKeyOf('favourite_colour', BASE_TAXONOMY, [])).toBeUndefined();
  });
});

describe('memory on read', () => {
  const now = new Date('2026-06-01T00:00:00Z');
  const service = { name: 'service', outreach: false };
  const marketing = { name: 'marketing', outreach: true };
  const fact = { status: 'active' as const, minIntimacy: 2 as const, expiresAt: null };

  it('hides a fact above a lowered level at once, and stale facts from outreach only', () => {
    expect(memoryHold(fact, undefined, 2, service, now)).toBeNull();
    expect(memoryHold(fact, undefined, 1, service, now)).toBe('INTIMACY_LOWERED');
    const stale = { ...fact, expiresAt: '2026-05-01T00:00:00Z' };
    expect(memoryHold(stale, undefined, 2, service, now)).toBeNull();
    expect(memoryHold(stale, undefined, 2, marketing, now)).toBe('FACT_STALE');
    expect(memoryHold({ ...fact, status: 'forgotten' }, undefined, 4, service, now)).toBe('FACT_STATUS');
    expect(memoryHold(fact, { purposes: ['service'] }, 4, { name: 'billing', outreach: false }, now)).toBe(
      'FACT_NOT_FOR_PURPOSE',
    );
  });
});

describe('derivation from behaviour', () => {
  /** A generated purchase history: receipts drawn so that exactly `paper` of `total` are paper. */
  function history(customerId: string, paper: number, total: number, seed: number): BehaviourCount[] {
    const values: string[] = [];
    let state = seed;
    for (let i = 0; i < total; i++) values.push(i < paper ? 'paper' : 'email');
    // Shuffle (a small linear congruential generator: the order must not matter).
    for (let i = values.length - 1; i > 0; i--) {
      state = (state * 1103515245 + 12345) % 2 ** 31;
      const j = state % (i + 1);
      [values[i], values[j]] = [values[j] as string, values[i] as string];
    }
    const counts = new Map<string, string[]>();
    values.forEach((v, i) => {
      counts.set(v, [...(counts.get(v) ?? []), `i-${customerId}-${i}`]);
    });
    return [...counts].map(([value, ids]) => ({
      customerId,
      behaviour: 'receipt',
      value,
      count: ids.length,
      interactionIds: ids.reverse(),
    }));
  }

  it('says "asks for a paper receipt 9 times out of 10", with its evidence', () => {
    const [fact] = deriveFacts(history('c1', 9, 10, 42));
    expect(fact).toMatchObject({
      customerId: 'c1',
      key: 'receipt',
      value: 'paper',
      confidence: 0.9,
      evidence: { count: 9, of: 10, statement: 'asks for a paper receipt 9 times out of 10' },
    });
    expect(fact?.evidence.interactionIds).toHaveLength(9);
  });

  it('says nothing on too few observations or without a clear habit', () => {
    expect(deriveFacts(history('c2', 4, 4, 1))).toEqual([]);
    expect(deriveFacts(history('c3', 6, 10, 7))).toEqual([]);
    expect(deriveFacts(history('c4', 7, 10, 9))).toHaveLength(1);
  });
});
