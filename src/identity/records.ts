import { createHmac } from 'node:crypto';
import { parse } from 'csv-parse/sync';
import { invalid } from '../shared/errors.ts';

/**
 * The person record identity resolution compares, and the readers that build it from FEBRL and CSV
 * text. A government identifier never enters a record in clear: readers replace it by its keyed hash
 * as soon as the row is split.
 */

/** One record of a person as a source system holds it; every field but `id` may be missing. */
export interface PersonRecord {
  id: string;
  givenName: string | null;
  surname: string | null;
  /** `YYYYMMDD`, `YYYY-MM-DD`, `DD/MM/YYYY` or `YYYY` (year only). */
  birthDate: string | null;
  /** Checked against a document: a cluster never holds two different verified birth dates. */
  birthDateVerified?: boolean;
  streetNumber: string | null;
  address1: string | null;
  address2: string | null;
  /** Town, city or suburb. */
  city: string | null;
  postcode: string | null;
  state: string | null;
  phone: string | null;
  email: string | null;
  /** HMAC-SHA256 (hex) of the normalised government identifier under the run's or workspace's key. */
  governmentIdHash: string | null;
  /** Checked against a document: a cluster never holds two different verified government ids. */
  governmentIdVerified?: boolean;
}

/** The fields a source column can be mapped to; `governmentId` is hashed on reading. */
export const MAPPABLE_FIELDS = [
  'id',
  'givenName',
  'surname',
  'birthDate',
  'birthDateVerified',
  'streetNumber',
  'address1',
  'address2',
  'city',
  'postcode',
  'state',
  'phone',
  'email',
  'governmentId',
  'governmentIdHash',
  'governmentIdVerified',
] as const;

/** A field a source column can be mapped to. */
export type MappableField = (typeof MAPPABLE_FIELDS)[number];

/** Column names (lower case, letters and digits only) recognised without a `--map`. */
const COLUMN_ALIASES: Record<string, MappableField> = {
  id: 'id',
  recordid: 'id',
  recid: 'id',
  customerid: 'id',
  givenname: 'givenName',
  firstname: 'givenName',
  forename: 'givenName',
  surname: 'surname',
  lastname: 'surname',
  familyname: 'surname',
  birthdate: 'birthDate',
  dateofbirth: 'birthDate',
  dob: 'birthDate',
  birthdateverified: 'birthDateVerified',
  streetnumber: 'streetNumber',
  housenumber: 'streetNumber',
  address1: 'address1',
  addressline1: 'address1',
  street: 'address1',
  address2: 'address2',
  addressline2: 'address2',
  city: 'city',
  suburb: 'city',
  town: 'city',
  locality: 'city',
  postcode: 'postcode',
  postalcode: 'postcode',
  zip: 'postcode',
  zipcode: 'postcode',
  state: 'state',
  region: 'state',
  phone: 'phone',
  phonenumber: 'phone',
  telephone: 'phone',
  mobile: 'phone',
  email: 'email',
  emailaddress: 'email',
  governmentid: 'governmentId',
  socsecid: 'governmentId',
  ssn: 'governmentId',
  nationalid: 'governmentId',
  governmentidhash: 'governmentIdHash',
  governmentidverified: 'governmentIdVerified',
};

/** A map from source column to record field, as given by `--map column=field,…`. */
export type FieldMap = Readonly<Record<string, MappableField>>;

/** Parses `column=field,column=field`; throws MAP_INVALID naming the bad entry. */
export function parseFieldMap(text: string): FieldMap {
  const map: Record<string, MappableField> = {};
  for (const entry of text.split(',')) {
    const trimmed = entry.trim();
    if (trimmed.length === 0) continue;
    const eq = trimmed.lastIndexOf('=');
    const column = eq > 0 ? trimmed.slice(0, eq).trim() : '';
    const field = eq > 0 ? trimmed.slice(eq + 1).trim() : '';
    if (column.length === 0 || !isMappableField(field)) {
      throw invalid('MAP_INVALID', `The map entry "${trimmed}" must read column=field.`, {
        entry: trimmed,
        fields: MAPPABLE_FIELDS,
      });
    }
    map[column] = field;
  }
  return map;
}

function isMappableField(value: string): value is MappableField {
  return (MAPPABLE_FIELDS as readonly string[]).includes(value);
}

/**
 * The keyed hash of a government identifier: HMAC-SHA256 of its letters and digits (upper case), hex.
 * Null for an empty identifier.
 */
export function computeGovernmentIdHash(value: string, key: string | Uint8Array): string | null {
  const normalised = value.toUpperCase().replace(/[^A-Z0-9]/g, '');
  if (normalised.length === 0) return null;
  return createHmac('sha256', key).update(normalised).digest('hex');
}

/** How rows become records. */
export interface ReadOptions {
  /** Key of the government-id hash. */
  hashKey: string | Uint8Array;
  /** Overrides of the column → field mapping. */
  map?: FieldMap;
  /** Named in error details, e.g. the file name. */
  source?: string;
}

/**
 * Reads FEBRL generator output: a header line, then values separated by commas (each followed by a
 * space, which is dropped). Postcodes, dates and identifiers stay text.
 */
export function readFebrlRecords(text: string, options: ReadOptions): PersonRecord[] {
  const lines = text.split(/\r?\n/);
  const header = (lines[0] ?? '').replace(/^\uFEFF/, '');
  if (header.trim().length === 0) {
    throw invalid('FORMAT_INVALID', 'The FEBRL file has no header line.', { source: options.source });
  }
  const columns = header.split(',').map((c) => c.trim());
  const rows: string[][] = [];
  const lineNumbers: number[] = [];
  for (let i = 1; i < lines.length; i++) {
    const line = lines[i] ?? '';
    if (line.trim().length === 0) continue;
    rows.push(line.split(',').map((v) => v.trim()));
    lineNumbers.push(i + 1);
  }
  return recordsFromRows(columns, rows, lineNumbers, options);
}

/** Reads CSV with a header row (RFC 4180 quoting). */
export function readCsvRecords(text: string, options: ReadOptions): PersonRecord[] {
  let table: string[][];
  try {
    table = parse(text, { bom: true, skip_empty_lines: true, trim: true, relax_column_count: false });
  } catch (error) {
    throw invalid('FORMAT_INVALID', `The CSV could not be read: ${(error as Error).message}`, {
      source: options.source,
    });
  }
  const [columns, ...rows] = table;
  if (columns === undefined) {
    throw invalid('FORMAT_INVALID', 'The CSV has no header row.', { source: options.source });
  }
  return recordsFromRows(
    columns,
    rows,
    rows.map((_, i) => i + 2),
    options,
  );
}

function resolveColumns(columns: readonly string[], options: ReadOptions): (MappableField | null)[] {
  const map = options.map ?? {};
  for (const column of Object.keys(map)) {
    if (!columns.includes(column)) {
      throw invalid('MAP_INVALID', `The map names column "${column}", which the input does not have.`, {
        column,
        columns,
        source: options.source,
      });
    }
  }
  const fields = columns.map(
    (column) => map[column] ?? COLUMN_ALIASES[column.toLowerCase().replace(/[^a-z0-9]/g, '')] ?? null,
  );
  const seen = new Set<MappableField>();
  for (const field of fields) {
    if (field === null) continue;
    if (seen.has(field)) {
      throw invalid('MAP_INVALID', `Two columns map to the field ${field}; map one of them elsewhere.`, {
        field,
        columns,
        source: options.source,
      });
    }
    seen.add(field);
  }
  if (fields.every((f) => f === null || f === 'id')) {
    throw invalid('MAP_INVALID', 'No column maps to a person field; name them with --map column=field.', {
      columns,
      fields: MAPPABLE_FIELDS,
      source: options.source,
    });
  }
  return fields;
}

const TRUE_WORDS = new Set(['1', 'true', 'yes', 'y', 't']);

function recordsFromRows(
  columns: readonly string[],
  rows: readonly string[][],
  lineNumbers: readonly number[],
  options: ReadOptions,
): PersonRecord[] {
  const fields = resolveColumns(columns, options);
  const records: PersonRecord[] = [];
  for (let r = 0; r < rows.length; r++) {
    const row = rows[r] ?? [];
    if (row.length !== columns.length) {
      throw invalid(
        'FORMAT_INVALID',
        `Line ${lineNumbers[r]} has ${row.length} values where the header has ${columns.length}.`,
        { line: lineNumbers[r], source: options.source },
      );
    }
    const record: PersonRecord = {
      id: String(r + 1),
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
    };
    for (let c = 0; c < fields.length; c++) {
      const field = fields[c];
      const value = row[c] ?? '';
      if (field === null || field === undefined || value.length === 0) continue;
      switch (field) {
        case 'governmentId':
          // The clear value goes no further than this line.
          record.governmentIdHash = computeGovernmentIdHash(value, options.hashKey);
          break;
        case 'birthDateVerified':
        case 'governmentIdVerified':
          record[field] = TRUE_WORDS.has(value.toLowerCase());
          break;
        case 'id':
          record.id = value;
          break;
        default:
          record[field] = value;
      }
    }
    records.push(record);
  }
  return records;
}
