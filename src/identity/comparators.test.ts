import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  compareAddressText,
  compareBirthDates,
  compareCode,
  compareEmail,
  compareNameInfo,
  damerauLevenshtein,
  jaro,
  jaroWinkler,
  type NameInfo,
  normaliseAddress,
  normaliseName,
  nysiis,
  parseBirthDate,
  phoneKey,
  soundex,
  tokenSimilarity,
  withinOneEdit,
} from './comparators.ts';
import { nicknameGroups } from './nicknames.ts';

function info(name: string): NameInfo {
  const text = normaliseName(name);
  const tokens = text.split(' ');
  const groups = new Set([...nicknameGroups(text), ...tokens.flatMap((t) => nicknameGroups(t))]);
  return {
    text,
    compact: text.replace(/ /g, ''),
    phonetic: nysiis(text),
    tokens,
    nicknameGroups: [...groups],
  };
}

function date(value: string) {
  const parsed = parseBirthDate(value);
  if (parsed === null) throw new Error(`unparsable ${value}`);
  return parsed;
}

describe('jaro and jaroWinkler', () => {
  it('give the published values for the classic examples', () => {
    expect(jaro('martha', 'marhta')).toBeCloseTo(0.944, 3);
    expect(jaroWinkler('martha', 'marhta')).toBeCloseTo(0.961, 3);
    expect(jaroWinkler('dwayne', 'duane')).toBeCloseTo(0.84, 2);
    expect(jaroWinkler('dixon', 'dicksonx')).toBeCloseTo(0.813, 3);
  });

  it('are 1 for equal strings, 0 for nothing in common, and symmetric', () => {
    expect(jaroWinkler('smith', 'smith')).toBe(1);
    expect(jaroWinkler('abc', 'xyz')).toBe(0);
    expect(jaroWinkler('', 'abc')).toBe(0);
    fc.assert(
      fc.property(fc.string({ maxLength: 12 }), fc.string({ maxLength: 12 }), (a, b) => {
        const s = jaroWinkler(a, b);
        expect(s).toBeGreaterThanOrEqual(0);
        expect(s).toBeLessThanOrEqual(1 + 1e-12);
        expect(jaro(a, b)).toBeCloseTo(jaro(b, a), 12);
      }),
    );
  });
});

describe('damerauLevenshtein and withinOneEdit', () => {
  it('count insertions, deletions, substitutions and adjacent swaps', () => {
    expect(damerauLevenshtein('kitten', 'sitting')).toBe(3);
    expect(damerauLevenshtein('ca', 'ac')).toBe(1);
    expect(damerauLevenshtein('', 'abc')).toBe(3);
    expect(damerauLevenshtein('smith', 'smith')).toBe(0);
  });

  it('agree: withinOneEdit is distance ≤ 1', () => {
    const short = fc.string({ unit: fc.constantFrom('a', 'b', 'c'), maxLength: 6 });
    fc.assert(
      fc.property(short, short, (a, b) => {
        expect(withinOneEdit(a, b)).toBe(damerauLevenshtein(a, b) <= 1);
      }),
      { numRuns: 2000 },
    );
  });
});

describe('phonetic codes', () => {
  it('soundex gives the standard codes', () => {
    expect(soundex('Robert')).toBe('R163');
    expect(soundex('Rupert')).toBe('R163');
    expect(soundex('Ashcraft')).toBe('A261');
    expect(soundex('Tymczak')).toBe('T522');
    expect(soundex('Pfister')).toBe('P236');
    expect(soundex('')).toBe('');
  });

  it('nysiis gives names that sound alike one code', () => {
    expect(nysiis('philips')).toBe(nysiis('fillips'));
    expect(nysiis('caitlin')).toBe(nysiis('kaitlyn'));
    expect(nysiis('smith')).toBe(nysiis('smyth'));
    expect(nysiis('macdonald')).toBe(nysiis('mcdonald'));
    expect(nysiis('knight')).toBe(nysiis('night'));
    expect(nysiis('smith')).not.toBe(nysiis('jones'));
    expect(nysiis('')).toBe('');
  });
});

describe('compareNameInfo', () => {
  it('grades names from exact to different', () => {
    expect(compareNameInfo(info('Catherine'), info('catherine'))).toBe(4);
    expect(compareNameInfo(info('José'), info('jose'))).toBe(4);
    expect(compareNameInfo(info('william'), info('bill'))).toBe(3);
    expect(compareNameInfo(info('madeline'), info('madelnie'))).toBe(3);
    expect(compareNameInfo(info('madel ine'), info('madeline'))).toBe(3);
    expect(compareNameInfo(info('garcia lopez'), info('garcia'))).toBe(3);
    expect(compareNameInfo(info('philips'), info('fillips'))).toBe(2);
    expect(compareNameInfo(info('j'), info('james'))).toBe(1);
    expect(compareNameInfo(info('james'), info('olga'))).toBe(0);
  });

  it('finds a mistyped name among the parts of a longer one, and folds letters without marks', () => {
    expect(compareNameInfo(info('Rebecca Katherine'), info('rebbecca'))).toBe(3);
    expect(normaliseName('Michał Yıldırım Đỗ')).toBe('michal yildirim do');
    expect(compareNameInfo(info('Yıldırım'), info('YILDIRIM'))).toBe(4);
  });
});

describe('birth dates', () => {
  it('parses the usual forms and keeps the year alone', () => {
    expect(parseBirthDate('19560822')?.digits).toBe('19560822');
    expect(parseBirthDate('1956-08-22')?.digits).toBe('19560822');
    expect(parseBirthDate('22/08/1956')?.digits).toBe('19560822');
    expect(parseBirthDate('1956')).toEqual({ digits: '1956', year: 1956, month: 0, day: 0 });
    expect(parseBirthDate('unknown')).toBeNull();
  });

  it('grades exact, day and month transposed, one digit off, year only, different', () => {
    expect(compareBirthDates(date('19560822'), date('1956-08-22'))).toBe(3);
    expect(compareBirthDates(date('19560307'), date('19560703'))).toBe(2);
    expect(compareBirthDates(date('19560822'), date('19560823'))).toBe(2);
    expect(compareBirthDates(date('19560822'), date('19650822'))).toBe(2);
    expect(compareBirthDates(date('19560822'), date('1956'))).toBe(1);
    expect(compareBirthDates(date('19560822'), date('19561130'))).toBe(1);
    expect(compareBirthDates(date('19560822'), date('19721130'))).toBe(0);
  });
});

describe('addresses, codes, phones and e-mails', () => {
  it('normalises street abbreviations', () => {
    expect(normaliseAddress('12 Church St.')).toBe('12 church street');
  });

  it('grades address text by tokens and spelling', () => {
    expect(compareAddressText('church street', 'church street')).toBe(3);
    expect(compareAddressText('dixon drive', 'dixondrive')).toBe(2);
    expect(compareAddressText('church street', 'chruch street')).toBe(2);
    expect(compareAddressText('church street', 'church road')).toBe(1);
    expect(compareAddressText('church street', 'meadow lane')).toBe(0);
    expect(tokenSimilarity(['a', 'b'], ['b', 'a'])).toBe(1);
  });

  it('grades codes, phones and e-mails', () => {
    expect(compareCode('2600', '2600')).toBe(2);
    expect(compareCode('2600', '2060')).toBe(1);
    expect(compareCode('2600', '3100')).toBe(0);
    expect(phoneKey('+61 2 6123 4567')).toBe(phoneKey('02 6123 4567'));
    expect(compareEmail('ann.lee@example.com', 'ann.lee@example.com')).toBe(2);
    expect(compareEmail('ann.lee@example.com', 'ann.lee@examp1e.com')).toBe(1);
    expect(compareEmail('ann.lee@example.com', 'ann.lee@example.org')).toBe(0);
    expect(compareEmail('ann.lee@example.com', 'bob@example.com')).toBe(0);
  });
});
