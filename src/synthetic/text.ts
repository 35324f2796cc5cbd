/**
 * String habits of people and systems: folding to ASCII, clerks' misspellings, e-mail local parts,
 * telephone formats and postal-address rendering. Pure functions over a seeded generator.
 */
import type { Rng } from './random.ts';
import type { MarketCode } from './tables/places.ts';
import { MARKET_TABLE } from './tables/places.ts';

const SPECIAL_FOLDS: Readonly<Record<string, string>> = {
  ß: 'ss',
  ł: 'l',
  Ł: 'L',
  ø: 'o',
  Ø: 'O',
  æ: 'ae',
  Æ: 'AE',
  œ: 'oe',
  Œ: 'OE',
  đ: 'd',
  Đ: 'D',
  ı: 'i',
  İ: 'I',
};

const foldCache = new Map<string, string>();

/** The name without diacritics (José → Jose, Łukasz → Lukasz, Nguyễn → Nguyen). */
export function foldToAscii(value: string): string {
  const cached = foldCache.get(value);
  if (cached !== undefined) return cached;
  let out = '';
  for (const ch of value.normalize('NFD')) {
    const code = ch.charCodeAt(0);
    if (code >= 0x300 && code <= 0x36f) continue;
    out += SPECIAL_FOLDS[ch] ?? ch;
  }
  if (foldCache.size < 10_000) foldCache.set(value, out);
  return out;
}

/** German-style transliteration of umlauts (Müller → Mueller), then ASCII folding. */
export function transliterateGerman(value: string): string {
  return foldToAscii(value.replace(/ä/g, 'ae').replace(/ö/g, 'oe').replace(/ü/g, 'ue').replace(/Ä/g, 'Ae'));
}

/** Lowercase ASCII letters only, for e-mail local parts. */
export function emailStem(value: string): string {
  return foldToAscii(value)
    .toLowerCase()
    .replace(/[^a-z]/g, '');
}

const PHONETIC: readonly (readonly [string, string])[] = [
  ['ph', 'f'],
  ['ie', 'ei'],
  ['ei', 'ie'],
  ['c', 'k'],
  ['k', 'c'],
  ['y', 'i'],
  ['i', 'y'],
  ['s', 'z'],
  ['z', 's'],
  ['ou', 'u'],
  ['th', 't'],
  ['w', 'v'],
  ['ll', 'l'],
  ['tt', 't'],
  ['ck', 'k'],
];

/**
 * One realistic typing or hearing error: a dropped, doubled, swapped or substituted letter, or a
 * phonetic respelling. The first letter is kept, as it almost always is in practice.
 */
export function misspell(rng: Rng, value: string): string {
  if (value.length < 3) return value;
  const kind = rng.int(5);
  const i = 1 + rng.int(value.length - 1);
  const ch = value[i] ?? '';
  switch (kind) {
    case 0:
      return value.slice(0, i) + value.slice(i + 1);
    case 1:
      return value.slice(0, i) + ch + value.slice(i);
    case 2: {
      if (i >= value.length - 1) return value.slice(0, i - 1) + ch + (value[i - 1] ?? '');
      return value.slice(0, i) + (value[i + 1] ?? '') + ch + value.slice(i + 2);
    }
    case 3: {
      const lower = value.toLowerCase();
      const start = rng.int(PHONETIC.length);
      for (let k = 0; k < PHONETIC.length; k++) {
        const [from, to] = PHONETIC[(start + k) % PHONETIC.length] as readonly [string, string];
        const at = lower.indexOf(from, 1);
        if (at > 0) return value.slice(0, at) + to + value.slice(at + from.length);
      }
      return value.slice(0, i) + value.slice(i + 1);
    }
    default: {
      const vowels = 'aeiou';
      const lowerCh = ch.toLowerCase();
      if (vowels.includes(lowerCh)) {
        const replacement = vowels[(vowels.indexOf(lowerCh) + 1 + rng.int(4)) % 5] ?? 'e';
        return value.slice(0, i) + replacement + value.slice(i + 1);
      }
      return value.slice(0, i) + ch + value.slice(i);
    }
  }
}

/** Capitalises each word of an all-lowercase or all-uppercase name. */
export function titleCase(value: string): string {
  return value
    .toLowerCase()
    .replace(/(^|[\s'-])(\p{L})/gu, (_m, sep: string, letter: string) => sep + letter.toUpperCase());
}

/** Telephone number of a person, kept in parts so each system can render it its own way. */
export interface PhoneParts {
  market: MarketCode;
  /** US: area code `415`. GB: trunk-prefixed area code `020`, or `07700` for mobiles. */
  area: string;
  /** US: `555-0123`. GB: `7946 0018`. */
  local: string;
}

/** The E.164 form: `+14155550123`, `+442079460018`. */
export function phoneE164(phone: PhoneParts): string {
  const cc = MARKET_TABLE[phone.market].countryCallingCode;
  const national = (phone.area + phone.local).replace(/\D/g, '');
  return `+${cc}${phone.market === 'GB' ? national.slice(1) : national}`;
}

/** The way people write numbers at home: `(415) 555-0123`, `020 7946 0018`. */
export function phoneLocal(phone: PhoneParts): string {
  return phone.market === 'US' ? `(${phone.area}) ${phone.local}` : `${phone.area} ${phone.local}`;
}

/** One of the many forms people and systems type: local, E.164, spaced international, dotted… */
export function phoneTyped(rng: Rng, phone: PhoneParts): string {
  const digits = phone.local.replace(/\D/g, '');
  const roll = rng.int(6);
  if (phone.market === 'US') {
    switch (roll) {
      case 0:
        return phoneE164(phone);
      case 1:
        return `${phone.area}-${phone.local}`;
      case 2:
        return `${phone.area}.${digits.slice(0, 3)}.${digits.slice(3)}`;
      case 3:
        return `+1 ${phone.area} ${digits.slice(0, 3)} ${digits.slice(3)}`;
      case 4:
        return `${phone.area}${digits}`;
      default:
        return phoneLocal(phone);
    }
  }
  const international = `+44 ${phone.area.slice(1)} ${phone.local}`;
  switch (roll) {
    case 0:
      return phoneE164(phone);
    case 1:
      return international;
    case 2:
      return `(${phone.area}) ${phone.local}`;
    case 3:
      return (phone.area + phone.local).replace(/\D/g, '');
    default:
      return phoneLocal(phone);
  }
}

/** A postal address. `region` is the US state; absent in the UK. */
export interface PostalAddress {
  line1: string;
  line2?: string;
  city: string;
  region?: string;
  postcode: string;
  country: MarketCode;
}

/** Street line in the clerk's shorthand: `12 Maple St`, `4 Station Rd`. */
export function abbreviateStreet(address: PostalAddress): string {
  const abbreviations = MARKET_TABLE[address.country].streetAbbreviations;
  const words = address.line1.split(' ');
  const last = words[words.length - 1] ?? '';
  const short = abbreviations[last];
  if (short === undefined) return address.line1;
  words[words.length - 1] = short;
  return words.join(' ');
}
