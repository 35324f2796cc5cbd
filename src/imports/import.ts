import { createHash } from 'node:crypto';
import { extname } from 'node:path';
import { invalid } from '../shared/errors.ts';
import { parseDecimalText } from '../shared/money.ts';

/** Bulk import and export: types and pure rules (formats, CSV columns, rejects lines, fingerprints). */

/** What a file holds: interactions, or a whole workspace written by `export`. */
export type ImportKind = 'interactions' | 'workspace';

/** How rows are written: one JSON object per line, or CSV with a header. */
export type ImportFormat = 'ndjson' | 'csv';

export const IMPORT_FORMATS: readonly ImportFormat[] = ['ndjson', 'csv'];

/** The most rows one ingest call accepts, and so the largest batch. */
export const MAX_BATCH_SIZE = 10_000;
export const DEFAULT_BATCH_SIZE = 2000;

/** A row longer than this is rejected without being held in memory whole. */
export const MAX_ROW_BYTES = 8 * 1024 * 1024;
/** How much of an oversized or unparseable stretch of input a reject keeps. */
export const MAX_REJECT_RAW_BYTES = 64 * 1024;

/** How many leading bytes of a file go into its fingerprint. */
export const FINGERPRINT_HEAD_BYTES = 64 * 1024;

/** Version of the export file format written by `export` and read by `import workspace`. */
export const EXPORT_FORMAT_VERSION = 1;
/** The `record` value of an export's first line. */
export const EXPORT_HEADER_RECORD = 'cornerstore-export';

/** The problem with one row, as written to the rejects file. */
export interface RowError {
  code: string;
  message: string;
  details?: unknown;
}

/** One row read from an input file, with where it sits in the file. */
export interface Row {
  /** 1-based line number of the row's first line. */
  line: number;
  /** Byte offset where the row's text starts (CSV: may include blank lines before it). */
  start: number;
  /** Byte offset just after the row, its line break included. */
  end: number;
  /** The parsed row: a JSON value (NDJSON) or the fields of a record (CSV); absent when `error` is set. */
  value?: unknown;
  /** The row's text when the reader already has it (NDJSON); otherwise read back from the file on reject. */
  raw?: string;
  /** Set when `raw` is only the start of a row too long to keep. */
  truncated?: true;
  /** Set when the row could not be parsed. */
  error?: RowError;
}

/** Rows read together, and where reading stopped: the checkpoint once they are committed. */
export interface RowBatch {
  rows: Row[];
  /** Byte offset of the next unread row. */
  endOffset: number;
  /** Lines consumed up to `endOffset` (the next row starts on a later line). */
  endLine: number;
}

/** One line of a rejects file. */
export interface RejectLine {
  line: number;
  error: RowError;
  raw: string;
  truncated?: true;
}

/** What one committed batch did. */
export interface BatchOutcome {
  created: number;
  duplicate: number;
  rejects: RejectLine[];
}

/** Counts and position of an import after a committed batch. */
export interface ImportProgress {
  runId: string;
  /** Lines of the input consumed so far. */
  line: number;
  /** Bytes of the input consumed so far. */
  offset: number;
  /** Size of the input file in bytes. */
  size: number;
  rows: number;
  created: number;
  duplicate: number;
  rejected: number;
}

/** The outcome of an import command. */
export interface ImportSummary {
  runId: string;
  kind: ImportKind;
  format: ImportFormat;
  file: string;
  /** Rows of the whole run (created + duplicate + rejected), including those of an earlier, interrupted attempt. */
  rows: number;
  created: number;
  duplicate: number;
  rejected: number;
  rejectsFile: string;
  /** The line the run resumed after, or null when it started from the beginning. */
  resumedFromLine: number | null;
  /** Wall-clock seconds of this attempt. */
  seconds: number;
  /** Rows per second of this attempt. */
  rowsPerSecond: number;
  /** True when the import was stopped before the end of the file (it can be resumed). */
  interrupted: boolean;
}

/** Picks the format from an explicit choice or the file's extension. */
export function resolveFormat(file: string, format: string | undefined): ImportFormat {
  if (format !== undefined) {
    if ((IMPORT_FORMATS as readonly string[]).includes(format)) return format as ImportFormat;
    throw invalid('IMPORT_FORMAT_UNKNOWN', `Unknown format "${format}"; use ndjson or csv.`, {
      format,
      allowed: IMPORT_FORMATS,
    });
  }
  const extension = extname(file).toLowerCase();
  if (extension === '.ndjson' || extension === '.jsonl' || extension === '.json') return 'ndjson';
  if (extension === '.csv') return 'csv';
  throw invalid(
    'IMPORT_FORMAT_UNKNOWN',
    `Cannot tell the format of "${file}" from its extension; name it .ndjson, .jsonl, .json or .csv, or pass --format ndjson|csv.`,
    { file, extension },
  );
}

/** Validates a batch size: 1 to MAX_BATCH_SIZE rows. */
export function assertBatchSize(size: number): void {
  if (!Number.isInteger(size) || size < 1 || size > MAX_BATCH_SIZE) {
    throw invalid(
      'IMPORT_BATCH_SIZE_INVALID',
      `The batch size must be an integer from 1 to ${MAX_BATCH_SIZE}.`,
      {
        batchSize: size,
      },
    );
  }
}

/**
 * Identifies an input file across attempts: the absolute path, the size and the first 64 KiB. A file
 * that grew or changed at its start is a new file; one that did not is resumed where it stopped.
 */
export function computeFingerprint(absolutePath: string, size: number, head: Uint8Array): string {
  return createHash('sha256').update(`${absolutePath}\n${size}\n`).update(head).digest('hex');
}

/** The columns a CSV file of interactions may have, in any order. */
export const CSV_COLUMNS = [
  'type',
  'channel',
  'occurredAt',
  'source',
  'externalId',
  'customerId',
  'customerSource',
  'customerExternalId',
  'customerEmail',
  'customerPhone',
  'amount',
  'currency',
  'initiatedBy',
  'sentiment',
  'text',
  'properties',
] as const;

export type CsvColumn = (typeof CSV_COLUMNS)[number];

const KNOWN_COLUMNS = new Set<string>(CSV_COLUMNS);

/** Validates a CSV header: only known columns, each at most once. Throws before anything is imported. */
export function assertCsvHeader(header: readonly string[]): CsvColumn[] {
  if (header.length === 0) throw invalid('IMPORT_CSV_HEADER_MISSING', 'The CSV file has no header line.');
  const errors: { path: string; message: string }[] = [];
  const seen = new Set<string>();
  header.forEach((name, index) => {
    if (!KNOWN_COLUMNS.has(name)) {
      errors.push({ path: `header[${index}]`, message: `unknown column "${name}"` });
    } else if (seen.has(name)) {
      errors.push({ path: `header[${index}]`, message: `column "${name}" appears twice` });
    }
    seen.add(name);
  });
  const unknown = header.filter((name) => !KNOWN_COLUMNS.has(name));
  if (unknown.length > 0) {
    throw invalid(
      'IMPORT_CSV_UNKNOWN_COLUMN',
      `Unknown CSV column${unknown.length > 1 ? 's' : ''} ${unknown.map((c) => `"${c}"`).join(', ')}; the columns are: ${CSV_COLUMNS.join(', ')}.`,
      { errors, allowed: CSV_COLUMNS },
    );
  }
  if (errors.length > 0) {
    throw invalid('IMPORT_CSV_DUPLICATE_COLUMN', 'A CSV column appears more than once in the header.', {
      errors,
    });
  }
  return header as CsvColumn[];
}

const NUMERIC_COLUMNS = new Set<CsvColumn>(['sentiment']);
const PLAIN_COLUMNS = new Set<CsvColumn>([
  'type',
  'channel',
  'occurredAt',
  'source',
  'externalId',
  'currency',
  'initiatedBy',
  'text',
]);

/** A CSV record turned into interaction JSON, or the reason it cannot be. */
export type CsvConversion = { ok: true; value: Record<string, unknown> } | { ok: false; error: RowError };

/**
 * Turns a CSV record into interaction JSON: empty cells are absent, `amount` is decimal text read as
 * the number it writes (its decimals are checked against the currency at ingest), `sentiment` a
 * number, `properties` a JSON object, and the customer columns make the `customer` reference.
 */
export function csvRecordToInteraction(
  columns: readonly CsvColumn[],
  record: readonly string[],
): CsvConversion {
  if (record.length !== columns.length) {
    return {
      ok: false,
      error: {
        code: 'ROW_COLUMN_COUNT',
        message: `The record has ${record.length} field${record.length === 1 ? '' : 's'}; the header has ${columns.length}.`,
        details: { expected: columns.length, actual: record.length },
      },
    };
  }
  const value: Record<string, unknown> = {};
  const customer: Record<string, unknown> = {};
  let customerSource: string | undefined;
  let customerExternalId: string | undefined;
  const problems: { path: string; message: string }[] = [];
  for (let i = 0; i < columns.length; i++) {
    const cell = record[i];
    if (cell === undefined || cell === '') continue;
    const column = columns[i] as CsvColumn;
    if (PLAIN_COLUMNS.has(column)) value[column] = cell;
    else if (column === 'amount') {
      // Decimal text only (1234.50, -3): no exponent, hexadecimal or thousands separator is guessed at.
      const amount = parseDecimalText(cell);
      if (amount === undefined)
        problems.push({
          path: column,
          message: 'must be a decimal number such as 1234.50 (no exponent or separators)',
        });
      else value.amount = amount;
    } else if (NUMERIC_COLUMNS.has(column)) {
      const number = Number(cell.trim());
      if (cell.trim() === '' || !Number.isFinite(number))
        problems.push({ path: column, message: 'must be a number' });
      else value[column] = number;
    } else if (column === 'properties') {
      let parsed: unknown;
      try {
        parsed = JSON.parse(cell);
      } catch {
        problems.push({ path: column, message: 'must be a JSON object' });
        continue;
      }
      if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
        problems.push({ path: column, message: 'must be a JSON object' });
      } else value.properties = parsed;
    } else if (column === 'customerId') customer.id = cell;
    else if (column === 'customerEmail') customer.email = cell;
    else if (column === 'customerPhone') customer.phone = cell;
    else if (column === 'customerSource') customerSource = cell;
    else if (column === 'customerExternalId') customerExternalId = cell;
  }
  if ((customerSource === undefined) !== (customerExternalId === undefined)) {
    problems.push({
      path: customerSource === undefined ? 'customerSource' : 'customerExternalId',
      message: 'customerSource and customerExternalId go together',
    });
  } else if (customerSource !== undefined && customerExternalId !== undefined) {
    customer.identity = { source: customerSource, externalId: customerExternalId };
  }
  if (problems.length > 0) {
    return {
      ok: false,
      error: {
        code: 'ROW_INVALID',
        message: 'The record has invalid values.',
        details: { errors: problems },
      },
    };
  }
  if (Object.keys(customer).length > 0) value.customer = customer;
  return { ok: true, value };
}

/** True for a JSON object (not an array, not null). */
export function isPlainObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/** One rejects-file line, newline included. */
export function formatRejectLine(reject: RejectLine): string {
  return `${JSON.stringify(reject)}\n`;
}

/** The rejects file used when none is named: beside the input. */
export function defaultRejectsPath(file: string): string {
  return `${file}.rejects.ndjson`;
}
