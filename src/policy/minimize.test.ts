import { createHmac } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  escapePointerToken,
  isValidIban,
  keyedHash,
  maskFreeText,
  passesLuhn,
  type ScanOptions,
  scanPayload,
} from './minimize.ts';
import { BASE_TAXONOMY, categoryOfPropertyKey, resolveCategory } from './taxonomy.ts';

const strip: ScanOptions = {
  mode: 'strip',
  basePath: '/properties',
  classify: categoryOfPropertyKey,
  taxonomy: BASE_TAXONOMY,
};
const reject: ScanOptions = { ...strip, mode: 'reject' };

/** A Luhn-valid number of `length` digits starting with `prefix`. */
function luhnComplete(body: string): string {
  for (let d = 0; d <= 9; d++) if (passesLuhn(`${body}${d}`)) return `${body}${d}`;
  throw new Error('unreachable');
}

describe('maskFreeText', () => {
  it.each([
    ['card 4111 1111 1111 1111 expires', 'card **** **** **** 1111 expires'],
    ['4111-1111-1111-1111', '****-****-****-1111'],
    ['pay 4111111111111111.', 'pay ************1111.'],
    ['amex 378282246310005', 'amex ***********0005'],
    ['amex 3782 822463 10005', 'amex **** ****** *0005'],
    ['19 digits 6011000990139424009', '19 digits ***************4009'],
    ['4111111111111111 2024', '************1111 2024'],
    ['ref:5555555555554444;', 'ref:************4444;'],
    ['not a phone +4111111111111111', 'not a phone +************1111'],
    ['SSN 123-45-6789 on file', 'SSN ***-**-**** on file'],
    ['NINO AB123456C', 'NINO *********'],
    ['nino ab 12 34 56 c.', 'nino ** ** ** ** *.'],
    ['DNI 12345678Z', 'DNI *********'],
    ['DNI 12345678-Z', 'DNI ********-*'],
    ['NIE X1234567L', 'NIE *********'],
    ['NIR 1 84 12 76 451 089 46', 'NIR * ** ** ** *** *** **'],
    ['NIR 184127645108946', 'NIR ***************'],
    ['NIR Corse 2 55 08 2A 004 123 69', 'NIR Corse * ** ** ** *** *** **'],
    ['IBAN DE89 3704 0044 0532 0130 00, thanks', 'IBAN **** **** **** **** **30 00, thanks'],
    ['GB82WEST12345698765432', '******************5432'],
  ])('%s → %s', (input, output) => {
    const result = maskFreeText(input);
    expect(result.text).toBe(output);
    expect(result.text).toHaveLength(input.length);
    expect(result.masked.length).toBeGreaterThan(0);
  });

  it.each([
    ['an order number failing Luhn', 'order 1234567812345678'],
    ['an order number with groups failing Luhn', 'order 4111 1111 1111 1112'],
    ['an E.164 number', 'call +14155552671 or +447911123456 or +34612345678'],
    ['a long E.164 number', 'mobile +861391234567890 and +4915112345678'],
    ['a grouped international number', 'ring +44 20 7946 0958 or +1 415-555-2671'],
    ['ISO dates and times', 'from 2024-01-15 to 2024-12-31T23:59:59.999Z, 2024-01-15 2024-01-16'],
    ['a DNI with a wrong letter', 'DNI 12345678A'],
    ['an SSN that is never issued', '000-12-3456 666-12-3456 912-34-5678 123-00-4567'],
    ['an IBAN with a wrong check', 'DE88 3704 0044 0532 0130 00'],
    ['a NINO with an unused prefix', 'GB123456A QQ123456C'],
    ['a NIR with a wrong key', '1 84 12 76 451 089 47'],
    ['short numbers', 'qty 12, sku 998877, postcode 28001, price 1234.56'],
    ['a UUID', '018f4c3e-5b7a-7c2d-9e1f-0a1b2c3d4e5f'],
  ])('leaves %s alone', (_, text) => {
    expect(maskFreeText(text)).toEqual({ text, masked: [] });
  });

  it('reports the kind, category and offsets of every mask', () => {
    const text = 'card 4111111111111111, ssn 123-45-6789, iban GB82WEST12345698765432';
    const { masked } = maskFreeText(text);
    expect(masked).toEqual([
      { kind: 'card_number', category: 'financial.card', start: 5, end: 21 },
      { kind: 'national_id', category: 'government_id.national_id', start: 27, end: 38 },
      { kind: 'bank_account', category: 'financial.bank_account', start: 45, end: 67 },
    ]);
    for (const m of masked) expect(resolveCategory(BASE_TAXONOMY, m.category)?.name).toBe(m.category);
  });

  it('masks again what the first mask uncovers, until nothing is left', () => {
    // After the first card is masked, its kept last four start a run with the next groups.
    const second = luhnComplete('111122223333444');
    const text = `${luhnComplete('411111111111111')} ${second.slice(4, 8)} ${second.slice(8, 12)} ${second.slice(12)}`;
    const once = maskFreeText(text);
    expect(maskFreeText(once.text).masked).toEqual([]);
  });
});

describe('keyedHash', () => {
  it('is HMAC-SHA256 over kind: and the normalised value', () => {
    const expected = createHmac('sha256', 'secret').update('passport:X1234567').digest('hex');
    expect(keyedHash('secret', 'passport', 'x12-345 67')).toBe(`hmac-sha256:${expected}`);
    expect(keyedHash(Buffer.from('secret'), 'passport', 'X1234567')).toBe(`hmac-sha256:${expected}`);
    expect(keyedHash('secret', 'national_id', 'X1234567')).not.toBe(`hmac-sha256:${expected}`);
    expect(keyedHash('other', 'passport', 'X1234567')).not.toBe(`hmac-sha256:${expected}`);
  });
});

describe('scanPayload', () => {
  const payload = {
    orderId: 'A-1',
    cardNumber: '4111 1111 1111 1111',
    note: 'customer read out 4111-1111-1111-1111 and SSN 123-45-6789',
    customer: { iban: 'DE89370400440532013000', nested: { card_number: 4111111111111111, keep: 'ok' } },
    items: [{ sku: 'X', comment: 'card 5555555555554444' }, 'also 5555 5555 5555 4444'],
    ssn: '123-45-6789',
    passportNumber: 'X1234567',
    health: { condition: 'asthma' },
    religion: 'none',
    pregnant: true,
    preferences: { language: 'es', PAN: '4111111111111111' },
    life_event: { moved: true, newBaby: false },
    'a/b~c': { cvv: '123' },
  };

  it('strips do-not-store keys at every depth and says what was dropped', () => {
    const result = scanPayload(payload, strip);
    expect(result.violations).toEqual([]);
    expect(result.dropped).toEqual([
      { path: '/properties/cardNumber', category: 'financial.card' },
      { path: '/properties/customer/iban', category: 'financial.bank_account' },
      { path: '/properties/customer/nested/card_number', category: 'financial.card' },
      { path: '/properties/preferences/PAN', category: 'financial.card' },
      { path: '/properties/a~1b~0c/cvv', category: 'financial.card' },
    ]);
    expect(result.value).toEqual({
      orderId: 'A-1',
      note: 'customer read out ****-****-****-1111 and SSN ***-**-****',
      customer: { nested: { keep: 'ok' } },
      items: [{ sku: 'X', comment: 'card ************4444' }, 'also **** **** **** 4444'],
      health: { condition: 'asthma' },
      religion: 'none',
      pregnant: true,
      preferences: { language: 'es' },
      life_event: { moved: true, newBaby: false },
      'a/b~c': {},
    });
  });

  it('rejects do-not-store keys at every depth and never returns them', () => {
    const result = scanPayload(payload, reject);
    expect(result.dropped).toEqual([]);
    expect(result.violations.map((v) => [v.path, v.category, v.code])).toEqual([
      ['/properties/cardNumber', 'financial.card', 'POLICY_DO_NOT_STORE'],
      ['/properties/customer/iban', 'financial.bank_account', 'POLICY_DO_NOT_STORE'],
      ['/properties/customer/nested/card_number', 'financial.card', 'POLICY_DO_NOT_STORE'],
      ['/properties/preferences/PAN', 'financial.card', 'POLICY_DO_NOT_STORE'],
      ['/properties/a~1b~0c/cvv', 'financial.card', 'POLICY_DO_NOT_STORE'],
    ]);
    expect(JSON.stringify(result.value)).not.toMatch(/4111|DE89|"123"/);
  });

  it('reports special categories and leaves them in place, and keeps government ids out of the clear', () => {
    const result = scanPayload(payload, strip);
    expect(result.special).toEqual([
      { path: '/properties/health', category: 'special.health' },
      { path: '/properties/religion', category: 'special.religion' },
      { path: '/properties/pregnant', category: 'special.pregnancy' },
    ]);
    expect(result.hashOnly).toEqual([
      { path: '/properties/ssn', category: 'government_id.national_id', hashed: false },
      { path: '/properties/passportNumber', category: 'government_id.passport', hashed: false },
    ]);
    expect(result.declaredOnly).toEqual([
      { path: '/properties/life_event', category: 'life_event' },
      { path: '/properties/life_event/moved', category: 'life_event' },
      { path: '/properties/life_event/newBaby', category: 'life_event' },
    ]);
    expect(JSON.stringify(result.value)).not.toMatch(/X1234567|6789/);
  });

  it('replaces government ids by their keyed hash when given a secret', () => {
    const result = scanPayload(
      { ssn: '123-45-6789', passport: { number: 'X1' } },
      { ...strip, hashSecret: 'k' },
    );
    expect(result.value).toEqual({ ssn: keyedHash('k', 'government_id.national_id', '123456789') });
    expect(result.hashOnly).toEqual([
      { path: '/properties/ssn', category: 'government_id.national_id', hashed: true },
      { path: '/properties/passport', category: 'government_id.passport', hashed: false },
    ]);
  });

  it('reports masks in free text with their JSON pointers, including in keys and top-level strings', () => {
    const result = scanPayload(payload, strip);
    expect(result.masked).toEqual([
      { path: '/properties/note', kind: 'card_number', category: 'financial.card' },
      { path: '/properties/note', kind: 'national_id', category: 'government_id.national_id' },
      { path: '/properties/items/0/comment', kind: 'card_number', category: 'financial.card' },
      { path: '/properties/items/1', kind: 'card_number', category: 'financial.card' },
    ]);
    const inKey = scanPayload({ '4111111111111111': 'x' }, { ...strip, basePath: '' });
    expect(inKey.value).toEqual({ '************1111': 'x' });
    expect(inKey.masked[0]?.path).toBe('/4111111111111111'.replace(/\d(?=\d{4})/g, '*'));
    const top = scanPayload('SSN 123-45-6789', { ...strip, basePath: '/text' });
    expect(top).toMatchObject({ value: 'SSN ***-**-****', masked: [{ path: '/text', kind: 'national_id' }] });
  });

  it('masks card numbers held as JSON numbers, but not timestamps or amounts', () => {
    const result = scanPayload(
      { ref: 5555555555554444, at: 1_700_000_000_000, amount: 12.5, n: 4111 },
      strip,
    );
    expect(result.value).toEqual({ ref: '************4444', at: 1_700_000_000_000, amount: 12.5, n: 4111 });
  });

  it('does not change its input and keeps a __proto__ key as data', () => {
    const input = JSON.parse('{"__proto__": {"x": 1}, "note": "4111111111111111"}') as Record<
      string,
      unknown
    >;
    const copy = structuredClone(input);
    const result = scanPayload(input, strip);
    expect(input).toEqual(copy);
    const value = result.value as Record<string, unknown>;
    expect(Object.getPrototypeOf(value)).toBe(Object.prototype);
    expect(Object.hasOwn(value, '__proto__')).toBe(true);
  });

  it('escapes JSON pointer tokens (RFC 6901)', () => {
    expect(escapePointerToken('a/b~c')).toBe('a~1b~0c');
  });
});

// ---------------------------------------------------------------------------------------------------
// Properties

const arbCard = fc
  .tuple(
    fc.integer({ min: 1, max: 9 }),
    fc.array(fc.integer({ min: 0, max: 9 }), { minLength: 14, maxLength: 14 }),
  )
  .map(([first, rest]) => luhnComplete(`${first}${rest.join('')}`));
const arbCardText = fc
  .tuple(arbCard, fc.constantFrom('', ' ', '-'))
  .map(([card, sep]) => (sep === '' ? card : (card.match(/\d{4}/g) ?? []).join(sep)));
/** Filler text that never glues digits onto a card (it starts and ends with a non-digit). */
const arbFiller = fc.string({ maxLength: 12 }).map((s) => ` ${s} `);
const arbTextWithCard = fc
  .tuple(arbFiller, arbCardText, arbFiller, fc.option(arbCardText), arbFiller)
  .map(([a, card, b, other, c]) => `${a}${card}${b}${other ?? ''}${c}`);

const DO_NOT_STORE_KEYS = ['cardNumber', 'iban', 'PAN', 'bank_account', 'salary', 'cvv', 'card-number'];
const arbKey = fc.oneof(
  fc.constantFrom(...DO_NOT_STORE_KEYS, 'note', 'ssn', 'health', 'x'),
  fc.string({ maxLength: 8 }),
);
const arbLeaf = fc.oneof(arbTextWithCard, fc.string(), fc.integer(), fc.boolean(), fc.constant(null));
const arbPayload = fc.letrec((tie) => ({
  node: fc.oneof({ depthSize: 'small' }, arbLeaf, tie('array'), tie('object')),
  array: fc.array(tie('node'), { maxLength: 4 }),
  object: fc.dictionary(arbKey, tie('node'), { maxKeys: 5 }),
})).node;

function* strings(value: unknown): Generator<string> {
  if (typeof value === 'string') yield value;
  else if (Array.isArray(value)) for (const item of value) yield* strings(item);
  else if (typeof value === 'object' && value !== null) {
    for (const [key, child] of Object.entries(value)) {
      yield key;
      yield* strings(child);
    }
  }
}

function* keys(value: unknown): Generator<string> {
  if (Array.isArray(value)) for (const item of value) yield* keys(item);
  else if (typeof value === 'object' && value !== null) {
    for (const [key, child] of Object.entries(value)) {
      yield key;
      yield* keys(child);
    }
  }
}

/** Every 16-digit number in a text, contiguous or in four groups of four joined by a space or dash. */
function sixteenDigitRuns(text: string): string[] {
  const contiguous = [...text.matchAll(/(?<!\d)\d{16}(?!\d)/g)].map((m) => m[0]);
  const grouped = [...text.matchAll(/(?<![\d -]\d*)\d{4}([ -])\d{4}\1\d{4}\1\d{4}(?!\d)/g)].map((m) =>
    m[0].replace(/\D/g, ''),
  );
  const anyGrouping = [...text.matchAll(/(?=(\d{4}[ -]\d{4}[ -]\d{4}[ -]\d{4}))/g)].map((m) =>
    (m[1] ?? '').replace(/\D/g, ''),
  );
  return [...contiguous, ...grouped, ...anyGrouping];
}

describe('scanPayload (properties)', () => {
  it('leaves no Luhn-valid 16-digit number in any string at any depth', () => {
    fc.assert(
      fc.property(arbPayload, fc.constantFrom(strip, reject), (payload, options) => {
        const { value } = scanPayload(payload, options);
        for (const text of strings(value)) {
          for (const run of sixteenDigitRuns(text)) expect(passesLuhn(run), `${run} in ${text}`).toBe(false);
        }
      }),
      { numRuns: 500 },
    );
  });

  it('masks every card number embedded in free text', () => {
    fc.assert(
      fc.property(arbTextWithCard, (text) => {
        const { text: out } = maskFreeText(text);
        expect(out).toHaveLength(text.length);
        for (const run of sixteenDigitRuns(out)) expect(passesLuhn(run)).toBe(false);
        expect(maskFreeText(out).masked).toEqual([]);
      }),
      { numRuns: 1000 },
    );
  });

  it('never keeps a do-not-store key in strip mode', () => {
    fc.assert(
      fc.property(arbPayload, (payload) => {
        const { value, dropped } = scanPayload(payload, strip);
        for (const key of keys(value)) {
          const category = categoryOfPropertyKey(key);
          const policy =
            category === undefined ? undefined : resolveCategory(BASE_TAXONOMY, category)?.policy;
          expect(policy, key).not.toBe('do_not_store');
          expect(policy, key).not.toBe('hash_only');
        }
        for (const d of dropped) expect(DO_NOT_STORE_KEYS.some((k) => d.path.endsWith(`/${k}`))).toBe(true);
      }),
      { numRuns: 500 },
    );
  });

  it('accepts valid IBANs and refuses altered ones', () => {
    expect(isValidIban('DE89370400440532013000')).toBe(true);
    expect(isValidIban('GB82WEST12345698765432')).toBe(true);
    fc.assert(
      fc.property(fc.integer({ min: 4, max: 21 }), fc.integer({ min: 1, max: 9 }), (index, delta) => {
        const iban = 'DE89370400440532013000';
        const digit = (Number(iban[index]) + delta) % 10;
        expect(isValidIban(`${iban.slice(0, index)}${digit}${iban.slice(index + 1)}`)).toBe(false);
      }),
    );
  });

  it('never masks ISO dates or E.164 numbers', () => {
    const arbDate = fc
      .date({
        min: new Date('1900-01-01T00:00:00Z'),
        max: new Date('2100-01-01T00:00:00Z'),
        noInvalidDate: true,
      })
      .map((d) => d.toISOString());
    const arbPhone = fc
      .tuple(fc.integer({ min: 1, max: 999 }), fc.stringMatching(/^[0-9]{6,12}$/))
      .map(([cc, rest]) => `+${cc}${rest}`.slice(0, 16));
    fc.assert(
      fc.property(
        fc.array(
          fc.oneof(
            arbDate,
            arbDate.map((d) => d.slice(0, 10)),
            arbPhone,
          ),
          { maxLength: 4 },
        ),
        (parts) => {
          const text = parts.join(' ');
          expect(maskFreeText(text).text).toBe(text);
        },
      ),
      { numRuns: 1000 },
    );
  });
});
