import { createHash } from 'node:crypto';
import { strToU8, zipSync } from 'fflate';
import { getCustomer } from '../customers/index.ts';
import { listWorkspaceTables, type Tx } from '../db/index.ts';
import type { AccessScope } from '../governance/index.ts';
import * as repo from './privacy.repository.ts';

/**
 * The right of access and portability (SPEC §5.4): everything held on the person, in one archive — a
 * machine-readable `data.json` and one CSV file per table. Which tables hold the person is read from the
 * catalog (every column naming a customer: a foreign key to `customers` or a `customer_id`), so a table a
 * later migration adds is in the archive without anyone remembering it; the person is the customer and
 * every customer merged into it. The access log (who looked, for which purpose) comes from the audit
 * chain's subject index. The export is the privacy office's read under `legal` and is itself audited.
 */

/** What one archive holds. */
export interface AccessArchive {
  zip: Uint8Array;
  sha256: string;
  /** The files of the archive with their row counts. */
  files: { name: string; rows: number }[];
  /** Rows per table (and `access_log`), as in `data.json`. */
  tables: Record<string, number>;
}

/** The archive's format version (data.json's `format`). */
export const ACCESS_ARCHIVE_FORMAT = 'cornerstore.access.v1';

/** The tables naming a customer (columns) with their primary keys, from the catalog. */
interface PersonTables {
  keys: Map<string, string[]>;
  byTable: Map<string, string[]>;
}

/**
 * Read from the catalog once per process: the schema changes only by migrations, which run before a
 * process serves (reading `information_schema` costs more than the rest of an archive on a busy server).
 */
let personTablesOnce: Promise<PersonTables> | undefined;

function personTables(tx: Tx): Promise<PersonTables> {
  personTablesOnce ??= (async () => {
    const keys = new Map((await listWorkspaceTables(tx)).map((t) => [t.name, t.primaryKey]));
    const byTable = new Map<string, string[]>();
    for (const { table, column } of await repo.listCustomerColumns(tx)) {
      byTable.set(table, [...(byTable.get(table) ?? []), column]);
    }
    return { keys, byTable };
  })().catch((error: unknown) => {
    personTablesOnce = undefined;
    throw error;
  });
  return personTablesOnce;
}

/** Builds the archive of one customer (CUSTOMER_NOT_FOUND for an unknown or merged-away id). */
export async function buildAccessArchive(scope: AccessScope, customerId: string): Promise<AccessArchive> {
  const { tx } = scope;
  const workspaceId = scope.actor.workspaceId;
  const id = (await getCustomer(tx, scope.actor, customerId)).id;
  const ids = await repo.findPersonIds(tx, workspaceId, id);
  const { keys, byTable } = await personTables(tx);
  const tables: Record<string, Record<string, unknown>[]> = {};
  for (const [table, columns] of [...byTable].sort(([a], [b]) => a.localeCompare(b))) {
    // Tables without a workspace (the migrations' own) hold no one.
    const primaryKey = keys.get(table);
    if (primaryKey === undefined || primaryKey.length === 0) continue;
    const rows = await repo.readRowsNaming(tx, workspaceId, table, columns, ids, primaryKey);
    if (rows.length > 0) tables[table] = rows;
  }
  const accessLog = await repo.listAuditEventsNaming(tx, workspaceId, ids);
  const data = {
    format: ACCESS_ARCHIVE_FORMAT,
    workspace: workspaceId,
    customerId: id,
    mergedIds: ids.filter((other) => other !== id),
    exportedAt: scope.now.toISOString(),
    tables,
    accessLog,
  };
  const files: Record<string, Uint8Array> = { 'data.json': strToU8(JSON.stringify(data)) };
  const listed: { name: string; rows: number }[] = [
    { name: 'data.json', rows: Object.values(tables).reduce((n, rows) => n + rows.length, 0) },
  ];
  for (const [table, rows] of Object.entries(tables)) {
    files[`csv/${table}.csv`] = strToU8(toCsv(rows));
    listed.push({ name: `csv/${table}.csv`, rows: rows.length });
  }
  files['csv/access_log.csv'] = strToU8(toCsv(accessLog));
  listed.push({ name: 'csv/access_log.csv', rows: accessLog.length });
  // A fixed modification time: the same data gives the same bytes (and digest).
  // Level 1: the archive is made while the request waits; most of its size is repetitive JSON and CSV.
  const zip = zipSync(files, { level: 1, mtime: scope.now });
  scope.audit({
    action: 'privacy.access_export',
    purpose: scope.purpose,
    customerIds: ids,
    fields: ['*'],
    details: { tables: Object.keys(tables) },
  });
  return {
    zip,
    sha256: createHash('sha256').update(zip).digest('hex'),
    files: listed,
    tables: {
      ...Object.fromEntries(Object.entries(tables).map(([t, rows]) => [t, rows.length])),
      access_log: accessLog.length,
    },
  };
}

/** RFC 4180 CSV of JSON rows: every column any row has, objects and arrays as JSON text. */
export function toCsv(rows: readonly Record<string, unknown>[]): string {
  const columns = [...new Set(rows.flatMap((r) => Object.keys(r)))];
  const cell = (value: unknown): string => {
    if (value === null || value === undefined) return '';
    const text = typeof value === 'object' ? JSON.stringify(value) : String(value);
    return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
  };
  return `${[columns.join(','), ...rows.map((r) => columns.map((c) => cell(r[c])).join(','))].join('\r\n')}\r\n`;
}
