import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  type ConsentStateImage,
  computeInteractionSide,
  computeLearnedDecisions,
  computeSurvivingValue,
  type FieldCandidate,
  findGuardConflict,
  mergeConsentStates,
} from './merge.ts';

const TRUST = ['rectification', 'document', 'portal', 'billing', 'api'];

function candidate(partial: Partial<FieldCandidate>): FieldCandidate {
  return {
    side: 'survivor',
    rowId: 'r',
    value: 'x',
    source: 'api',
    capturedAt: '2024-01-01T00:00:00.000000Z',
    recordedAt: '2024-01-01T00:00:00.000000Z',
    ...partial,
  };
}

describe('computeSurvivingValue', () => {
  it('prefers the more trusted source over a more recent one', () => {
    const winner = computeSurvivingValue(
      [
        candidate({ side: 'survivor', value: 'Jon', source: 'pos', capturedAt: '2025-01-01T00:00:00Z' }),
        candidate({ side: 'absorbed', value: 'John', source: 'billing', capturedAt: '2020-01-01T00:00:00Z' }),
      ],
      TRUST,
    );
    expect(winner?.value).toBe('John');
  });

  it('between equally trusted sources takes the most recently captured, then the survivor', () => {
    const older = candidate({
      side: 'survivor',
      value: 'A',
      source: 'pos',
      capturedAt: '2020-01-01T00:00:00Z',
    });
    const newer = candidate({
      side: 'absorbed',
      value: 'B',
      source: 'crm',
      capturedAt: '2021-01-01T00:00:00Z',
    });
    expect(computeSurvivingValue([older, newer], TRUST)?.value).toBe('B');
    const tie = candidate({ side: 'absorbed', value: 'C', source: 'pos', capturedAt: older.capturedAt });
    expect(computeSurvivingValue([tie, older], TRUST)?.value).toBe('A');
  });

  it('is undefined without candidates and independent of their order', () => {
    expect(computeSurvivingValue([], TRUST)).toBeUndefined();
    fc.assert(
      fc.property(
        fc.array(
          fc.record({
            value: fc.constantFrom('a', 'b', 'c'),
            source: fc.constantFrom('api', 'pos', 'document', 'rectification', 'crm'),
            capturedAt: fc.constantFrom('2020', '2021', '2022'),
            side: fc.constantFrom('survivor' as const, 'absorbed' as const),
          }),
          { minLength: 1, maxLength: 2 },
        ),
        (parts) => {
          const cs = parts.map((p, i) => candidate({ ...p, rowId: String(i), recordedAt: p.capturedAt }));
          if (cs.length === 2 && cs[0]?.side === cs[1]?.side) return;
          const forward = computeSurvivingValue(cs, TRUST);
          const backward = computeSurvivingValue([...cs].reverse(), TRUST);
          expect(forward?.value).toBe(backward?.value);
        },
      ),
    );
  });
});

const consentArb = fc.record({
  purpose: fc.constantFrom('marketing', 'analytics', 'personalization'),
  channel: fc.constantFrom('', 'email'),
  status: fc.constantFrom('granted' as const, 'denied' as const, 'withdrawn' as const),
  explicit: fc.boolean(),
  expiresAt: fc.constantFrom(null, '2030-01-01T00:00:00.000000Z', '2031-01-01T00:00:00.000000Z'),
  effectiveFrom: fc.constantFrom('2023-01-01T00:00:00.000000Z', '2024-01-01T00:00:00.000000Z'),
  recordId: fc.uuid(),
});

function dedupe(states: ConsentStateImage[]): ConsentStateImage[] {
  const seen = new Map<string, ConsentStateImage>();
  for (const s of states) seen.set(`${s.purpose}/${s.channel}`, s);
  return [...seen.values()];
}

describe('mergeConsentStates', () => {
  it('never resurrects a withdrawal or a denial, whichever side held it', () => {
    const rank = { granted: 0, denied: 1, withdrawn: 2 } as const;
    fc.assert(
      fc.property(fc.array(consentArb, { maxLength: 6 }), fc.array(consentArb, { maxLength: 6 }), (s, a) => {
        const survivor = dedupe(s);
        const absorbed = dedupe(a);
        const changed = mergeConsentStates(survivor, absorbed);
        const result = new Map(survivor.map((c) => [`${c.purpose}/${c.channel}`, c]));
        for (const c of changed) result.set(`${c.purpose}/${c.channel}`, c);
        for (const side of [survivor, absorbed]) {
          for (const c of side) {
            const merged = result.get(`${c.purpose}/${c.channel}`);
            expect(merged).toBeDefined();
            expect(rank[merged?.status ?? 'granted']).toBeGreaterThanOrEqual(rank[c.status]);
          }
        }
      }),
    );
  });

  it('keeps the narrower terms of two grants and returns only what changed', () => {
    const base: ConsentStateImage = {
      purpose: 'marketing',
      channel: '',
      status: 'granted',
      explicit: true,
      expiresAt: null,
      effectiveFrom: '2024-01-01T00:00:00.000000Z',
      recordId: 'r1',
    };
    const other = { ...base, explicit: false, expiresAt: '2030-01-01T00:00:00.000000Z', recordId: 'r2' };
    const [merged] = mergeConsentStates([base], [other]);
    expect(merged).toMatchObject({
      status: 'granted',
      explicit: false,
      expiresAt: '2030-01-01T00:00:00.000000Z',
    });
    expect(mergeConsentStates([base], [base])).toEqual([]);
  });
});

describe('computeInteractionSide', () => {
  it('sends an event to the absorbed side only when only it held an identity of the source', () => {
    const s = new Set(['pos']);
    const a = new Set(['web', 'pos']);
    expect(computeInteractionSide('web', s, a)).toBe('absorbed');
    expect(computeInteractionSide('pos', s, a)).toBe('survivor');
    expect(computeInteractionSide('billing', s, a)).toBe('survivor');
  });
});

describe('findGuardConflict', () => {
  it('refuses different ids of one kind and different verified birth dates, not different kinds', () => {
    const none = { governmentIds: new Map(), verifiedBirthDates: [] };
    const passport = { governmentIds: new Map([['passport', ['h1']]]), verifiedBirthDates: [] };
    const otherPassport = { governmentIds: new Map([['passport', ['h2']]]), verifiedBirthDates: [] };
    const national = { governmentIds: new Map([['national_id', ['h3']]]), verifiedBirthDates: [] };
    expect(findGuardConflict(passport, otherPassport)).toEqual({
      reason: 'GOVERNMENT_ID_DIFFERS',
      kind: 'passport',
    });
    expect(findGuardConflict(passport, passport)).toBeNull();
    expect(findGuardConflict(passport, national)).toBeNull();
    expect(findGuardConflict(none, passport)).toBeNull();
    expect(
      findGuardConflict(
        { governmentIds: new Map(), verifiedBirthDates: ['1980-01-01'] },
        { governmentIds: new Map(), verifiedBirthDates: ['1980-01-02'] },
      ),
    ).toEqual({ reason: 'VERIFIED_BIRTH_DATE_DIFFERS' });
  });
});

describe('computeLearnedDecisions', () => {
  it('keeps the latest label per pair and learns unanimous patterns from three labels', () => {
    const levels = { givenName: 'exact', surname: 'close' };
    const labels = [
      { customerA: 'a', customerB: 'b', label: 'match' as const, levels, decidedAt: '1' },
      { customerA: 'a', customerB: 'b', label: 'non_match' as const, levels: null, decidedAt: '2' },
      { customerA: 'c', customerB: 'd', label: 'match' as const, levels, decidedAt: '3' },
      { customerA: 'e', customerB: 'f', label: 'match' as const, levels, decidedAt: '4' },
      { customerA: 'g', customerB: 'h', label: 'non_match' as const, levels: { x: 'y' }, decidedAt: '5' },
    ];
    const learned = computeLearnedDecisions(labels);
    expect(learned.pairs.get('a:b')).toBe('non_match');
    expect(learned.patterns.get('givenName=exact|surname=close')).toBe('match');
    expect(learned.patterns.get('x=y')).toBeUndefined();
    const contradicted = computeLearnedDecisions([
      ...labels,
      { customerA: 'i', customerB: 'j', label: 'non_match', levels, decidedAt: '6' },
    ]);
    expect(contradicted.patterns.size).toBe(0);
  });
});
