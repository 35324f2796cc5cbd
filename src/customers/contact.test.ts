import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { AppError } from '../shared/errors.ts';
import {
  normaliseBirthDate,
  normaliseEmail,
  normaliseIdentityPart,
  normaliseLanguage,
  normaliseName,
  normalisePhone,
  unwrap,
} from './contact.ts';
import { classifyQuery, decodeCursor, encodeCursor, normaliseChange } from './customer.ts';

const whitespace = fc.constantFrom(' ', '  ', '\t', '\n', '\u00a0', '');
const emailLocal = fc
  .stringMatching(/^[A-Za-z0-9][A-Za-z0-9._%+-]{0,20}[A-Za-z0-9]$/)
  .filter((s) => !s.includes('..'));
const emailDomain = fc
  .tuple(
    fc.stringMatching(/^[A-Za-z0-9]([A-Za-z0-9-]{0,10}[A-Za-z0-9])?$/),
    fc.constantFrom('com', 'ORG', 'de', 'Io'),
  )
  .map(([name, tld]) => `${name}.${tld}`);
const email = fc.tuple(emailLocal, emailDomain).map(([local, domain]) => `${local}@${domain}`);

/** Randomly upper- or lower-cases each character. */
const recase = (value: string) =>
  fc
    .array(fc.boolean(), { minLength: value.length, maxLength: value.length })
    .map((flags) => [...value].map((ch, i) => (flags[i] ? ch.toUpperCase() : ch.toLowerCase())).join(''));

describe('normaliseEmail', () => {
  it('trims and lower-cases', () => {
    expect(normaliseEmail('  Ana.Perez@Example.COM ')).toEqual({ ok: true, value: 'ana.perez@example.com' });
  });

  it('refuses what is not an address, with EMAIL_INVALID at the path', () => {
    for (const bad of [
      '',
      'ana',
      'ana@',
      '@example.com',
      'ana@example',
      'a b@example.com',
      'ana@@example.com',
      'ana@ex..com',
    ]) {
      const result = normaliseEmail(bad, 'emails[2]');
      expect(result.ok, bad).toBe(false);
      if (!result.ok) {
        expect(result.code).toBe('EMAIL_INVALID');
        expect(result.problem.path).toBe('emails[2]');
      }
    }
  });

  it('is idempotent (property)', () => {
    fc.assert(
      fc.property(fc.oneof(email, fc.string()), (raw) => {
        const once = normaliseEmail(raw);
        if (!once.ok) return;
        expect(normaliseEmail(once.value)).toEqual(once);
      }),
    );
  });

  it('gives the same value for addresses differing only in case and surrounding space (property)', () => {
    fc.assert(
      fc.property(
        email.chain((e) => fc.tuple(fc.constant(e), recase(e), whitespace, whitespace)),
        ([base, recased, before, after]) => {
          const a = normaliseEmail(base);
          const b = normaliseEmail(`${before}${recased}${after}`);
          expect(a.ok).toBe(true);
          expect(b).toEqual(a);
        },
      ),
    );
  });
});

describe('normalisePhone', () => {
  it('reads national numbers in the default region and keeps international ones', () => {
    expect(normalisePhone('(415) 555-2671', 'US')).toEqual({ ok: true, value: '+14155552671' });
    expect(normalisePhone('020 7183 8750', 'GB')).toEqual({ ok: true, value: '+442071838750' });
    expect(normalisePhone('+44 20 7183 8750', 'US')).toEqual({ ok: true, value: '+442071838750' });
    expect(normalisePhone('0044 20 7183 8750', 'DE')).toEqual({ ok: true, value: '+442071838750' });
  });

  it('refuses impossible numbers with PHONE_INVALID at the path', () => {
    for (const bad of ['12', 'call me', '', '+1 415 555 26711234']) {
      const result = normalisePhone(bad, 'US', 'phones[0]');
      expect(result.ok, bad).toBe(false);
      if (!result.ok) {
        expect(result.code).toBe('PHONE_INVALID');
        expect(result.problem.path).toBe('phones[0]');
      }
    }
  });

  it('is idempotent, whatever the region (property)', () => {
    fc.assert(
      fc.property(
        fc.stringMatching(/^\+?[0-9 ()-]{4,20}$/),
        fc.constantFrom('US', 'GB', 'DE', 'MX', 'FR', 'IN'),
        fc.constantFrom('US', 'GB', 'DE', 'MX', 'FR', 'IN'),
        (raw, region, otherRegion) => {
          const once = normalisePhone(raw, region);
          if (!once.ok) return;
          expect(once.value).toMatch(/^\+[1-9]\d{3,14}$/);
          expect(normalisePhone(once.value, region)).toEqual(once);
          expect(normalisePhone(once.value, otherRegion)).toEqual(once);
        },
      ),
    );
  });
});

describe('normaliseName', () => {
  it('trims and collapses inner whitespace; empty is null', () => {
    expect(normaliseName('  Mary \t Ann  ')).toBe('Mary Ann');
    expect(normaliseName('   ')).toBeNull();
  });

  it('is idempotent and leaves no double or edge spaces (property)', () => {
    fc.assert(
      fc.property(fc.string({ unit: fc.constantFrom('a', 'B', 'é', ' ', '\t', '\n', '-', "'") }), (raw) => {
        const once = normaliseName(raw);
        if (once === null) return;
        expect(normaliseName(once)).toBe(once);
        expect(once).not.toMatch(/\s\s|^\s|\s$/);
      }),
    );
  });
});

describe('normaliseBirthDate', () => {
  const today = new Date('2024-06-01T12:00:00Z');

  it('accepts real calendar dates and refuses the rest', () => {
    expect(normaliseBirthDate('2000-02-29', 'birthDate', today)).toEqual({ ok: true, value: '2000-02-29' });
    for (const bad of [
      '1999-02-29',
      '2001-13-01',
      '2001-04-31',
      '01-02-2001',
      '2001-1-1',
      '2030-01-01',
      '1700-01-01',
    ]) {
      const result = normaliseBirthDate(bad, 'birthDate', today);
      expect(result.ok, bad).toBe(false);
      if (!result.ok) expect(result.code).toBe('BIRTH_DATE_INVALID');
    }
  });

  it('accepts exactly the dates that exist, and is idempotent (property)', () => {
    fc.assert(
      fc.property(
        fc.date({ min: new Date('1900-01-01'), max: new Date('2024-05-31'), noInvalidDate: true }),
        (date) => {
          const text = date.toISOString().slice(0, 10);
          expect(normaliseBirthDate(text, 'birthDate', today)).toEqual({ ok: true, value: text });
          expect(normaliseBirthDate(` ${text} `, 'birthDate', today)).toEqual({ ok: true, value: text });
        },
      ),
    );
  });
});

describe('normaliseLanguage', () => {
  it('canonicalises casing and refuses what is not a language tag', () => {
    expect(unwrap(normaliseLanguage('EN'))).toBe('en');
    expect(unwrap(normaliseLanguage('es-mx'))).toBe('es-MX');
    expect(unwrap(normaliseLanguage('es_MX'))).toBe('es-MX');
    expect(unwrap(normaliseLanguage('zh-hant-tw'))).toBe('zh-Hant-TW');
    for (const bad of ['english', 'e', 'en-', '12', 'en-US-x-private']) {
      expect(normaliseLanguage(bad).ok, bad).toBe(false);
    }
  });

  it('is idempotent (property)', () => {
    fc.assert(
      fc.property(fc.stringMatching(/^[a-zA-Z]{2,3}(-[a-zA-Z]{4})?(-([a-zA-Z]{2}|[0-9]{3}))?$/), (raw) => {
        const once = normaliseLanguage(raw);
        if (!once.ok) return;
        expect(normaliseLanguage(once.value)).toEqual(once);
      }),
    );
  });
});

describe('normaliseChange', () => {
  it('reports every problem with its JSON path, the first one giving the code', () => {
    let caught: unknown;
    try {
      normaliseChange(
        {
          emails: ['ok@example.com', { value: 'nope', verified: true }],
          phones: ['12'],
          birthDate: '2001-02-30',
          identities: [{ source: 'pos', externalId: ' ' }],
        },
        'US',
        new Date(),
      );
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(AppError);
    const error = caught as AppError;
    expect(error.code).toBe('BIRTH_DATE_INVALID');
    const paths = (error.details as { errors: { path: string }[] }).errors.map((e) => e.path);
    expect(paths).toEqual(['birthDate', 'emails[1].value', 'phones[0]', 'identities[0].externalId']);
  });

  it('dedupes contact points after normalising, keeping "verified" when any copy is', () => {
    const change = normaliseChange(
      { emails: ['A@x.com', { value: ' a@X.com', verified: true }], phones: ['4155552671', '+14155552671'] },
      'US',
      new Date(),
    );
    expect(change.contacts).toEqual([
      { kind: 'email', value: 'a@x.com', verified: true },
      { kind: 'phone', value: '+14155552671', verified: false },
    ]);
    expect(change.source).toBe('api');
  });

  it('checks identity parts', () => {
    expect(normaliseIdentityPart(' pos ', 'identities[0].source')).toEqual({ ok: true, value: 'pos' });
    expect(normaliseIdentityPart('', 'x').ok).toBe(false);
  });
});

describe('cursors and queries', () => {
  it('round-trips cursors and refuses forged ones', () => {
    const position = { createdAt: '2024-01-01T00:00:00.123456Z', id: '01900000-0000-7000-8000-000000000000' };
    expect(decodeCursor(encodeCursor(position))).toEqual(position);
    expect(decodeCursor(encodeCursor({ offset: 50 }))).toEqual({ offset: 50 });
    for (const bad of ['x', encodeCursor({ offset: -1 }), Buffer.from('["k",1,"x"]').toString('base64url')]) {
      expect(() => decodeCursor(bad)).toThrow(expect.objectContaining({ code: 'CURSOR_INVALID' }));
    }
  });

  it('reads a query as a name, and also as an email or phone when it looks like one', () => {
    expect(classifyQuery('  Jonh   SMITH ', 'US')).toEqual({ name: 'jonh smith' });
    expect(classifyQuery('Ana@Example.com', 'US')).toEqual({
      name: 'ana@example.com',
      email: 'ana@example.com',
    });
    expect(classifyQuery('(415) 555-2671', 'US')).toEqual({ name: '(415) 555-2671', phone: '+14155552671' });
  });
});
