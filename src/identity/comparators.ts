/**
 * String and value comparators of identity resolution. Every comparator is pure and returns either a
 * similarity in [0, 1] or a graded level (0 = different, higher = closer); the matcher turns levels
 * into weights. Inputs are expected already normalised (see `normaliseName`, `normaliseAddress`).
 */

/** Letters that do not decompose into a base letter and a mark, and their plain forms. */
const LETTER_FOLDS: Readonly<Record<string, string>> = {
  ł: 'l',
  ı: 'i',
  đ: 'd',
  ð: 'd',
  ø: 'o',
  æ: 'ae',
  œ: 'oe',
  þ: 'th',
};

/** Lower-case, diacritics removed, anything but letters and digits turned into single spaces. */
export function normaliseText(value: string): string {
  return value
    .normalize('NFKD')
    .replace(/\p{M}+/gu, '')
    .toLowerCase()
    .replace(/ß/g, 'ss')
    .replace(/[łıđðøæœþ]/g, (c) => LETTER_FOLDS[c] ?? c)
    .replace(/[^\p{L}\p{N}]+/gu, ' ')
    .trim();
}

/** A name normalised for comparison: `normaliseText`, without honorifics. */
export function normaliseName(value: string): string {
  const text = normaliseText(value);
  if (text.length === 0) return text;
  return text
    .split(' ')
    .filter((token) => !HONORIFICS.has(token))
    .join(' ');
}

const HONORIFICS = new Set(['mr', 'mrs', 'ms', 'miss', 'dr', 'prof', 'sir', 'jr', 'sr', 'ii', 'iii']);

const STREET_WORDS: Record<string, string> = {
  st: 'street',
  str: 'street',
  rd: 'road',
  ave: 'avenue',
  av: 'avenue',
  dr: 'drive',
  drv: 'drive',
  cres: 'crescent',
  cct: 'circuit',
  cir: 'circle',
  pl: 'place',
  ln: 'lane',
  ct: 'court',
  crt: 'court',
  blvd: 'boulevard',
  hwy: 'highway',
  pde: 'parade',
  tce: 'terrace',
  sq: 'square',
  apt: 'apartment',
  apmnt: 'apartment',
  appt: 'apartment',
  unit: 'unit',
  u: 'unit',
  flat: 'flat',
  nth: 'north',
  n: 'north',
  sth: 'south',
  s: 'south',
  e: 'east',
  w: 'west',
  mt: 'mount',
  vlge: 'village',
  vill: 'village',
};

/** An address line normalised for comparison: `normaliseText` with common abbreviations spelled out. */
export function normaliseAddress(value: string): string {
  const text = normaliseText(value);
  if (text.length === 0) return text;
  return text
    .split(' ')
    .map((token) => STREET_WORDS[token] ?? token)
    .join(' ');
}

/** Only the digits of a value (phone numbers, postcodes, identifiers). */
export function digitsOnly(value: string): string {
  return value.replace(/\D+/g, '');
}

/** The text with spaces removed, so "madel ine" and "madeline" compare equal. */
export function compact(value: string): string {
  return value.replace(/ /g, '');
}

// Scratch buffers reused across calls: Jaro–Winkler is on the hot path of every comparison.
let flagsA = new Uint8Array(64);
let flagsB = new Uint8Array(64);

/** Jaro similarity in [0, 1]. */
export function jaro(a: string, b: string): number {
  if (a === b) return a.length === 0 ? 0 : 1;
  const la = a.length;
  const lb = b.length;
  if (la === 0 || lb === 0) return 0;
  if (flagsA.length < la) flagsA = new Uint8Array(la * 2);
  if (flagsB.length < lb) flagsB = new Uint8Array(lb * 2);
  flagsA.fill(0, 0, la);
  flagsB.fill(0, 0, lb);
  const window = Math.max(0, Math.floor(Math.max(la, lb) / 2) - 1);
  let matches = 0;
  for (let i = 0; i < la; i++) {
    const start = Math.max(0, i - window);
    const end = Math.min(lb - 1, i + window);
    const ca = a.charCodeAt(i);
    for (let j = start; j <= end; j++) {
      if (flagsB[j] === 0 && b.charCodeAt(j) === ca) {
        flagsA[i] = 1;
        flagsB[j] = 1;
        matches++;
        break;
      }
    }
  }
  if (matches === 0) return 0;
  let transpositions = 0;
  let k = 0;
  for (let i = 0; i < la; i++) {
    if (flagsA[i] === 0) continue;
    while (flagsB[k] === 0) k++;
    if (a.charCodeAt(i) !== b.charCodeAt(k)) transpositions++;
    k++;
  }
  const m = matches;
  return (m / la + m / lb + (m - transpositions / 2) / m) / 3;
}

/** Jaro–Winkler similarity in [0, 1]: Jaro with a bonus for a common prefix of up to four characters. */
export function jaroWinkler(a: string, b: string, prefixScale = 0.1): number {
  const j = jaro(a, b);
  if (j <= 0.7) return j;
  const limit = Math.min(4, a.length, b.length);
  let prefix = 0;
  while (prefix < limit && a.charCodeAt(prefix) === b.charCodeAt(prefix)) prefix++;
  return j + prefix * prefixScale * (1 - j);
}

let rowPrev2 = new Int32Array(64);
let rowPrev = new Int32Array(64);
let rowCur = new Int32Array(64);

/**
 * Optimal-string-alignment distance (Damerau–Levenshtein where each substring is edited once):
 * insertions, deletions, substitutions and transpositions of adjacent characters each cost one.
 */
export function damerauLevenshtein(a: string, b: string): number {
  if (a === b) return 0;
  const la = a.length;
  const lb = b.length;
  if (la === 0) return lb;
  if (lb === 0) return la;
  if (rowCur.length <= lb) {
    rowPrev2 = new Int32Array(lb * 2 + 1);
    rowPrev = new Int32Array(lb * 2 + 1);
    rowCur = new Int32Array(lb * 2 + 1);
  }
  for (let j = 0; j <= lb; j++) rowPrev[j] = j;
  for (let i = 1; i <= la; i++) {
    rowCur[0] = i;
    const ca = a.charCodeAt(i - 1);
    for (let j = 1; j <= lb; j++) {
      const cb = b.charCodeAt(j - 1);
      const cost = ca === cb ? 0 : 1;
      let best = Math.min((rowPrev[j] ?? 0) + 1, (rowCur[j - 1] ?? 0) + 1, (rowPrev[j - 1] ?? 0) + cost);
      if (i > 1 && j > 1 && ca === b.charCodeAt(j - 2) && a.charCodeAt(i - 2) === cb) {
        best = Math.min(best, (rowPrev2[j - 2] ?? 0) + 1);
      }
      rowCur[j] = best;
    }
    const spare = rowPrev2;
    rowPrev2 = rowPrev;
    rowPrev = rowCur;
    rowCur = spare;
  }
  return rowPrev[lb] ?? 0;
}

/**
 * True when two strings are at most one edit apart (insertion, deletion, substitution or a swap of
 * adjacent characters): `damerauLevenshtein(a, b) <= 1` in linear time.
 */
export function withinOneEdit(a: string, b: string): boolean {
  if (a === b) return true;
  const la = a.length;
  const lb = b.length;
  if (Math.abs(la - lb) > 1) return false;
  let i = 0;
  while (i < la && i < lb && a.charCodeAt(i) === b.charCodeAt(i)) i++;
  if (la === lb) {
    // One substitution: the rest equal after i; or one adjacent swap at i.
    if (a.slice(i + 1) === b.slice(i + 1)) return true;
    return (
      i + 1 < la &&
      a.charCodeAt(i) === b.charCodeAt(i + 1) &&
      a.charCodeAt(i + 1) === b.charCodeAt(i) &&
      a.slice(i + 2) === b.slice(i + 2)
    );
  }
  // One insertion or deletion at i.
  return la > lb ? a.slice(i + 1) === b.slice(i) : a.slice(i) === b.slice(i + 1);
}

const VOWELS = new Set(['A', 'E', 'I', 'O', 'U']);

/**
 * NYSIIS phonetic code (New York State Identification and Intelligence System), without the six-letter
 * truncation: names that sound alike under English spelling rules share a code ("philips" and
 * "fillips" → FALAP). Letters outside A–Z are ignored; an empty input gives an empty code.
 */
export function nysiis(name: string): string {
  let s = name
    .normalize('NFKD')
    .toUpperCase()
    .replace(/[^A-Z]/g, '');
  if (s.length === 0) return '';
  // Prefixes and suffixes first, as the algorithm prescribes.
  if (s.startsWith('MAC')) s = `MCC${s.slice(3)}`;
  else if (s.startsWith('KN')) s = `NN${s.slice(2)}`;
  else if (s.startsWith('K')) s = `C${s.slice(1)}`;
  else if (s.startsWith('PH') || s.startsWith('PF')) s = `FF${s.slice(2)}`;
  else if (s.startsWith('SCH')) s = `SSS${s.slice(3)}`;
  if (s.endsWith('EE') || s.endsWith('IE')) s = `${s.slice(0, -2)}Y`;
  else if (/(DT|RT|RD|NT|ND)$/.test(s)) s = `${s.slice(0, -2)}D`;

  const chars = s.split('');
  let key = chars[0] ?? '';
  let i = 1;
  while (i < chars.length) {
    const c = chars[i] ?? '';
    const next = chars[i + 1] ?? '';
    const prev = chars[i - 1] ?? '';
    let replacement: string[];
    if (c === 'E' && next === 'V') replacement = ['A', 'F'];
    // A Y inside a name sounds as a vowel (smyth, kaitlyn).
    else if (VOWELS.has(c) || (c === 'Y' && next !== '')) replacement = ['A'];
    else if (c === 'Q') replacement = ['G'];
    else if (c === 'Z') replacement = ['S'];
    else if (c === 'M') replacement = ['N'];
    else if (c === 'K') replacement = next === 'N' ? ['N'] : ['C'];
    else if (c === 'S' && next === 'C' && chars[i + 2] === 'H') replacement = ['S', 'S', 'S'];
    else if (c === 'P' && next === 'H') replacement = ['F', 'F'];
    else if (c === 'H' && (!VOWELS.has(prev) || !VOWELS.has(next))) replacement = [prev];
    else if (c === 'W' && VOWELS.has(prev)) replacement = [prev];
    else replacement = [c];
    for (let r = 0; r < replacement.length; r++) chars[i + r] = replacement[r] ?? '';
    const current = chars[i] ?? '';
    if (current !== key[key.length - 1]) key += current;
    i++;
  }
  if (key.length > 1 && key.endsWith('S')) key = key.slice(0, -1);
  if (key.endsWith('AY')) key = `${key.slice(0, -2)}Y`;
  if (key.length > 1 && key.endsWith('A')) key = key.slice(0, -1);
  return key;
}

const SOUNDEX_CODES: Record<string, string> = {
  B: '1',
  F: '1',
  P: '1',
  V: '1',
  C: '2',
  G: '2',
  J: '2',
  K: '2',
  Q: '2',
  S: '2',
  X: '2',
  Z: '2',
  D: '3',
  T: '3',
  L: '4',
  M: '5',
  N: '5',
  R: '6',
};

/** Soundex code (letter and three digits), a coarse phonetic key used for blocking. */
export function soundex(name: string): string {
  const s = name
    .normalize('NFKD')
    .toUpperCase()
    .replace(/[^A-Z]/g, '');
  if (s.length === 0) return '';
  let code = s[0] ?? '';
  let last = SOUNDEX_CODES[code] ?? '';
  for (let i = 1; i < s.length && code.length < 4; i++) {
    const c = s[i] ?? '';
    const digit = SOUNDEX_CODES[c] ?? '';
    if (digit !== '' && digit !== last) code += digit;
    // H and W do not separate equal codes; vowels do.
    if (c !== 'H' && c !== 'W') last = digit;
  }
  return code.padEnd(4, '0');
}

/** Graded agreement of two names. */
export const NAME_LEVELS = ['different', 'initial', 'similar', 'close', 'exact'] as const;

/** What is known about a name beyond its text, computed once per distinct name. */
export interface NameInfo {
  text: string;
  compact: string;
  phonetic: string;
  tokens: readonly string[];
  /** Canonical forms of the name under the nickname table (the name itself when it has none). */
  nicknameGroups: readonly number[];
}

/**
 * Compares two normalised names: 4 exact, 3 close (Jaro–Winkler ≥ 0.92, one edit, a nickname of each
 * other, the same letters with spaces moved, or one name a token of the other), 2 similar (Jaro–Winkler
 * ≥ 0.84 or the same phonetic code), 1 one is the initial of the other, 0 different.
 */
export function compareNameInfo(a: NameInfo, b: NameInfo): number {
  if (a.text === b.text) return 4;
  if (a.compact === b.compact) return 3;
  const la = a.compact.length;
  const lb = b.compact.length;
  if (la === 1 || lb === 1) return a.compact[0] === b.compact[0] ? 1 : 0;
  if (sharesGroup(a.nicknameGroups, b.nicknameGroups)) return 3;
  const jw = jaroWinkler(a.compact, b.compact);
  if (jw >= 0.92) return 3;
  if (Math.min(la, lb) >= 4 && withinOneEdit(a.compact, b.compact)) return 3;
  if (a.tokens.length > 1 || b.tokens.length > 1) {
    // "mary ann" against "mary", "garcia lopez" against "garcia": one name is part of the other, as
    // typed ("rebecca katherine" against "rebbecca").
    for (const ta of a.tokens) {
      for (const tb of b.tokens) {
        if (ta.length < 2 || tb.length < 2) continue;
        if (ta === tb || (Math.min(ta.length, tb.length) >= 4 && withinOneEdit(ta, tb))) return 3;
      }
    }
  }
  if (jw >= 0.84 || (a.phonetic.length > 0 && a.phonetic === b.phonetic)) return 2;
  return 0;
}

function sharesGroup(a: readonly number[], b: readonly number[]): boolean {
  for (const x of a) for (const y of b) if (x === y) return true;
  return false;
}

/** A birth date as digits: `YYYYMMDD`, or `YYYY` when only the year is known. */
export interface BirthDate {
  digits: string;
  year: number;
  month: number;
  day: number;
}

/** Graded agreement of two birth dates. */
export const DATE_LEVELS = ['different', 'year', 'near', 'exact'] as const;

/**
 * Parses a birth date written `YYYYMMDD`, `YYYY-MM-DD`, `YYYY/MM/DD`, `DD/MM/YYYY` or `YYYY`.
 * Dates with an impossible month or day are kept (they are typos of a real date), but not other text.
 */
export function parseBirthDate(value: string): BirthDate | null {
  const text = value.trim();
  let match = /^(\d{4})[-/.]?(\d{2})[-/.]?(\d{2})$/.exec(text);
  if (match?.[1] && match[2] && match[3]) return makeDate(match[1], match[2], match[3]);
  match = /^(\d{1,2})[/.](\d{1,2})[/.](\d{4})$/.exec(text);
  if (match?.[1] && match[2] && match[3])
    return makeDate(match[3], match[2].padStart(2, '0'), match[1].padStart(2, '0'));
  match = /^(\d{4})$/.exec(text);
  if (match?.[1]) return { digits: match[1], year: Number(match[1]), month: 0, day: 0 };
  return null;
}

function makeDate(y: string, m: string, d: string): BirthDate {
  return { digits: `${y}${m}${d}`, year: Number(y), month: Number(m), day: Number(d) };
}

/**
 * Compares birth dates: 3 exact, 2 near (day and month transposed, one digit different, or two
 * adjacent digits swapped), 1 the same year only (or one side knows only the year), 0 different.
 */
export function compareBirthDates(a: BirthDate, b: BirthDate): number {
  if (a.digits === b.digits) return a.digits.length === 8 ? 3 : 1;
  if (a.digits.length !== 8 || b.digits.length !== 8) return a.year === b.year ? 1 : 0;
  if (a.year === b.year && a.month === b.day && a.day === b.month) return 2;
  let differing = 0;
  let first = -1;
  for (let i = 0; i < 8; i++) {
    if (a.digits.charCodeAt(i) !== b.digits.charCodeAt(i)) {
      differing++;
      if (first < 0) first = i;
    }
  }
  if (differing === 1) return 2;
  if (
    differing === 2 &&
    first < 7 &&
    a.digits[first] === b.digits[first + 1] &&
    a.digits[first + 1] === b.digits[first]
  )
    return 2;
  return a.year === b.year ? 1 : 0;
}

/** Graded agreement of free-text address parts (street line, building, town). */
export const TEXT_LEVELS = ['different', 'partial', 'close', 'exact'] as const;

/**
 * Soft token overlap (Dice over tokens, where tokens match when equal or Jaro–Winkler ≥ 0.9), so word
 * order, a missing word or a typo in one word cost only part of the score.
 */
export function tokenSimilarity(a: readonly string[], b: readonly string[]): number {
  if (a.length === 0 || b.length === 0) return 0;
  let matched = 0;
  const used = new Uint8Array(b.length);
  for (const ta of a) {
    let best = -1;
    let bestScore = 0.9;
    for (let j = 0; j < b.length; j++) {
      if (used[j] === 1) continue;
      const tb = b[j] ?? '';
      const score = ta === tb ? 1 : jaroWinkler(ta, tb);
      if (score >= bestScore) {
        bestScore = score;
        best = j;
        if (score === 1) break;
      }
    }
    if (best >= 0) {
      used[best] = 1;
      matched++;
    }
  }
  return (2 * matched) / (a.length + b.length);
}

/**
 * Compares normalised address text: 3 exact, 2 close (the same without spaces, Jaro–Winkler ≥ 0.92 or
 * all tokens matching), 1 partial (token overlap ≥ 0.5 or Jaro–Winkler ≥ 0.8), 0 different.
 */
export function compareAddressText(a: string, b: string): number {
  if (a === b) return 3;
  const ca = compact(a);
  const cb = compact(b);
  if (ca === cb) return 2;
  const jw = jaroWinkler(ca, cb);
  if (jw >= 0.92) return 2;
  const ts = tokenSimilarity(a.split(' '), b.split(' '));
  if (ts >= 0.999) return 2;
  if (ts >= 0.5 || jw >= 0.8) return 1;
  return 0;
}

/** Graded agreement of short codes (street numbers, postcodes, phones, e-mails). */
export const CODE_LEVELS = ['different', 'near', 'exact'] as const;

/** Compares short codes: 2 exact, 1 one edit apart (typo, transposed digits), 0 different. */
export function compareCode(a: string, b: string): number {
  if (a === b) return 2;
  return withinOneEdit(a, b) ? 1 : 0;
}

/** The comparable part of a phone number: its last nine digits, so country prefixes do not matter. */
export function phoneKey(value: string): string {
  const digits = digitsOnly(value);
  return digits.length > 9 ? digits.slice(-9) : digits;
}

/**
 * Compares normalised e-mail addresses: 2 exact, 1 close (one edit apart, a typo), 0 different. The
 * same mailbox name at another domain counts as different: such names are mostly built from the
 * person's name, so they would count the name's agreement twice, and relatives share them.
 */
export function compareEmail(a: string, b: string): number {
  if (a === b) return 2;
  return withinOneEdit(a, b) ? 1 : 0;
}

/** Graded agreement of exact-only values (state, government-id hash). */
export const EXACT_LEVELS = ['different', 'exact'] as const;
