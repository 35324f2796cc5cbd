import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { parse } from 'csv-parse';
import { invalid, notFound } from '../shared/errors.ts';
import type { Transaction } from './summary.ts';

/**
 * Streams transactions from a CSV file with a header row, for the offline value commands. The amount
 * is one column, or quantity × unit price (invoice-line files). Rules, each counted in the stats:
 * rows without a customer id are skipped (guest checkouts); rows whose amount is zero or negative are
 * skipped (cancellations, returns and free lines: the models describe purchases and positive spend).
 * Numeric-looking customer ids lose a zero fraction ("17850.0" → "17850"). Dates may be YYYY-MM-DD,
 * YYYY/MM/DD or YYYYMMDD, or M/D/YYYY (D/M/YYYY with `dayFirst`), optionally followed by a time, which
 * is ignored: purchases merge by day.
 */

/** Which columns hold what. */
export interface TransactionColumns {
  customer: string;
  date: string;
  /** The amount column; or give `quantity` and `price` instead. */
  amount?: string;
  quantity?: string;
  price?: string;
  /** Read 3/4/2011 as 3 April rather than March 4. */
  dayFirst?: boolean;
}

/** What reading saw, filled in as it goes. */
export interface TransactionReadStats {
  /** Data rows (the header excluded). */
  rows: number;
  /** Rows handed on as transactions. */
  used: number;
  /** Rows skipped for an empty customer id. */
  missingCustomer: number;
  /** Rows skipped for an amount ≤ 0. */
  nonPositiveAmount: number;
}

/** Fresh, zeroed stats. */
export function emptyReadStats(): TransactionReadStats {
  return { rows: 0, used: 0, missingCustomer: 0, nonPositiveAmount: 0 };
}

const NUMBER = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;
const ZERO_FRACTION = /^([+-]?\d+)\.0*$/;

/** A customer id with a zero fraction removed from numeric-looking ids; empty when blank. */
export function normaliseCustomerId(raw: string): string {
  const id = raw.trim();
  const match = ZERO_FRACTION.exec(id);
  return match?.[1] ?? id;
}

/** A number written plainly (no thousands separators); undefined otherwise. */
export function parseAmount(raw: string): number | undefined {
  const text = raw.trim();
  return NUMBER.test(text) ? Number(text) : undefined;
}

function isoDate(year: number, month: number, day: number): string | undefined {
  const time = Date.UTC(year, month - 1, day);
  const date = new Date(time);
  if (date.getUTCFullYear() !== year || date.getUTCMonth() !== month - 1 || date.getUTCDate() !== day) {
    return undefined;
  }
  return date.toISOString().slice(0, 10);
}

const YEAR_FIRST = /^(\d{4})[-/](\d{1,2})[-/](\d{1,2})(?:$|[ T])/;
const COMPACT = /^(\d{4})(\d{2})(\d{2})$/;
const YEAR_LAST = /^(\d{1,2})\/(\d{1,2})\/(\d{4})(?:$| )/;

/** The ISO date of a written date (any time after it ignored); undefined when it is not one. */
export function normaliseDate(raw: string, dayFirst = false): string | undefined {
  const text = raw.trim();
  let match = YEAR_FIRST.exec(text) ?? COMPACT.exec(text);
  if (match) return isoDate(Number(match[1]), Number(match[2]), Number(match[3]));
  match = YEAR_LAST.exec(text);
  if (!match) return undefined;
  const first = Number(match[1]);
  const second = Number(match[2]);
  return dayFirst ? isoDate(Number(match[3]), second, first) : isoDate(Number(match[3]), first, second);
}

/** Throws AMOUNT_COLUMNS_INVALID unless exactly one of `amount` or `quantity` + `price` is given. */
export function assertAmountColumns(columns: TransactionColumns): void {
  const pair = columns.quantity !== undefined || columns.price !== undefined;
  if (columns.amount !== undefined && !pair) return;
  if (columns.amount === undefined && columns.quantity !== undefined && columns.price !== undefined) return;
  throw invalid(
    'AMOUNT_COLUMNS_INVALID',
    'Name the amount column, or both the quantity and the unit price columns (amount = quantity × price), not both ways.',
    { amount: columns.amount, quantity: columns.quantity, price: columns.price },
  );
}

function columnIndex(header: readonly string[], name: string, file: string): number {
  const index = header.findIndex((h) => h.trim() === name);
  if (index === -1) {
    throw invalid('COLUMN_NOT_FOUND', `The file has no column named "${name}".`, {
      file,
      column: name,
      columns: header.map((h) => h.trim()),
    });
  }
  return index;
}

/**
 * Reads the transactions of a CSV file, streaming. Throws INPUT_NOT_FOUND for a missing file,
 * COLUMN_NOT_FOUND for a missing column, DATE_INVALID and AMOUNT_INVALID (with the line) for values
 * that cannot be read.
 */
export async function* readTransactionsCsv(
  path: string,
  columns: TransactionColumns,
  stats: TransactionReadStats = emptyReadStats(),
): AsyncGenerator<Transaction> {
  assertAmountColumns(columns);
  try {
    const info = await stat(path);
    if (!info.isFile()) throw new Error('not a file');
  } catch {
    throw notFound('INPUT_NOT_FOUND', `No transactions file at ${path}.`, { file: path });
  }
  const parser = createReadStream(path).pipe(
    parse({ bom: true, relax_column_count: true, skip_empty_lines: true, info: true }),
  );
  let indexes:
    | { customer: number; date: number; amount: number; quantity: number; price: number }
    | undefined;
  const cell = (record: readonly string[], index: number) => (index >= 0 ? (record[index] ?? '') : '');
  for await (const { record, info } of parser as AsyncIterable<{
    record: string[];
    info: { lines: number };
  }>) {
    if (!indexes) {
      indexes = {
        customer: columnIndex(record, columns.customer, path),
        date: columnIndex(record, columns.date, path),
        amount: columns.amount === undefined ? -1 : columnIndex(record, columns.amount, path),
        quantity: columns.quantity === undefined ? -1 : columnIndex(record, columns.quantity, path),
        price: columns.price === undefined ? -1 : columnIndex(record, columns.price, path),
      };
      continue;
    }
    stats.rows++;
    const customerId = normaliseCustomerId(cell(record, indexes.customer));
    if (customerId === '') {
      stats.missingCustomer++;
      continue;
    }
    let amount: number | undefined;
    if (indexes.amount >= 0) {
      amount = parseAmount(cell(record, indexes.amount));
    } else {
      const quantity = parseAmount(cell(record, indexes.quantity));
      const price = parseAmount(cell(record, indexes.price));
      amount = quantity === undefined || price === undefined ? undefined : quantity * price;
    }
    if (amount === undefined || !Number.isFinite(amount)) {
      throw invalid('AMOUNT_INVALID', `Line ${info.lines}: the amount is not a number.`, {
        file: path,
        line: info.lines,
        values:
          indexes.amount >= 0
            ? { [columns.amount ?? '']: cell(record, indexes.amount) }
            : {
                [columns.quantity ?? '']: cell(record, indexes.quantity),
                [columns.price ?? '']: cell(record, indexes.price),
              },
      });
    }
    if (amount <= 0) {
      stats.nonPositiveAmount++;
      continue;
    }
    const raw = cell(record, indexes.date);
    const date = normaliseDate(raw, columns.dayFirst === true);
    if (date === undefined) {
      throw invalid(
        'DATE_INVALID',
        `Line ${info.lines}: "${raw}" is not a date (YYYY-MM-DD, YYYY/MM/DD, YYYYMMDD or M/D/YYYY, optionally with a time).`,
        { file: path, line: info.lines, value: raw },
      );
    }
    stats.used++;
    yield { customerId, date, amount };
  }
  if (!indexes) {
    throw invalid('INPUT_EMPTY', `The file ${path} has no header row.`, { file: path });
  }
}
