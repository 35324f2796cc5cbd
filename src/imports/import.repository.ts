import type { Selectable } from 'kysely';
import { sql } from 'kysely';
import type { Tx } from '../db/index.ts';
import type { ImportRunsTable } from '../db/schema.ts';
import type { ImportFormat, ImportKind } from './import.ts';

/** All SQL of import runs: the checkpoint of each import, advanced in the transaction of each batch. */

export interface ImportRun {
  id: string;
  workspaceId: string;
  kind: ImportKind;
  format: ImportFormat;
  filePath: string;
  fingerprint: string;
  rejectsPath: string;
  checkpointLine: number;
  checkpointOffset: number;
  rejectsOffset: number;
  createdCount: number;
  duplicateCount: number;
  rejectedCount: number;
  status: 'running' | 'completed' | 'abandoned';
  startedAt: string;
  updatedAt: string;
  finishedAt: string | null;
  /** The batch in flight when the run last wrote, if any (see `markAttempt`). */
  attempt: ImportAttempt | null;
}

/** A batch about to be stored: from the checkpoint `offset` to `endOffset`, or one row alone. */
export interface ImportAttempt {
  offset: number;
  endOffset: number;
  single: boolean;
}

function toRun(row: Selectable<ImportRunsTable>): ImportRun {
  return {
    id: row.id,
    workspaceId: row.workspace_id,
    kind: row.kind as ImportKind,
    format: row.format as ImportFormat,
    filePath: row.file_path,
    fingerprint: row.fingerprint,
    rejectsPath: row.rejects_path,
    checkpointLine: Number(row.checkpoint_line),
    checkpointOffset: Number(row.checkpoint_offset),
    rejectsOffset: Number(row.rejects_offset),
    createdCount: Number(row.created_count),
    duplicateCount: Number(row.duplicate_count),
    rejectedCount: Number(row.rejected_count),
    status: row.status as ImportRun['status'],
    startedAt: row.started_at.toISOString(),
    updatedAt: row.updated_at.toISOString(),
    finishedAt: row.finished_at?.toISOString() ?? null,
    attempt:
      row.attempt_offset === null || row.attempt_end_offset === null
        ? null
        : {
            offset: Number(row.attempt_offset),
            endOffset: Number(row.attempt_end_offset),
            single: row.attempt_single,
          },
  };
}

/**
 * Serialises the start of imports of one file into one workspace until the transaction ends, so two
 * processes never both start a run of it.
 */
export async function lockFingerprint(tx: Tx, workspaceId: string, fingerprint: string): Promise<void> {
  await sql`SELECT pg_advisory_xact_lock(hashtextextended(${`import:${workspaceId}:${fingerprint}`}, 0))`.execute(
    tx,
  );
}

/** The unfinished run of the same file (same kind and fingerprint), if any; locked until the transaction ends. */
export async function findRunningRun(
  tx: Tx,
  workspaceId: string,
  kind: ImportKind,
  fingerprint: string,
): Promise<ImportRun | undefined> {
  const row = await tx
    .selectFrom('import_runs')
    .selectAll()
    .where('workspace_id', '=', workspaceId)
    .where('fingerprint', '=', fingerprint)
    .where('status', '=', 'running')
    .where('kind', '=', kind)
    .orderBy('started_at', 'desc')
    .limit(1)
    .forUpdate()
    .executeTakeFirst();
  return row ? toRun(row) : undefined;
}

export async function findRun(tx: Tx, workspaceId: string, id: string): Promise<ImportRun | undefined> {
  const row = await tx
    .selectFrom('import_runs')
    .selectAll()
    .where('workspace_id', '=', workspaceId)
    .where('id', '=', id)
    .executeTakeFirst();
  return row ? toRun(row) : undefined;
}

export async function insertRun(
  tx: Tx,
  run: {
    workspaceId: string;
    id: string;
    kind: ImportKind;
    format: ImportFormat;
    filePath: string;
    fingerprint: string;
    rejectsPath: string;
    checkpointLine: number;
    checkpointOffset: number;
  },
): Promise<ImportRun> {
  const row = await tx
    .insertInto('import_runs')
    .values({
      workspace_id: run.workspaceId,
      id: run.id,
      kind: run.kind,
      format: run.format,
      file_path: run.filePath,
      fingerprint: run.fingerprint,
      rejects_path: run.rejectsPath,
      checkpoint_line: run.checkpointLine,
      checkpoint_offset: run.checkpointOffset,
      rejects_offset: 0,
      created_count: 0,
      duplicate_count: 0,
      rejected_count: 0,
      status: 'running',
    })
    .returningAll()
    .executeTakeFirstOrThrow();
  return toRun(row);
}

/** Marks every unfinished run of a file abandoned (`--restart`). */
export async function abandonRunningRuns(
  tx: Tx,
  workspaceId: string,
  kind: ImportKind,
  fingerprint: string,
): Promise<number> {
  const result = await tx
    .updateTable('import_runs')
    .set({ status: 'abandoned', updated_at: sql<Date>`now()`, finished_at: sql<Date>`now()` })
    .where('workspace_id', '=', workspaceId)
    .where('fingerprint', '=', fingerprint)
    .where('kind', '=', kind)
    .where('status', '=', 'running')
    .executeTakeFirst();
  return Number(result.numUpdatedRows);
}

/**
 * Locks a running run for the batch about to commit and returns it; undefined when the run is no
 * longer running. A second process importing the same file waits here, then sees that the
 * checkpoint moved.
 */
export async function lockRunningRun(
  tx: Tx,
  workspaceId: string,
  id: string,
): Promise<ImportRun | undefined> {
  const row = await tx
    .selectFrom('import_runs')
    .selectAll()
    .where('workspace_id', '=', workspaceId)
    .where('id', '=', id)
    .where('status', '=', 'running')
    .forUpdate()
    .executeTakeFirst();
  return row ? toRun(row) : undefined;
}

/** Moves a run's checkpoint past a batch and adds the batch's counts. */
export async function advanceRun(
  tx: Tx,
  workspaceId: string,
  id: string,
  checkpoint: {
    line: number;
    offset: number;
    rejectsOffset: number;
    created: number;
    duplicate: number;
    rejected: number;
  },
): Promise<void> {
  await tx
    .updateTable('import_runs')
    .set((eb) => ({
      checkpoint_line: checkpoint.line,
      checkpoint_offset: checkpoint.offset,
      rejects_offset: checkpoint.rejectsOffset,
      created_count: eb('created_count', '+', checkpoint.created),
      duplicate_count: eb('duplicate_count', '+', checkpoint.duplicate),
      rejected_count: eb('rejected_count', '+', checkpoint.rejected),
      updated_at: sql<Date>`now()`,
    }))
    .where('workspace_id', '=', workspaceId)
    .where('id', '=', id)
    .execute();
}

/**
 * Records, in its own committed transaction, the batch about to be stored from the run's checkpoint:
 * if the process dies storing it, the next run finds it and goes row by row instead.
 */
export async function markAttempt(
  tx: Tx,
  workspaceId: string,
  id: string,
  attempt: ImportAttempt,
): Promise<void> {
  await tx
    .updateTable('import_runs')
    .set({
      attempt_offset: attempt.offset,
      attempt_end_offset: attempt.endOffset,
      attempt_single: attempt.single,
    })
    .where('workspace_id', '=', workspaceId)
    .where('id', '=', id)
    .where('status', '=', 'running')
    .execute();
}

/** Marks a run completed and returns it. */
export async function completeRun(tx: Tx, workspaceId: string, id: string): Promise<ImportRun | undefined> {
  const row = await tx
    .updateTable('import_runs')
    .set({ status: 'completed', updated_at: sql<Date>`now()`, finished_at: sql<Date>`now()` })
    .where('workspace_id', '=', workspaceId)
    .where('id', '=', id)
    .where('status', '=', 'running')
    .returningAll()
    .executeTakeFirst();
  return row ? toRun(row) : undefined;
}

/**
 * Runs `fn` inside a savepoint of the transaction: when it fails, only its own writes are undone and
 * the batch can go on without them.
 */
export async function withSavepoint<T>(tx: Tx, fn: () => Promise<T>): Promise<T> {
  await sql`SAVEPOINT import_rows`.execute(tx);
  try {
    const result = await fn();
    await sql`RELEASE SAVEPOINT import_rows`.execute(tx);
    return result;
  } catch (error) {
    await sql`ROLLBACK TO SAVEPOINT import_rows`.execute(tx);
    throw error;
  }
}
