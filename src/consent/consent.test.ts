import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type ConsentFacts, type ConsentRecord, mergeConsentFacts, projectConsentLedger } from './consent.ts';

function record(
  partial: Partial<ConsentRecord> & Pick<ConsentRecord, 'id' | 'status' | 'effectiveFrom'>,
): ConsentRecord {
  return {
    customerId: 'c',
    purpose: 'marketing',
    channel: null,
    explicit: false,
    lawfulBasis: 'consent',
    noticeVersion: null,
    evidence: null,
    source: 'api',
    capturedBy: 'test',
    expiresAt: null,
    recordedAt: partial.effectiveFrom,
    ...partial,
  };
}

describe('consent ledger', () => {
  it('projects the latest effective record per purpose and channel', () => {
    const current = projectConsentLedger([
      record({ id: '1', status: 'granted', effectiveFrom: '2024-01-01T00:00:00.000Z' }),
      record({ id: '2', status: 'withdrawn', effectiveFrom: '2024-03-01T00:00:00.000Z' }),
      // Recorded later but effective earlier: a backfill does not override the withdrawal.
      record({
        id: '3',
        status: 'granted',
        effectiveFrom: '2024-02-01T00:00:00.000Z',
        recordedAt: '2024-04-01T00:00:00.000Z',
      }),
      record({ id: '4', status: 'granted', channel: 'email', effectiveFrom: '2024-01-05T00:00:00.000Z' }),
    ]);
    expect(current.map((c) => [c.purpose, c.channel, c.status, c.recordId])).toEqual([
      ['marketing', null, 'withdrawn', '2'],
      ['marketing', 'email', 'granted', '4'],
    ]);
  });

  it('a merge keeps the most restrictive state, so a withdrawal is never resurrected', () => {
    const facts = fc.record({
      status: fc.constantFrom('granted', 'denied', 'withdrawn'),
      explicit: fc.boolean(),
      expiresAt: fc.option(fc.constantFrom('2025-01-01T00:00:00.000Z', '2030-01-01T00:00:00.000Z'), {
        nil: null,
      }),
    }) as fc.Arbitrary<ConsentFacts>;
    fc.assert(
      fc.property(facts, facts, (a, b) => {
        const merged = mergeConsentFacts(a, b);
        expect(mergeConsentFacts(b, a)).toEqual(merged);
        if (a.status === 'withdrawn' || b.status === 'withdrawn') expect(merged.status).toBe('withdrawn');
        else if (a.status === 'denied' || b.status === 'denied') expect(merged.status).toBe('denied');
        else {
          expect(merged.explicit).toBe(a.explicit && b.explicit);
          const expiries = [a.expiresAt, b.expiresAt].filter((e) => e !== null).sort();
          expect(merged.expiresAt).toBe(expiries[0] ?? null);
        }
      }),
    );
  });
});
