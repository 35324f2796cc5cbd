import {
  C_BIRTH,
  C_CITY,
  C_EMAIL,
  C_GIVEN,
  C_GOVERNMENT_ID,
  C_PHONE,
  C_POSTCODE,
  C_STREET_NUMBER,
  C_SURNAME,
  type RecordFeatures,
} from './features.ts';

/**
 * Blocking: records are compared only when they share at least one blocking key, so the work grows
 * with the number of records times the (small) size of their blocks rather than with its square. Each
 * key tolerates a different corruption, so a duplicate escapes only when every key is broken at once.
 * A block larger than the cap (a key shared by too many records to tell them apart, such as a very
 * common name) is compared by sorted neighbourhood instead: each record against the next `window`
 * records in name order.
 */

/** One blocking key: a name (for statistics) and a function giving a record's key or null. */
export interface BlockingKey {
  name: string;
  keyOf: (features: RecordFeatures, i: number) => string | null;
}

function id(features: RecordFeatures, field: number, i: number): number {
  return features.columns[field]?.ids[i] ?? -1;
}

function phonetic(features: RecordFeatures, field: number, i: number): string {
  const nameId = id(features, field, i);
  return nameId < 0 ? '' : (features.names[nameId]?.phonetic ?? '');
}

function fullDate(features: RecordFeatures, i: number): string {
  const dateId = id(features, C_BIRTH, i);
  const digits = dateId < 0 ? '' : (features.dates[dateId]?.digits ?? '');
  return digits.length === 8 ? digits : '';
}

function year(features: RecordFeatures, i: number): string {
  const dateId = id(features, C_BIRTH, i);
  return dateId < 0 ? '' : (features.dates[dateId]?.digits.slice(0, 4) ?? '');
}

function joined(...parts: (string | number)[]): string | null {
  for (const part of parts) if (part === '' || part === -1) return null;
  return parts.join('|');
}

/** The default keys: each survives a different kind of corruption. */
export const DEFAULT_BLOCKING_KEYS: readonly BlockingKey[] = [
  { name: 'governmentId', keyOf: (f, i) => joined(id(f, C_GOVERNMENT_ID, i)) },
  { name: 'birthDate', keyOf: (f, i) => joined(fullDate(f, i)) },
  {
    // Order-free, so given and family names swapped still meet.
    name: 'namePhonetic',
    keyOf: (f, i) => {
      const g = phonetic(f, C_GIVEN, i);
      const s = phonetic(f, C_SURNAME, i);
      return g === '' || s === '' ? null : g < s ? `${g}|${s}` : `${s}|${g}`;
    },
  },
  { name: 'postcodeStreetNumber', keyOf: (f, i) => joined(id(f, C_POSTCODE, i), id(f, C_STREET_NUMBER, i)) },
  { name: 'surnameYear', keyOf: (f, i) => joined(phonetic(f, C_SURNAME, i), year(f, i)) },
  { name: 'givenMonthDay', keyOf: (f, i) => joined(phonetic(f, C_GIVEN, i), fullDate(f, i).slice(4)) },
  { name: 'surnameCity', keyOf: (f, i) => joined(phonetic(f, C_SURNAME, i), id(f, C_CITY, i)) },
  { name: 'givenPostcode', keyOf: (f, i) => joined(phonetic(f, C_GIVEN, i), id(f, C_POSTCODE, i)) },
  { name: 'email', keyOf: (f, i) => joined(id(f, C_EMAIL, i)) },
  { name: 'phone', keyOf: (f, i) => joined(id(f, C_PHONE, i)) },
];

/** How candidate pairs are generated. */
export interface BlockingOptions {
  keys?: readonly BlockingKey[];
  /** Blocks larger than this are compared by sorted neighbourhood. */
  maxBlockSize?: number;
  /** Neighbours each record is compared with inside an oversized block. */
  window?: number;
  /**
   * Pairs of records (indices) compared whatever their keys: something besides their fields connects
   * them (an order of one shipped by the other), so a misspelled name must not keep them apart.
   */
  linked?: readonly (readonly [number, number])[];
}

/** Candidate pairs (`a[k] < b[k]`, each pair once, sorted) and how many each key proposed. */
export interface CandidatePairs {
  a: Uint32Array;
  b: Uint32Array;
  proposedByKey: Record<string, number>;
  oversizedBlocks: number;
}

class PairBuffer {
  private data = new Float64Array(1 << 16);
  length = 0;
  constructor(private readonly n: number) {}

  push(x: number, y: number): void {
    if (this.length === this.data.length) {
      const bigger = new Float64Array(this.data.length * 2);
      bigger.set(this.data);
      this.data = bigger;
    }
    // A pair packs into one exact double: the smaller index times n plus the larger.
    this.data[this.length++] = x < y ? x * this.n + y : y * this.n + x;
  }

  sortedUnique(): Float64Array {
    const view = this.data.subarray(0, this.length).sort();
    let w = 0;
    for (let r = 0; r < view.length; r++) {
      const v = view[r] ?? 0;
      if (w === 0 || v !== view[w - 1]) view[w++] = v;
    }
    return view.subarray(0, w);
  }
}

/** Generates the candidate pairs of a record set from its blocking keys. */
export function computeCandidatePairs(
  features: RecordFeatures,
  options: BlockingOptions = {},
): CandidatePairs {
  const keys = options.keys ?? DEFAULT_BLOCKING_KEYS;
  const maxBlockSize = options.maxBlockSize ?? 200;
  const window = options.window ?? 30;
  const n = features.count;
  const buffer = new PairBuffer(n);
  const proposedByKey: Record<string, number> = {};
  let oversizedBlocks = 0;
  let sortKeys: string[] | null = null;

  for (const key of keys) {
    const blocks = new Map<string, number[]>();
    for (let i = 0; i < n; i++) {
      const k = key.keyOf(features, i);
      if (k === null) continue;
      const block = blocks.get(k);
      if (block === undefined) blocks.set(k, [i]);
      else block.push(i);
    }
    const before = buffer.length;
    for (const block of blocks.values()) {
      const size = block.length;
      if (size < 2) continue;
      if (size <= maxBlockSize) {
        for (let x = 0; x < size; x++) {
          const rx = block[x] ?? 0;
          for (let y = x + 1; y < size; y++) buffer.push(rx, block[y] ?? 0);
        }
        continue;
      }
      oversizedBlocks++;
      sortKeys ??= computeSortKeys(features);
      const order = sortKeys;
      block.sort((p, q) => ((order[p] ?? '') < (order[q] ?? '') ? -1 : 1));
      for (let x = 0; x < size; x++) {
        const rx = block[x] ?? 0;
        const end = Math.min(size, x + 1 + window);
        for (let y = x + 1; y < end; y++) buffer.push(rx, block[y] ?? 0);
      }
    }
    proposedByKey[key.name] = buffer.length - before;
  }

  if (options.linked !== undefined) {
    const before = buffer.length;
    for (const [x, y] of options.linked) if (x !== y && x < n && y < n) buffer.push(x, y);
    proposedByKey.linked = buffer.length - before;
  }

  const packed = buffer.sortedUnique();
  const a = new Uint32Array(packed.length);
  const b = new Uint32Array(packed.length);
  for (let k = 0; k < packed.length; k++) {
    const v = packed[k] ?? 0;
    const x = Math.floor(v / n);
    a[k] = x;
    b[k] = v - x * n;
  }
  return { a, b, proposedByKey, oversizedBlocks };
}

/** Surname, given name and birth date: the order of the sorted neighbourhood in oversized blocks. */
function computeSortKeys(features: RecordFeatures): string[] {
  const out = new Array<string>(features.count);
  for (let i = 0; i < features.count; i++) {
    const s = id(features, C_SURNAME, i);
    const g = id(features, C_GIVEN, i);
    out[i] =
      `${s < 0 ? '' : (features.names[s]?.compact ?? '')}|${g < 0 ? '' : (features.names[g]?.compact ?? '')}|${fullDate(features, i)}`;
  }
  return out;
}
