import {
  type BirthDate,
  compact,
  compareAddressText,
  compareBirthDates,
  compareCode,
  compareEmail,
  compareNameInfo,
  digitsOnly,
  type NameInfo,
  normaliseAddress,
  normaliseName,
  normaliseText,
  nysiis,
  parseBirthDate,
  phoneKey,
} from './comparators.ts';
import { nicknameGroupsAsTyped } from './nicknames.ts';
import type { PersonRecord } from './records.ts';

/**
 * Per-record features computed once before any pair is compared: every value normalised and interned
 * (records hold small integers, so agreement is an integer comparison), phonetic codes and nickname
 * groups per distinct name, parsed birth dates. Comparisons of two distinct values are cached per field,
 * since names, towns and streets repeat across many pairs.
 */

/** The compared fields, in the order of a comparison vector. */
export const MATCH_FIELDS = [
  'givenName',
  'surname',
  'birthDate',
  'address',
  'phone',
  'email',
  'governmentId',
] as const;

/** A compared field. */
export type MatchField = (typeof MATCH_FIELDS)[number];

/**
 * Level names of each field, lowest (different) first. The address is one field made of its parts
 * (number, street, second line, town, postcode, state): its parts agree or disagree together for people
 * living at one address, so counting them as independent evidence would take a household for a person.
 */
export const FIELD_LEVELS: Readonly<Record<MatchField, readonly string[]>> = {
  givenName: ['different', 'initial', 'similar', 'close', 'exact'],
  surname: ['different', 'initial', 'similar', 'close', 'exact'],
  birthDate: ['different', 'year', 'near', 'exact'],
  address: ['different', 'area', 'partial', 'close', 'exact'],
  phone: ['different', 'near', 'exact'],
  email: ['different', 'close', 'exact'],
  governmentId: ['different', 'exact'],
};

/** Number of fields in a comparison vector. */
export const FIELD_COUNT = MATCH_FIELDS.length;

/** The level written for a field missing on either side; it contributes no weight. */
export const MISSING = 255;

export const F_GIVEN = 0;
export const F_SURNAME = 1;
export const F_BIRTH = 2;
export const F_ADDRESS = 3;
export const F_PHONE = 4;
export const F_EMAIL = 5;
export const F_GOVERNMENT_ID = 6;

/** The interned value columns of a record set (given and family names share one value table). */
export const C_GIVEN = 0;
export const C_SURNAME = 1;
export const C_BIRTH = 2;
export const C_STREET_NUMBER = 3;
export const C_ADDRESS1 = 4;
export const C_ADDRESS2 = 5;
export const C_CITY = 6;
export const C_POSTCODE = 7;
export const C_STATE = 8;
export const C_PHONE = 9;
export const C_EMAIL = 10;
export const C_GOVERNMENT_ID = 11;
const COLUMN_COUNT = 12;

class Interner {
  readonly values: string[] = [];
  readonly counts: number[] = [];
  private readonly ids = new Map<string, number>();

  intern(value: string | null, normalise: (v: string) => string): number {
    if (value === null) return -1;
    const normalised = normalise(value);
    if (normalised.length === 0) return -1;
    let id = this.ids.get(normalised);
    if (id === undefined) {
      id = this.values.length;
      this.ids.set(normalised, id);
      this.values.push(normalised);
      this.counts.push(0);
    }
    this.counts[id] = (this.counts[id] ?? 0) + 1;
    return id;
  }
}

/** Interned values of one field: a value id per record (-1 missing) and the distinct values. */
export interface FieldColumn {
  ids: Int32Array;
  values: readonly string[];
  /** How many records hold each distinct value. */
  counts: readonly number[];
}

/** Everything the blocker and the comparer need, computed once per record set. */
export interface RecordFeatures {
  count: number;
  columns: readonly FieldColumn[];
  /** Distinct names (given and family share one table, so swapped names compare). */
  names: readonly NameInfo[];
  /** Given-name and surname counts in their own role, for term frequencies. */
  givenCounts: readonly number[];
  surnameCounts: readonly number[];
  dates: readonly BirthDate[];
  birthVerified: Uint8Array;
  governmentIdVerified: Uint8Array;
}

function identity(value: string): string {
  return value;
}

function normaliseCode(value: string): string {
  return normaliseText(value).replace(/ /g, '');
}

function normaliseEmail(value: string): string {
  return value.trim().toLowerCase();
}

/** Normalises and interns every compared field of the records. */
export function computeFeatures(records: readonly PersonRecord[]): RecordFeatures {
  const n = records.length;
  const names = new Interner();
  const interners = Array.from({ length: COLUMN_COUNT }, () => new Interner());
  // Both address lines share one table, so lines written the other way round still compare.
  interners[C_ADDRESS2] = interners[C_ADDRESS1] ?? new Interner();
  const columns = Array.from({ length: COLUMN_COUNT }, () => new Int32Array(n));
  const dateValues: BirthDate[] = [];
  const dateIds = new Map<string, number>();
  const birthVerified = new Uint8Array(n);
  const governmentIdVerified = new Uint8Array(n);
  const givenCountsMap = new Map<number, number>();
  const surnameCountsMap = new Map<number, number>();

  const set = (field: number, i: number, id: number) => {
    const column = columns[field];
    if (column) column[i] = id;
  };
  const internInto = (field: number, i: number, value: string | null, normalise: (v: string) => string) => {
    const interner = interners[field];
    if (interner) set(field, i, interner.intern(value, normalise));
  };

  for (let i = 0; i < n; i++) {
    const r = records[i];
    if (r === undefined) continue;
    const given = names.intern(r.givenName, normaliseName);
    const surname = names.intern(r.surname, normaliseName);
    set(C_GIVEN, i, given);
    set(C_SURNAME, i, surname);
    if (given >= 0) givenCountsMap.set(given, (givenCountsMap.get(given) ?? 0) + 1);
    if (surname >= 0) surnameCountsMap.set(surname, (surnameCountsMap.get(surname) ?? 0) + 1);

    const date = r.birthDate === null ? null : parseBirthDate(r.birthDate);
    let dateId = -1;
    if (date !== null) {
      dateId = dateIds.get(date.digits) ?? -1;
      if (dateId < 0) {
        dateId = dateValues.length;
        dateIds.set(date.digits, dateId);
        dateValues.push(date);
      }
    }
    set(C_BIRTH, i, dateId);
    birthVerified[i] = r.birthDateVerified === true && dateId >= 0 ? 1 : 0;

    internInto(C_STREET_NUMBER, i, r.streetNumber, normaliseCode);
    internInto(C_ADDRESS1, i, r.address1, normaliseAddress);
    internInto(C_ADDRESS2, i, r.address2, normaliseAddress);
    internInto(C_CITY, i, r.city, normaliseAddress);
    internInto(C_POSTCODE, i, r.postcode, normaliseCode);
    internInto(C_STATE, i, r.state, normaliseCode);
    internInto(C_PHONE, i, r.phone === null ? null : phoneKey(r.phone), digitsOnly);
    internInto(C_EMAIL, i, r.email, normaliseEmail);
    internInto(C_GOVERNMENT_ID, i, r.governmentIdHash, identity);
    governmentIdVerified[i] = r.governmentIdVerified === true && r.governmentIdHash !== null ? 1 : 0;
  }

  const nameInfos: NameInfo[] = names.values.map((text) => {
    const tokens = text.split(' ');
    const groups = new Set<number>(nicknameGroupsAsTyped(text));
    for (const t of tokens) for (const g of nicknameGroupsAsTyped(t)) groups.add(g);
    return { text, compact: compact(text), phonetic: nysiis(text), tokens, nicknameGroups: [...groups] };
  });
  const toCounts = (map: Map<number, number>) => {
    const out = new Array<number>(names.values.length).fill(0);
    for (const [id, c] of map) out[id] = c;
    return out;
  };
  const dateCounts = new Array<number>(dateValues.length).fill(0);
  const birthColumn = columns[C_BIRTH] ?? new Int32Array(n);
  for (const id of birthColumn) if (id >= 0) dateCounts[id] = (dateCounts[id] ?? 0) + 1;

  return {
    count: n,
    columns: columns.map((ids, f) => {
      if (f === C_GIVEN || f === C_SURNAME) return { ids, values: names.values, counts: names.counts };
      if (f === C_BIRTH) return { ids, values: dateValues.map((d) => d.digits), counts: dateCounts };
      const interner = interners[f] ?? new Interner();
      return { ids, values: interner.values, counts: interner.counts };
    }),
    names: nameInfos,
    givenCounts: toCounts(givenCountsMap),
    surnameCounts: toCounts(surnameCountsMap),
    dates: dateValues,
    birthVerified,
    governmentIdVerified,
  };
}

type ValueComparator = (a: number, b: number) => number;

/** Top level of each value column (what equal values score). */
const COLUMN_TOP = [4, 4, 3, 2, 3, 3, 3, 2, 1, 2, 2, 1];
const COLUMN_LEVEL_NAMES: readonly (readonly string[])[] = [
  FIELD_LEVELS.givenName,
  FIELD_LEVELS.surname,
  FIELD_LEVELS.birthDate,
  ['different', 'near', 'exact'],
  ['different', 'partial', 'close', 'exact'],
  ['different', 'partial', 'close', 'exact'],
  ['different', 'partial', 'close', 'exact'],
  ['different', 'near', 'exact'],
  ['different', 'exact'],
  FIELD_LEVELS.phone,
  FIELD_LEVELS.email,
  FIELD_LEVELS.governmentId,
];

/** The parts of an address, how much each says, and the credit of each of its levels. */
const ADDRESS_PARTS: readonly { column: number; name: string; weight: number; credit: readonly number[] }[] =
  [
    { column: C_STREET_NUMBER, name: 'number', weight: 2, credit: [0, 0.5, 1] },
    { column: C_ADDRESS1, name: 'street', weight: 3, credit: [0, 0.4, 0.8, 1] },
    { column: C_ADDRESS2, name: 'line2', weight: 1, credit: [0, 0.4, 0.8, 1] },
    { column: C_CITY, name: 'town', weight: 2, credit: [0, 0.4, 0.8, 1] },
    { column: C_POSTCODE, name: 'postcode', weight: 2, credit: [0, 0.5, 1] },
    { column: C_STATE, name: 'state', weight: 0.5, credit: [0, 1] },
  ];
const P_STREET = 1;
const P_LINE2 = 2;

/**
 * A cache of comparison levels keyed by a pair of value ids: open addressing over typed arrays, so
 * millions of lookups cost no allocation. When it fills up it starts afresh.
 */
class PairCache {
  private readonly lo: Int32Array;
  private readonly hi: Int32Array;
  private readonly levels: Uint8Array;
  private readonly mask: number;
  private size = 0;

  constructor(capacityBits: number) {
    const capacity = 1 << capacityBits;
    this.lo = new Int32Array(capacity).fill(-1);
    this.hi = new Int32Array(capacity);
    this.levels = new Uint8Array(capacity);
    this.mask = capacity - 1;
  }

  private slot(lo: number, hi: number): number {
    let slot = (Math.imul(lo, 0x9e3779b1) ^ Math.imul(hi, 0x85ebca77)) & this.mask;
    while (true) {
      const key = this.lo[slot] ?? -1;
      if (key === -1 || (key === lo && this.hi[slot] === hi)) return slot;
      slot = (slot + 1) & this.mask;
    }
  }

  /** The cached level, or -1. */
  get(lo: number, hi: number): number {
    const slot = this.slot(lo, hi);
    return this.lo[slot] === -1 ? -1 : (this.levels[slot] ?? -1);
  }

  set(lo: number, hi: number, level: number): void {
    if (this.size * 10 > this.mask * 7) {
      this.lo.fill(-1);
      this.size = 0;
    }
    const slot = this.slot(lo, hi);
    if (this.lo[slot] === -1) this.size++;
    this.lo[slot] = lo;
    this.hi[slot] = hi;
    this.levels[slot] = level;
  }
}

function cacheBits(distinctValues: number): number {
  // Room for the distinct pairs a run meets, bounded: 2^12 to 2^22 entries.
  const wanted = Math.ceil(Math.log2(Math.max(2, distinctValues) * 64));
  return Math.max(12, Math.min(22, wanted));
}

/**
 * Compares record pairs field by field into a comparison vector of levels, caching the comparison of
 * each pair of distinct values.
 */
export class PairComparer {
  /** Per column; null where values are nearly unique (phones, e-mails) or comparing is trivial. */
  private readonly caches: (PairCache | null)[];
  private readonly comparators: ValueComparator[];
  private readonly parts = new Uint8Array(ADDRESS_PARTS.length);

  constructor(private readonly features: RecordFeatures) {
    const names = features.names;
    const dates = features.dates;
    const values = (c: number): readonly string[] => features.columns[c]?.values ?? [];
    const text =
      (c: number): ValueComparator =>
      (a, b) =>
        compareAddressText(values(c)[a] ?? '', values(c)[b] ?? '');
    const code =
      (c: number): ValueComparator =>
      (a, b) =>
        compareCode(values(c)[a] ?? '', values(c)[b] ?? '');
    const name: ValueComparator = (a, b) => {
      const na = names[a];
      const nb = names[b];
      return na && nb ? compareNameInfo(na, nb) : 0;
    };
    const exact: ValueComparator = () => 0;
    this.comparators = [
      name,
      name,
      (a, b) => {
        const da = dates[a];
        const db = dates[b];
        return da && db ? compareBirthDates(da, db) : 0;
      },
      code(C_STREET_NUMBER),
      text(C_ADDRESS1),
      text(C_ADDRESS2),
      text(C_CITY),
      code(C_POSTCODE),
      exact,
      code(C_PHONE),
      (a, b) => compareEmail(values(C_EMAIL)[a] ?? '', values(C_EMAIL)[b] ?? ''),
      exact,
    ];
    const distinct = (c: number) => features.columns[c]?.values.length ?? 0;
    const cached = new Set([C_STREET_NUMBER, C_ADDRESS1, C_CITY, C_POSTCODE]);
    this.caches = Array.from({ length: COLUMN_COUNT }, (_, c) =>
      cached.has(c) ? new PairCache(cacheBits(distinct(c))) : null,
    );
    // Given and family names share one table and one cache, so swapped names reuse comparisons; so do
    // the two address lines, for lines written the other way round.
    const nameCache = new PairCache(cacheBits(distinct(C_GIVEN)));
    this.caches[C_GIVEN] = nameCache;
    this.caches[C_SURNAME] = nameCache;
    this.caches[C_ADDRESS2] = this.caches[C_ADDRESS1] ?? null;
  }

  /** Level of two values of a column (value ids; -1 missing). */
  private level(column: number, a: number, b: number): number {
    if (a < 0 || b < 0) return MISSING;
    if (a === b) {
      // The year alone agreeing is not an exact date.
      if (column === C_BIRTH) return (this.features.dates[a]?.digits.length ?? 0) === 8 ? 3 : 1;
      return COLUMN_TOP[column] ?? 0;
    }
    const lo = Math.min(a, b);
    const hi = Math.max(a, b);
    const cache = this.caches[column];
    if (cache) {
      const hit = cache.get(lo, hi);
      if (hit >= 0) return hit;
    }
    const comparator = this.comparators[column];
    const result = comparator ? comparator(lo, hi) : 0;
    cache?.set(lo, hi, result);
    return result;
  }

  private value(column: number, i: number): number {
    return this.features.columns[column]?.ids[i] ?? -1;
  }

  /** Fills `this.parts` with the level of each address part (MISSING where a side lacks it). */
  private compareAddressParts(a: number, b: number): void {
    for (let p = 0; p < ADDRESS_PARTS.length; p++) {
      const column = ADDRESS_PARTS[p]?.column ?? 0;
      this.parts[p] = this.level(column, this.value(column, a), this.value(column, b));
    }
    const street = this.parts[P_STREET] ?? MISSING;
    const line2 = this.parts[P_LINE2] ?? MISSING;
    if (street === 3 && (line2 === 3 || line2 === MISSING)) return;
    // Lines written the other way round on one record (street in the second line).
    const crossStreet = this.level(C_ADDRESS1, this.value(C_ADDRESS1, a), this.value(C_ADDRESS2, b));
    const crossLine2 = this.level(C_ADDRESS1, this.value(C_ADDRESS2, a), this.value(C_ADDRESS1, b));
    const score = (x: number) => (x === MISSING ? 0 : x);
    if (crossStreet !== MISSING && score(crossStreet) + score(crossLine2) > score(street) + score(line2)) {
      this.parts[P_STREET] = crossStreet;
      this.parts[P_LINE2] = crossLine2;
    }
  }

  private addressLevel(a: number, b: number): number {
    this.compareAddressParts(a, b);
    let present = 0;
    let credit = 0;
    for (let p = 0; p < ADDRESS_PARTS.length; p++) {
      const level = this.parts[p] ?? MISSING;
      const part = ADDRESS_PARTS[p];
      if (level === MISSING || part === undefined) continue;
      present += part.weight;
      credit += part.weight * (part.credit[level] ?? 0);
    }
    // A state alone, or a second line alone, is no address to compare.
    if (present < 2) return MISSING;
    const ratio = credit / present;
    if (ratio >= 0.97) return 4;
    if (ratio >= 0.8) return 3;
    if (ratio >= 0.55) return 2;
    if (ratio >= 0.3) return 1;
    return 0;
  }

  /** How each part of two records' addresses compared, e.g. "number exact, street close". */
  describeAddress(a: number, b: number): string {
    this.compareAddressParts(a, b);
    const out: string[] = [];
    ADDRESS_PARTS.forEach((part, p) => {
      const level = this.parts[p] ?? MISSING;
      if (level !== MISSING) out.push(`${part.name} ${COLUMN_LEVEL_NAMES[part.column]?.[level] ?? level}`);
    });
    return out.join(', ');
  }

  /**
   * Writes the comparison vector of records `a` and `b` into `out` at `offset` and returns true when
   * the names were compared crosswise (given and family name swapped on one side).
   */
  compare(a: number, b: number, out: Uint8Array, offset: number): boolean {
    const givenA = this.value(C_GIVEN, a);
    const givenB = this.value(C_GIVEN, b);
    const surnameA = this.value(C_SURNAME, a);
    const surnameB = this.value(C_SURNAME, b);
    let gl = this.level(C_GIVEN, givenA, givenB);
    let sl = this.level(C_SURNAME, surnameA, surnameB);
    let swapped = false;
    if (!(gl === 4 && sl === 4)) {
      const crossGiven = this.level(C_GIVEN, givenA, surnameB);
      const crossSurname = this.level(C_SURNAME, surnameA, givenB);
      if (crossGiven !== MISSING && crossSurname !== MISSING && crossGiven >= 3 && crossSurname >= 3) {
        const straight = (gl === MISSING ? 0 : gl) + (sl === MISSING ? 0 : sl);
        if (crossGiven + crossSurname > straight) {
          gl = crossGiven;
          sl = crossSurname;
          swapped = true;
        }
      }
    }
    out[offset + F_GIVEN] = gl;
    out[offset + F_SURNAME] = sl;
    out[offset + F_BIRTH] = this.level(C_BIRTH, this.value(C_BIRTH, a), this.value(C_BIRTH, b));
    out[offset + F_ADDRESS] = this.addressLevel(a, b);
    out[offset + F_PHONE] = this.level(C_PHONE, this.value(C_PHONE, a), this.value(C_PHONE, b));
    out[offset + F_EMAIL] = this.level(C_EMAIL, this.value(C_EMAIL, a), this.value(C_EMAIL, b));
    out[offset + F_GOVERNMENT_ID] = this.level(
      C_GOVERNMENT_ID,
      this.value(C_GOVERNMENT_ID, a),
      this.value(C_GOVERNMENT_ID, b),
    );
    return swapped;
  }
}
