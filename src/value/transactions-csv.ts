import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { parse } from 'csv-parse';
import { invalid, notFound } from '../shared/errors.ts';
import type { Transaction } from './summary.ts';

/**
 * Streams transactions from a CSV file with a header row: the one reader of the offline commands
 * (`value fit|score`, `recommend evaluate`). The amount is one column, or quantity × unit price
 * (invoice-line files); an item column (and an invoice and a description column) may be named too.
 * Rules, each counted in the stats: rows without a customer id are skipped (guest checkouts); rows
 * with a negative amount are skipped (cancellations and returns: the models describe purchases); a
 * row with amount 0 (a free line, a gift) is still a purchase: the purchase process counts it, and
 * only the spend model leaves it out (`summary.ts`).
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
  /** The item (stock code, SKU) column, for the recommendation commands. */
  item?: string;
  /** The invoice (order) column: cancellations are told by it in some files. */
  invoice?: string;
  /** The item's name, for explanations. */
  description?: string;
}

/** One line as read: a transaction, and what else the columns named (recommendations read the item). */
export interface TransactionLine extends Transaction {
  /** Day and time as written after the date (empty without one), so lines of one day keep their order. */
  time: string;
  item?: string;
  invoice?: string;
  description?: string;
  /** With quantity and price columns. */
  quantity?: number;
  price?: number;
}

/** What reading saw, filled in as it goes. */
export interface TransactionReadStats {
  /** Data rows (the header excluded). */
  rows: number;
  /** Rows handed on as transactions. */
  used: number;
  /** Rows skipped for an empty customer id. */
  missingCustomer: number;
  /** Rows skipped for a negative amount. */
  negativeAmount: number;
  /** Rows with amount 0 (handed on: a purchase for the purchase process, left out of the spend model). */
  zeroAmount: number;
}

/** Fresh, zeroed stats. */
export function emptyReadStats(): TransactionReadStats {
  return { rows: 0, used: 0, missingCustomer: 0, negativeAmount: 0, zeroAmount: 0 };
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

/** What follows the date in a date-time cell ("08:26:00"), empty when nothing does. */
function timeOf(raw: string): string {
  const text = raw.trim();
  const space = text.search(/[ T]/);
  return space < 0 ? '' : text.slice(space + 1).trim();
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
): AsyncGenerator<TransactionLine> {
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
    | {
        customer: number;
        date: number;
        amount: number;
        quantity: number;
        price: number;
        item: number;
        invoice: number;
        description: number;
      }
    | undefined;
  const optional = (record: readonly string[], name: string | undefined) =>
    name === undefined ? -1 : columnIndex(record, name, path);
  const cell = (record: readonly string[], index: number) => (index >= 0 ? (record[index] ?? '') : '');
  for await (const { record, info } of parser as AsyncIterable<{
    record: string[];
    info: { lines: number };
  }>) {
    if (!indexes) {
      indexes = {
        customer: columnIndex(record, columns.customer, path),
        date: columnIndex(record, columns.date, path),
        amount: optional(record, columns.amount),
        quantity: optional(record, columns.quantity),
        price: optional(record, columns.price),
        item: optional(record, columns.item),
        invoice: optional(record, columns.invoice),
        description: optional(record, columns.description),
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
    let quantity: number | undefined;
    let price: number | undefined;
    if (indexes.amount >= 0) {
      amount = parseAmount(cell(record, indexes.amount));
    } else {
      quantity = parseAmount(cell(record, indexes.quantity));
      price = parseAmount(cell(record, indexes.price));
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
    if (amount < 0) {
      stats.negativeAmount++;
      continue;
    }
    if (amount === 0) stats.zeroAmount++;
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
    const line: TransactionLine = { customerId, date, amount, time: timeOf(raw) };
    if (indexes.item >= 0) line.item = cell(record, indexes.item).trim();
    if (indexes.invoice >= 0) line.invoice = cell(record, indexes.invoice).trim();
    if (indexes.description >= 0) line.description = cell(record, indexes.description).trim();
    if (quantity !== undefined) line.quantity = quantity;
    if (price !== undefined) line.price = price;
    yield line;
  }
  if (!indexes) {
    throw invalid('INPUT_EMPTY', `The file ${path} has no header row.`, { file: path });
  }
}
