import { describe, expect, it } from 'vitest';
import { assessEvidence, isIdentityConflict, restsOnBirthDateAlone } from './evidence.ts';
import { FIELD_COUNT, FIELD_LEVELS, MATCH_FIELDS, type MatchField, MISSING } from './features.ts';

/** A comparison vector from level names; fields not named are missing on one side. */
function vector(levels: Partial<Record<MatchField, string>>): Uint8Array {
  const out = new Uint8Array(FIELD_COUNT).fill(MISSING);
  MATCH_FIELDS.forEach((field, f) => {
    const name = levels[field];
    if (name !== undefined) out[f] = FIELD_LEVELS[field].indexOf(name);
  });
  return out;
}

const names = { givenName: 'exact', surname: 'exact' } as const;

describe('assessEvidence', () => {
  it('never lets names alone decide', () => {
    expect(assessEvidence(vector(names), 0)).toBe('names_only');
    expect(assessEvidence(vector({ ...names, email: 'different' }), 0)).toBe('names_only');
  });

  it('lets names with one more agreeing field decide', () => {
    for (const extra of [
      { phone: 'exact' },
      { email: 'exact' },
      { email: 'close' },
      { address: 'close' },
      { birthDate: 'exact' },
      { governmentId: 'exact' },
    ]) {
      expect(assessEvidence(vector({ ...names, ...extra }), 0)).toBeNull();
    }
    expect(assessEvidence(vector({ ...names, address: 'area' }), 0)).toBe('names_only');
  });

  it('holds a shared contact point of records that disagree on who they are', () => {
    // Household members: one phone, one address, different people.
    const household = { surname: 'exact', phone: 'exact', address: 'exact' } as const;
    expect(assessEvidence(vector({ ...household, givenName: 'different' }), 0)).toBe('identity_conflict');
    expect(assessEvidence(vector({ ...household, givenName: 'exact', birthDate: 'different' }), 0)).toBe(
      'identity_conflict',
    );
    expect(assessEvidence(vector({ ...names, email: 'exact', governmentId: 'different' }), 0)).toBe(
      'identity_conflict',
    );
  });

  it('takes one mistyped identifier for a typo when the other identifier agrees', () => {
    expect(assessEvidence(vector({ ...names, birthDate: 'exact', governmentId: 'different' }), 0)).toBeNull();
    expect(assessEvidence(vector({ ...names, birthDate: 'different', governmentId: 'exact' }), 0)).toBeNull();
    // A given name that is not even a nickname, with the birth date agreeing: a typo, when a contact
    // point agrees too; the birth date alone is spent on outweighing the given name.
    const typo = { givenName: 'different', surname: 'exact', birthDate: 'exact' } as const;
    expect(assessEvidence(vector({ ...typo, email: 'exact' }), 0)).toBeNull();
    expect(assessEvidence(vector(typo), 0)).toBe('names_only');
    // A new surname (marriage) with everything else agreeing is the same person.
    expect(
      assessEvidence(vector({ givenName: 'exact', surname: 'different', phone: 'exact' }), 0),
    ).toBeNull();
  });

  it('reads the vector at its offset', () => {
    const two = new Uint8Array(FIELD_COUNT * 2);
    two.set(vector(names), 0);
    two.set(vector({ ...names, phone: 'exact' }), FIELD_COUNT);
    expect(assessEvidence(two, 0)).toBe('names_only');
    expect(assessEvidence(two, FIELD_COUNT)).toBeNull();
  });
});

describe('assessEvidence in a large customer base', () => {
  it('does not let a birth date one digit or a swap away corroborate names alone', () => {
    expect(assessEvidence(vector({ ...names, birthDate: 'near' }), 0)).toBe('names_only');
    expect(assessEvidence(vector({ ...names, birthDate: 'near', phone: 'exact' }), 0)).toBeNull();
  });

  it('does not let a phone shared by records whose emails or homes differ corroborate names', () => {
    expect(assessEvidence(vector({ ...names, phone: 'exact', email: 'different' }), 0)).toBe('names_only');
    expect(assessEvidence(vector({ ...names, phone: 'exact', address: 'different' }), 0)).toBe('names_only');
    expect(assessEvidence(vector({ ...names, phone: 'exact', address: 'area' }), 0)).toBe('names_only');
    expect(assessEvidence(vector({ ...names, phone: 'exact', address: 'partial' }), 0)).toBeNull();
    expect(
      assessEvidence(vector({ ...names, phone: 'exact', email: 'different', address: 'exact' }), 0),
    ).toBeNull();
  });
});

describe('isIdentityConflict', () => {
  it('is a different birth date or given name, not a differing government id alone', () => {
    expect(isIdentityConflict(vector({ ...names, birthDate: 'different' }), 0)).toBe(true);
    expect(isIdentityConflict(vector({ givenName: 'different', surname: 'exact' }), 0)).toBe(true);
    expect(isIdentityConflict(vector({ ...names, governmentId: 'different' }), 0)).toBe(false);
    expect(isIdentityConflict(vector({ ...names, phone: 'different' }), 0)).toBe(false);
  });
});

describe('assessEvidence on names and a birth date', () => {
  it('merges on names and a birth date unless the contact points both hold disagree', () => {
    expect(assessEvidence(vector({ ...names, birthDate: 'exact' }), 0)).toBeNull();
    expect(assessEvidence(vector({ ...names, birthDate: 'exact', phone: 'different' }), 0)).toBe(
      'names_only',
    );
    expect(assessEvidence(vector({ ...names, birthDate: 'exact', address: 'different' }), 0)).toBe(
      'names_only',
    );
    // A contact point that agrees settles it.
    expect(
      assessEvidence(vector({ ...names, birthDate: 'exact', phone: 'different', email: 'exact' }), 0),
    ).toBeNull();
  });
});

describe('restsOnBirthDateAlone', () => {
  it('is names and a birth date with nothing else agreeing', () => {
    expect(restsOnBirthDateAlone(vector({ ...names, birthDate: 'exact' }), 0)).toBe(true);
    expect(restsOnBirthDateAlone(vector({ ...names, birthDate: 'exact', email: 'exact' }), 0)).toBe(false);
    expect(restsOnBirthDateAlone(vector({ ...names, birthDate: 'near' }), 0)).toBe(false);
    expect(restsOnBirthDateAlone(vector(names), 0)).toBe(false);
  });
});
