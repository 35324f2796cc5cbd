import { describe, expect, it } from 'vitest';
import { computeCandidatePairs } from './blocking.ts';
import { computeFeatures } from './features.ts';
import type { PersonRecord } from './records.ts';

function person(id: string, fields: Partial<PersonRecord>): PersonRecord {
  return {
    id,
    givenName: null,
    surname: null,
    birthDate: null,
    streetNumber: null,
    address1: null,
    address2: null,
    city: null,
    postcode: null,
    state: null,
    phone: null,
    email: null,
    governmentIdHash: null,
    ...fields,
  };
}

function pairs(records: PersonRecord[], options = {}): string[] {
  const c = computeCandidatePairs(computeFeatures(records), options);
  return Array.from(c.a, (a, k) => `${a}-${c.b[k]}`);
}

describe('computeCandidatePairs', () => {
  it('pairs records sharing a key, whatever else is corrupted, each pair once', () => {
    const base = {
      givenName: 'madeline',
      surname: 'mason',
      birthDate: '19761231',
      postcode: '2280',
      streetNumber: '7',
    };
    const records = [
      person('a', base),
      // Names swapped and birth date missing: the order-free name key still meets.
      person('b', { ...base, givenName: 'mason', surname: 'madeline', birthDate: null }),
      // Surname changed and postcode mistyped: the birth date still meets.
      person('c', { ...base, surname: 'birchby', postcode: '2208' }),
      // Nothing in common.
      person('d', { givenName: 'olga', surname: 'ivanova', birthDate: '19500101', postcode: '9999' }),
    ];
    // b and c share no key with each other: they meet only through a, which clustering joins.
    expect(pairs(records)).toEqual(['0-1', '0-2']);
  });

  it('compares an oversized block only within a window of neighbours', () => {
    const records = Array.from({ length: 50 }, (_, i) =>
      person(String(i), {
        givenName: 'ann',
        surname: 'lee',
        birthDate: `1980${String((i % 12) + 1).padStart(2, '0')}01`,
      }),
    );
    const all = pairs(records, { maxBlockSize: 100 });
    const capped = pairs(records, { maxBlockSize: 10, window: 3 });
    expect(capped.length).toBeLessThan(all.length);
    expect(capped.length).toBeGreaterThan(0);
  });

  it('compares linked records whatever their keys', () => {
    const records = [
      person('a', { givenName: 'Jonathan', surname: 'Campbelll' }),
      person('b', { givenName: 'Johnny', surname: 'Kempbell', city: 'San Jose' }),
    ];
    expect(pairs(records)).toEqual([]);
    expect(pairs(records, { linked: [[1, 0]] })).toEqual(['0-1']);
  });
});
