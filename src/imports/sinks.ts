import { type ExportedCustomer, parseExportedCustomer, restoreCustomers } from '../customers/index.ts';
import { classifyDatabaseError } from '../db/index.ts';
import { type AccessScope, ingestGoverned, recordFactGoverned } from '../governance/index.ts';
import { type IngestResult, type Interaction, toIngestItem } from '../interactions/index.ts';
import { isAppError } from '../shared/errors.ts';
import { withSavepoint } from './import.repository.ts';
import {
  type CsvColumn,
  csvRecordToInteraction,
  EXPORT_HEADER_RECORD,
  type Row,
  type RowError,
} from './import.ts';

/**
 * Where the rows of a batch go: interactions to ingest, an export's customers to restore. Rows the
 * domain refuses come back as rejects with the domain's error; nothing here opens a transaction.
 */

/** A row that was read, with its parsed value. */
export interface RowItem {
  row: Row;
  value: unknown;
}

/** What the domain did with a batch. */
export interface StoredBatch {
  created: number;
  duplicate: number;
  rejected: { row: Row; error: RowError }[];
}

/** The position of an item in an ingest call, at the start of a path: `interactions[3].`. */
const ITEM_PATH = /^[A-Za-z]*\[\d+\]\.?/;

/** The problem paths of an item error are relative to the call (`items[3].amount`); make them relative to the row. */
function rowError(itemError: RowError | undefined): RowError {
  if (!itemError) return { code: 'ROW_REJECTED', message: 'The row was rejected.' };
  const message = itemError.message.replace(ITEM_PATH, '');
  const error = { ...itemError, message: message.startsWith(' ') ? `The row${message}` : message };
  const details = error.details as { errors?: unknown } | undefined;
  if (!details || !Array.isArray(details.errors)) return error;
  const errors = details.errors.map((problem: unknown) => {
    if (problem === null || typeof problem !== 'object') return problem;
    const { path } = problem as { path?: unknown };
    if (typeof path !== 'string') return problem;
    return { ...problem, path: path.replace(ITEM_PATH, '') || '(row)' };
  });
  return { ...error, details: { ...details, errors } };
}

async function ingest(scope: AccessScope, rows: Row[], items: unknown[], stored: StoredBatch): Promise<void> {
  if (items.length === 0) return;
  const results: IngestResult[] = await ingestGoverned(scope, items, { atomic: false });
  for (const result of results) {
    if (result.status === 'created') stored.created++;
    else if (result.status === 'duplicate') stored.duplicate++;
    else {
      const row = rows[result.index];
      if (row) stored.rejected.push({ row, error: rowError(result.error) });
    }
  }
}

/** Ingests a batch of interactions: JSON objects, or CSV records read with `columns`. */
export async function ingestBatch(
  scope: AccessScope,
  items: readonly RowItem[],
  columns: readonly CsvColumn[] | null,
): Promise<StoredBatch> {
  const stored: StoredBatch = { created: 0, duplicate: 0, rejected: [] };
  const rows: Row[] = [];
  const values: unknown[] = [];
  for (const { row, value } of items) {
    if (columns) {
      const converted = csvRecordToInteraction(columns, value as string[]);
      if (!converted.ok) {
        stored.rejected.push({ row, error: converted.error });
        continue;
      }
      values.push(converted.value);
    } else {
      values.push(value);
    }
    rows.push(row);
  }
  await ingest(scope, rows, values, stored);
  return stored;
}

function withoutRecord(value: Record<string, unknown>): Record<string, unknown> {
  const { record: _record, ...rest } = value;
  return rest;
}

/** An error a row can be rejected for; failures of the database itself stop the import instead. */
function rejectionOf(error: unknown): RowError | undefined {
  const appError = classifyDatabaseError(error);
  if (appError.kind === 'unavailable' || appError.kind === 'internal') return undefined;
  return {
    code: appError.code,
    message: appError.message,
    ...(appError.details === undefined ? {} : { details: appError.details }),
  };
}

/**
 * Restores customers all at once; when that fails (an identity already held by another customer),
 * restores them one by one, each in a savepoint, to reject only those that cannot be restored.
 */
async function restore(
  scope: AccessScope,
  customers: readonly { row: Row; customer: ExportedCustomer }[],
  stored: StoredBatch,
): Promise<void> {
  if (customers.length === 0) return;
  const { tx, actor } = scope;
  const add = (outcome: { restored: number; skipped: number }) => {
    stored.created += outcome.restored;
    stored.duplicate += outcome.skipped;
  };
  scope.audit({
    action: 'customer.restore',
    purpose: scope.purpose,
    customerIds: customers.map((c) => c.customer.id),
    fields: ['customer'],
  });
  try {
    add(
      await withSavepoint(tx, () =>
        restoreCustomers(
          tx,
          actor,
          customers.map((c) => c.customer),
        ),
      ),
    );
    return;
  } catch (error) {
    if (rejectionOf(error) === undefined) throw error;
  }
  for (const { row, customer } of customers) {
    try {
      add(await withSavepoint(tx, () => restoreCustomers(tx, actor, [customer])));
    } catch (error) {
      const rejection = rejectionOf(error);
      if (rejection === undefined) throw error;
      stored.rejected.push({ row, error: rejection });
    }
  }
}

/**
 * Restores a batch of an export: customers first (with their ids, identities, contact points and
 * provenance), then interactions naming their customer by id. Both are idempotent, so a second
 * restore of the same file stores nothing new.
 */
export async function restoreBatch(scope: AccessScope, items: readonly RowItem[]): Promise<StoredBatch> {
  const stored: StoredBatch = { created: 0, duplicate: 0, rejected: [] };
  const customers: { row: Row; customer: ExportedCustomer }[] = [];
  const interactionRows: Row[] = [];
  const interactions: unknown[] = [];
  const facts: { row: Row; record: Record<string, unknown> }[] = [];
  for (const { row, value } of items) {
    const record = value as Record<string, unknown>;
    if (record.record === 'customer') {
      try {
        customers.push({ row, customer: parseExportedCustomer(withoutRecord(record)) });
      } catch (error) {
        if (!isAppError(error)) throw error;
        const details = error.details === undefined ? {} : { details: error.details };
        stored.rejected.push({ row, error: { code: error.code, message: error.message, ...details } });
      }
    } else if (record.record === 'fact') {
      facts.push({ row, record });
    } else if (record.record === 'interaction') {
      interactions.push(toIngestItem(withoutRecord(record) as unknown as Interaction));
      interactionRows.push(row);
    } else if (record.record === EXPORT_HEADER_RECORD) {
      stored.rejected.push({
        row,
        error: {
          code: 'EXPORT_HEADER_REPEATED',
          message: 'An export header in the middle of a file; concatenated exports are not supported.',
        },
      });
    } else {
      stored.rejected.push({
        row,
        error: {
          code: 'EXPORT_RECORD_UNKNOWN',
          message: 'Unknown record; each line of an export is a "customer", "fact" or "interaction" record.',
          details: { record: record.record ?? null },
        },
      });
    }
  }
  await restore(scope, customers, stored);
  await restoreFacts(scope, facts, stored);
  await ingest(scope, interactionRows, interactions, stored);
  return stored;
}

/**
 * Records exported facts again, with their source kind, source and time of capture, under the memory
 * rules of the workspace restored into; the same fact twice is stored once. A fact refused (or of a
 * customer not restored) is a rejected row with its code.
 */
async function restoreFacts(
  scope: AccessScope,
  facts: readonly { row: Row; record: Record<string, unknown> }[],
  stored: StoredBatch,
): Promise<void> {
  for (const { row, record } of facts) {
    const provenance = (record.provenance ?? {}) as Record<string, unknown>;
    try {
      const answer = await withSavepoint(scope.tx, () =>
        recordFactGoverned(scope, String(record.customerId ?? ''), {
          key: String(record.key ?? ''),
          value: record.value,
          sourceKind: (record.sourceKind as 'declared') ?? 'declared',
          source: typeof provenance.source === 'string' ? provenance.source : 'import',
          ...(typeof provenance.capturedAt === 'string' ? { capturedAt: provenance.capturedAt } : {}),
          ...(typeof record.expiresAt === 'string' ? { expiresAt: record.expiresAt } : {}),
          ...(record.remember === true ? { remember: true } : {}),
          consentPurposes: Array.isArray(record.consentPurposes) ? (record.consentPurposes as string[]) : [],
        }),
      );
      if (answer.outcome === 'unchanged') stored.duplicate++;
      else stored.created++;
    } catch (error) {
      if (!isAppError(error)) throw error;
      stored.rejected.push({ row, error: { code: error.code, message: error.message } });
    }
  }
}
