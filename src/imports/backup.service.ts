import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { createInterface } from 'node:readline';
import type { Kysely } from 'kysely';
import {
  type AuditKeys,
  type ChainReport,
  type Checkpoint,
  computeAuditKeyFingerprint,
  parseCheckpoint,
  signCheckpoint,
  verifyWorkspaceAuditChain,
} from '../audit/index.ts';
import {
  type DB,
  insertTableRows,
  inWorkspace,
  listWorkspaceTables,
  readTableRows,
  type Tx,
  type WorkspaceTable,
} from '../db/index.ts';
import type { AccessScope } from '../governance/index.ts';
import { type AppError, conflict, invalid } from '../shared/errors.ts';
import { listWorkspaces } from '../workspaces/index.ts';
import { EXPORT_HEADER_RECORD, isPlainObject } from './import.ts';

/**
 * The backup of a workspace: every row of every table of the workspace, found in the catalog (so a
 * table a later migration adds is in every backup without anyone remembering it), written in one
 * snapshot; and its restore, all or nothing, into a data directory or server that does not have the
 * workspace yet, to the identical state: ids, ledgers, the audit chain (which still verifies under the
 * same audit key) and all.
 */

/** Version of the backup format (the records export of other purposes is version 1). */
export const BACKUP_FORMAT_VERSION = 2;

/**
 * Workspace tables a backup leaves out, each with its reason. A table of the catalog that is neither
 * backed up nor listed here fails the backup test.
 */
export const BACKUP_EXCLUDED_TABLES: Readonly<Record<string, string>> = {
  import_runs:
    'checkpoints of file imports on the machine that ran them: their paths mean nothing elsewhere, and a ' +
    'restored unfinished run would make a new import of a file at the same path resume instead of start',
  job_failures:
    "the event backbone's retry state of one installation, naming events by id: a restored workspace " +
    'starts with a clean queue and its derived data is recomputed by the scheduled jobs',
  user_sessions:
    'signed-in sessions are bearer credentials of the installation that issued them: after a restore, ' +
    'staff sign in again',
  recommendation_models:
    'derived from the interactions by the training job, which replaces it whole: `recommend train` (or the ' +
    'daily job) rebuilds it after a restore',
  recommendation_lists:
    "each customer's trained list, replaced whole by the training job that rebuilds it after a restore",
};

/** How many rows a backup reads, and a restore inserts, at a time. */
const PAGE_SIZE = 1000;

/** The tables a backup copies, parents first. */
export async function listBackupTables(tx: Tx): Promise<WorkspaceTable[]> {
  return (await listWorkspaceTables(tx)).filter((t) => !(t.name in BACKUP_EXCLUDED_TABLES));
}

/** What a backup wrote: rows per table. */
export interface BackupCounts {
  tables: Record<string, number>;
  customerIds: string[];
}

/**
 * Writes the scope's workspace as a backup through `emit`: the header (with the audit key's
 * fingerprint and every table's columns), one line per row, table by table, and an end line with the
 * count of every table, so a restore can tell a complete file from a cut one. Reads only: the caller
 * records the export's disclosures and audit events after it, so the backup is the state before them.
 */
export async function writeBackup(
  scope: AccessScope,
  header: { recipient: string; auditKeys: AuditKeys },
  emit: (lines: string) => Promise<void>,
): Promise<BackupCounts> {
  const { tx } = scope;
  const workspaceId = scope.actor.workspaceId;
  const tables = await listBackupTables(tx);
  await emit(
    `${JSON.stringify({
      record: EXPORT_HEADER_RECORD,
      version: BACKUP_FORMAT_VERSION,
      format: 'backup',
      workspace: { id: workspaceId, name: scope.workspace.name },
      purpose: scope.purpose,
      recipient: header.recipient,
      exportedAt: scope.now.toISOString(),
      auditKey: computeAuditKeyFingerprint(header.auditKeys),
      tables: tables.map((t) => ({ name: t.name, columns: t.columns })),
    })}\n`,
  );
  const counts: BackupCounts = { tables: {}, customerIds: [] };
  // The chain's head as this backup holds it, signed at the end: a restore verifies against it.
  let head: { seq: number; hash: string } | null = null;
  for (const table of tables) {
    let after: Record<string, unknown> | null = null;
    let count = 0;
    for (;;) {
      const rows = await readTableRows(tx, table, workspaceId, after, PAGE_SIZE);
      if (rows.length === 0) break;
      await emit(
        rows.map((row) => `${JSON.stringify({ record: 'row', table: table.name, row })}\n`).join(''),
      );
      if (table.name === 'customers') counts.customerIds.push(...rows.map((r) => String(r.id)));
      if (table.name === 'audit_events') {
        const last = rows[rows.length - 1] as { seq: unknown; hash: unknown };
        head = { seq: Number(last.seq), hash: String(last.hash) };
      }
      count += rows.length;
      after = rows[rows.length - 1] ?? null;
      if (rows.length < PAGE_SIZE) break;
    }
    counts.tables[table.name] = count;
  }
  const checkpoint = head ? signCheckpoint({ workspaceId, ...head }, scope.now, header.auditKeys) : null;
  await emit(`${JSON.stringify({ record: 'end', rows: counts.tables, checkpoint })}\n`);
  return counts;
}

/** The header of a backup, as `restoreBackup` reads it. */
export interface BackupHeader {
  workspace: { id: string; name: string };
  exportedAt: string;
  auditKey: string;
  tables: { name: string; columns: string[] }[];
}

/** The outcome of a restore. */
export interface RestoreSummary {
  workspace: { id: string; name: string };
  file: string;
  /** Rows restored per table. */
  tables: Record<string, number>;
  rows: number;
  /** The restored audit chain, verified. */
  audit: ChainReport;
  seconds: number;
}

function backupInvalid(file: string, line: number, why: string): AppError {
  return invalid('RESTORE_BACKUP_INVALID', `${file}, line ${line}: ${why}; nothing was restored.`, {
    file,
    line,
  });
}

async function* numberedLines(file: string): AsyncGenerator<{ line: number; text: string }> {
  const input = createReadStream(file, { encoding: 'utf8' });
  const reader = createInterface({ input, crlfDelay: Number.POSITIVE_INFINITY });
  let line = 0;
  try {
    for await (const text of reader) {
      line += 1;
      if (text.trim() !== '') yield { line, text };
    }
  } finally {
    reader.close();
    input.destroy();
  }
}

/** The version of an export file from its first line: 1 (records) or 2 (backup); null when it is no export. */
export async function readExportVersion(file: string): Promise<number | null> {
  const info = await stat(file).catch(() => undefined);
  if (!info?.isFile()) throw invalid('IMPORT_FILE_NOT_FOUND', `No file at ${file}.`, { file });
  for await (const { text } of numberedLines(file)) {
    try {
      const value: unknown = JSON.parse(text);
      return isPlainObject(value) &&
        value.record === EXPORT_HEADER_RECORD &&
        typeof value.version === 'number'
        ? value.version
        : null;
    } catch {
      return null;
    }
  }
  return null;
}

function parseHeader(file: string, text: string): BackupHeader {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw backupInvalid(file, 1, 'the header is not JSON');
  }
  if (
    !isPlainObject(value) ||
    value.record !== EXPORT_HEADER_RECORD ||
    value.version !== BACKUP_FORMAT_VERSION ||
    !isPlainObject(value.workspace) ||
    typeof value.workspace.id !== 'string' ||
    typeof value.workspace.name !== 'string' ||
    typeof value.auditKey !== 'string' ||
    !Array.isArray(value.tables)
  ) {
    throw backupInvalid(
      file,
      1,
      `the header is not the header of a backup (version ${BACKUP_FORMAT_VERSION})`,
    );
  }
  return value as unknown as BackupHeader;
}

/**
 * Restores a backup into the database, which must not have its workspace yet (a fresh data directory
 * or server, or one the workspace was never in): the workspace row, then every table's rows in the
 * file's order (parents first), ids and all, in one transaction of the workspace: a file cut short, a
 * malformed line or a table this version does not know stores nothing. Ledgers that refuse updates
 * and deletes take inserts; the audit chain is restored link by link and verified afterwards under the
 * installation's audit key, which must be the key the backup was written under.
 */
export async function restoreBackup(
  db: Kysely<DB>,
  file: string,
  keys: AuditKeys,
  options: { workspace?: string | undefined } = {},
): Promise<RestoreSummary> {
  const startedAt = performance.now();
  const lines = numberedLines(file);
  const first = await lines.next();
  if (first.done) throw backupInvalid(file, 1, 'the file is empty');
  const header = parseHeader(file, first.value.text);
  const target = header.workspace;
  let checkpoint: Checkpoint | null = null;
  if (
    options.workspace !== undefined &&
    options.workspace !== target.id &&
    options.workspace !== target.name
  ) {
    throw invalid(
      'RESTORE_WORKSPACE_MISMATCH',
      `${file} is a backup of workspace ${target.name} (${target.id}); a backup restores only as itself. Leave out --workspace.`,
      { workspace: options.workspace, backup: target },
    );
  }
  if (header.auditKey !== computeAuditKeyFingerprint(keys)) {
    throw conflict(
      'RESTORE_AUDIT_KEY_MISMATCH',
      'The backup was written under another audit key, so its audit chain could never verify here: copy audit-key (and audit-signing-key.pem, audit-checkpoints.ndjson) from the original data directory, or set CORNERSTORE_AUDIT_KEY, then run the restore again.',
      { backupKey: header.auditKey, installedKey: computeAuditKeyFingerprint(keys) },
    );
  }
  const existing = (await listWorkspaces(db)).find((w) => w.id === target.id || w.name === target.name);
  if (existing) {
    throw conflict(
      existing.id === target.id ? 'RESTORE_WORKSPACE_EXISTS' : 'RESTORE_WORKSPACE_NAME_TAKEN',
      existing.id === target.id
        ? `Workspace ${target.name} (${target.id}) is already here; a backup restores into a data directory or database without it. Nothing was changed.`
        : `A workspace named ${target.name} already exists here (${existing.id}); restore into a fresh data directory or database. Nothing was changed.`,
      { workspace: target },
    );
  }
  const columnsOf = new Map(header.tables.map((t) => [t.name, t.columns]));
  const restored: Record<string, number> = {};
  await inWorkspace(db, target.id, async (tx) => {
    const tables = new Map((await listWorkspaceTables(tx)).map((t) => [t.name, t]));
    // Consecutive rows of one table go in together, up to a page.
    let batchTable: WorkspaceTable | null = null;
    let batchRows: Record<string, unknown>[] = [];
    const flush = async () => {
      if (batchTable && batchRows.length > 0) {
        await insertTableRows(tx, batchTable, batchRows);
        restored[batchTable.name] = (restored[batchTable.name] ?? 0) + batchRows.length;
      }
      batchRows = [];
    };
    let ended: Record<string, unknown> | null = null;
    for await (const { line, text } of lines) {
      if (ended) throw backupInvalid(file, line, 'there is more after the end line');
      let value: unknown;
      try {
        value = JSON.parse(text);
      } catch {
        throw backupInvalid(file, line, 'the line is not JSON');
      }
      if (!isPlainObject(value)) throw backupInvalid(file, line, 'the line is not a JSON object');
      if (value.record === 'end') {
        ended = isPlainObject(value.rows) ? value.rows : {};
        checkpoint = isPlainObject(value.checkpoint)
          ? parseCheckpoint(JSON.stringify(value.checkpoint))
          : null;
        continue;
      }
      if (value.record !== 'row' || typeof value.table !== 'string' || !isPlainObject(value.row)) {
        throw backupInvalid(file, line, 'each line after the header is a "row" record of a table');
      }
      const known = tables.get(value.table);
      const columns = columnsOf.get(value.table);
      if (!known || !columns || columns.some((c) => !known.columns.includes(c))) {
        throw backupInvalid(
          file,
          line,
          `table ${value.table} (with the columns the header names) is not in this version's schema`,
        );
      }
      if (value.row[known.workspaceColumn] !== target.id) {
        throw backupInvalid(file, line, `the row belongs to another workspace than ${target.id}`);
      }
      if (batchTable?.name !== value.table || batchRows.length >= PAGE_SIZE) {
        await flush();
        batchTable = { ...known, columns };
      }
      batchRows.push(value.row);
    }
    await flush();
    if (!ended) throw backupInvalid(file, 0, 'the file ends before its end line: it was cut short');
    const expected = ended;
    const wrong = Object.keys({ ...expected, ...restored }).filter(
      (t) => Number(expected[t] ?? 0) !== (restored[t] ?? 0),
    );
    if (wrong.length > 0) {
      throw backupInvalid(
        file,
        0,
        `the rows of ${wrong.join(', ')} do not add up to the counts of the end line`,
      );
    }
  });
  // The chain is verified against the checkpoint the backup was signed with (the head it holds), not the
  // installation's latest: events after the backup are not in it, and a later checkpoint would call that
  // trimming. A backup without one (written before this format) is held to the installation's latest.
  const audit = await verifyWorkspaceAuditChain(db, target.id, keys, checkpoint ? { checkpoint } : {});
  return {
    workspace: target,
    file,
    tables: restored,
    rows: Object.values(restored).reduce((a, b) => a + b, 0),
    audit,
    seconds: Math.round(performance.now() - startedAt) / 1000,
  };
}
