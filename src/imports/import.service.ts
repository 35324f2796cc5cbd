import { stat } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import type { Kysely } from 'kysely';
import { analyzeLoadedTables, classifyDatabaseError, type DB, inWorkspace, type Tx } from '../db/index.ts';
import { type AccessScope, chainAuditBacklog, type ScopeOptions, withAccess } from '../governance/index.ts';
import { maskFreeText } from '../policy/index.ts';
import { conflict, invalid } from '../shared/errors.ts';
import { newId } from '../shared/ids.ts';
import { findJsonBoundsProblem, type JsonBoundsProblem } from '../shared/json-bounds.ts';
import type { Actor } from '../workspaces/index.ts';
import * as repo from './import.repository.ts';
import {
  assertBatchSize,
  assertCsvHeader,
  type BatchOutcome,
  type CsvColumn,
  computeFingerprint,
  DEFAULT_BATCH_SIZE,
  defaultRejectsPath,
  EXPORT_FORMAT_VERSION,
  EXPORT_HEADER_RECORD,
  FINGERPRINT_HEAD_BYTES,
  type ImportFormat,
  type ImportKind,
  type ImportProgress,
  type ImportSummary,
  isPlainObject,
  type RejectLine,
  type Row,
  type RowBatch,
  type RowError,
  resolveFormat,
} from './import.ts';
import { type ReadFrom, readCsvBatches, readHead, readNdjsonBatches, readRange } from './readers.ts';
import { RejectsFile } from './rejects.ts';
import { ingestBatch, type RowItem, restoreBatch } from './sinks.ts';

/**
 * Imports of files too large to hold: read in batches, each batch stored in one transaction that
 * also moves the run's checkpoint, with the batch's rejects flushed to disk before that transaction
 * commits. A crash at any point therefore leaves a checkpoint that matches both the database and the
 * rejects file, and the next attempt resumes there: nothing lost, nothing stored twice.
 */

/** What to import, as a command names it. */
export interface ImportRequest {
  kind: ImportKind;
  file: string;
  /** `ndjson` or `csv`; by default from the file extension (a workspace export is always NDJSON). */
  format?: string | undefined;
  /** Where rejected rows go; by default FILE.rejects.ndjson. */
  rejects?: string | undefined;
  batchSize?: number | undefined;
  /** Read size in bytes (tests only). */
  chunkSize?: number | undefined;
}

/** A validated import: the file exists, its format and header are known. Nothing is stored yet. */
export interface ImportPlan {
  kind: ImportKind;
  format: ImportFormat;
  /** Absolute path of the input. */
  file: string;
  size: number;
  fingerprint: string;
  rejectsPath: string;
  batchSize: number;
  /** Where rows start: after the CSV header or the export header line. */
  dataStart: { offset: number; line: number };
  /** CSV only: the header's columns. */
  columns: CsvColumn[] | null;
  chunkSize: number | undefined;
}

export interface ImportHooks {
  /** Stops the import after the batch in flight; the run stays resumable. */
  signal?: AbortSignal | undefined;
  /** Called once the run is known (new or resumed), before any row is read. */
  onStart?:
    | ((progress: ImportProgress & { resumedFromLine: number | null; rejectsFile: string }) => void)
    | undefined;
  /** Called after each committed batch. */
  onProgress?: ((progress: ImportProgress) => void) | undefined;
}

async function assertReadableFile(file: string): Promise<number> {
  const info = await stat(file).catch(() => undefined);
  if (!info) throw invalid('IMPORT_FILE_NOT_FOUND', `No file at ${file}.`, { file });
  if (!info.isFile()) throw invalid('IMPORT_FILE_NOT_FOUND', `${file} is not a regular file.`, { file });
  return info.size;
}

async function firstRow(read: AsyncGenerator<RowBatch>): Promise<{ row: Row; batch: RowBatch } | undefined> {
  try {
    const first = await read.next();
    if (first.done) return undefined;
    const row = first.value.rows[0];
    return row ? { row, batch: first.value } : undefined;
  } finally {
    await read.return(undefined);
  }
}

function formatOf(kind: ImportKind, file: string, format: string | undefined): ImportFormat {
  if (kind === 'interactions') return resolveFormat(file, format);
  if (format === undefined || format === 'ndjson') return 'ndjson';
  throw invalid('IMPORT_FORMAT_UNKNOWN', 'A workspace export is NDJSON; leave out --format or pass ndjson.', {
    format,
  });
}

/**
 * Validates an import request without storing anything: the file exists, its format is known, a CSV
 * header names only known columns, a workspace export starts with its header line.
 */
export async function planImport(request: ImportRequest): Promise<ImportPlan> {
  const file = resolve(request.file);
  const batchSize = request.batchSize ?? DEFAULT_BATCH_SIZE;
  assertBatchSize(batchSize);
  const size = await assertReadableFile(file);
  const format = formatOf(request.kind, file, request.format);
  const fingerprint = computeFingerprint(file, size, await readHead(file, FINGERPRINT_HEAD_BYTES));
  const rejectsPath = resolve(request.rejects ?? defaultRejectsPath(request.file));
  const rejectsDirectory = await stat(dirname(rejectsPath)).catch(() => undefined);
  if (!rejectsDirectory?.isDirectory()) {
    throw invalid(
      'IMPORT_REJECTS_PATH_INVALID',
      `No directory ${dirname(rejectsPath)} for the rejects file.`,
      {
        rejects: rejectsPath,
      },
    );
  }
  if (rejectsPath === file) {
    throw invalid('IMPORT_REJECTS_PATH_INVALID', 'The rejects file must not be the input file.', {
      rejects: rejectsPath,
    });
  }
  const chunkSize = request.chunkSize;
  let dataStart = { offset: 0, line: 0 };
  let columns: CsvColumn[] | null = null;
  if (format === 'csv') {
    const header = await firstRow(
      readCsvBatches(file, { offset: 0, line: 0, batchSize: 1, ...chunk(chunkSize) }),
    );
    if (!header)
      throw invalid('IMPORT_CSV_HEADER_MISSING', `${file} is empty; a CSV file starts with a header line.`);
    if (header.row.error) {
      throw invalid('IMPORT_CSV_HEADER_INVALID', `The header line of ${file} is not valid CSV.`, {
        line: header.row.line,
        error: header.row.error,
      });
    }
    columns = assertCsvHeader((header.row.value as string[]).map((name) => name.trim()));
    dataStart = { offset: header.batch.endOffset, line: header.batch.endLine };
  } else if (request.kind === 'workspace') {
    const header = await firstRow(
      readNdjsonBatches(file, { offset: 0, line: 0, batchSize: 1, ...chunk(chunkSize) }),
    );
    const value = header?.row.value;
    if (!header || !isPlainObject(value) || value.record !== EXPORT_HEADER_RECORD) {
      throw invalid(
        'IMPORT_NOT_AN_EXPORT',
        `${file} is not a workspace export: its first line must be {"record":"${EXPORT_HEADER_RECORD}",…}.`,
        { file },
      );
    }
    if (value.version !== EXPORT_FORMAT_VERSION) {
      throw invalid(
        'IMPORT_EXPORT_VERSION_UNSUPPORTED',
        `${file} is an export of version ${JSON.stringify(value.version)}; this version reads version ${EXPORT_FORMAT_VERSION}.`,
        { version: value.version ?? null, supported: [EXPORT_FORMAT_VERSION] },
      );
    }
    dataStart = { offset: header.batch.endOffset, line: header.batch.endLine };
  }
  return {
    kind: request.kind,
    format,
    file,
    size,
    fingerprint,
    rejectsPath,
    batchSize,
    dataStart,
    columns,
    chunkSize,
  };
}

function chunk(chunkSize: number | undefined): Pick<ReadFrom, 'chunkSize'> {
  return chunkSize === undefined ? {} : { chunkSize };
}

function readerOf(plan: ImportPlan): (from: ReadFrom) => AsyncGenerator<RowBatch> {
  return plan.format === 'csv'
    ? (from) => readCsvBatches(plan.file, from)
    : (from) => readNdjsonBatches(plan.file, from);
}

/** The text of a row for the rejects file: kept by the reader, or read back from the file. */
async function rawOf(plan: ImportPlan, row: Row): Promise<{ raw: string; truncated: boolean }> {
  if (row.raw !== undefined) return { raw: row.raw, truncated: row.truncated === true };
  const { text, truncated } = await readRange(plan.file, row.start, row.end);
  return { raw: truncated ? text : text.replace(/\r?\n$/, ''), truncated };
}

const POLICY_WITHHELD = '(not repeated here: the row carries data the policy forbids storing)';

async function toRejectLines(
  plan: ImportPlan,
  rejected: { row: Row; error: RowError }[],
): Promise<RejectLine[]> {
  rejected.sort((a, b) => a.row.line - b.row.line);
  const lines: RejectLine[] = [];
  for (const { row, error } of rejected) {
    // A rejects file must not become a second copy of what the policy refused to store: a row refused
    // by the policy is not echoed (the input file has it, at its line), and in every other row card
    // numbers, national ids and IBANs are masked.
    if (error.code.startsWith('POLICY_')) {
      lines.push({ line: row.line, error, raw: POLICY_WITHHELD });
      continue;
    }
    const { raw, truncated } = await rawOf(plan, row);
    lines.push({
      line: row.line,
      error,
      raw: maskFreeText(raw).text,
      ...(truncated ? { truncated: true as const } : {}),
    });
  }
  return lines;
}

// Batches are chained into the audit log once the import ends, not after every batch.
const WRITE_SCOPE: ScopeOptions = { purpose: undefined, requestId: null, mode: 'write', deferChaining: true };

function boundsError(problem: JsonBoundsProblem): RowError {
  const path = problem.path || '(row)';
  return {
    code: problem.code,
    message: `${path} ${problem.message}.`,
    details: { errors: [{ path, message: problem.message }] },
  };
}

/** Stores one batch: rows that could not be read are rejected here, the rest go to the domain. */
async function storeBatch(scope: AccessScope, plan: ImportPlan, rows: readonly Row[]): Promise<BatchOutcome> {
  const rejected: { row: Row; error: RowError }[] = [];
  const items: RowItem[] = [];
  for (const row of rows) {
    // Bounded before anything walks it: a row nested 10,000 deep or holding a NUL is this row's reject.
    // Interactions are bounded by their validator, item by item, before anything else reads them.
    const bounds = row.error || plan.kind === 'interactions' ? undefined : findJsonBoundsProblem(row.value);
    if (row.error) rejected.push({ row, error: row.error });
    else if (bounds) rejected.push({ row, error: boundsError(bounds) });
    else items.push({ row, value: row.value });
  }
  const stored =
    plan.kind === 'workspace'
      ? await restoreBatch(scope, items)
      : await ingestBatch(scope, items, plan.columns);
  rejected.push(...stored.rejected);
  return {
    created: stored.created,
    duplicate: stored.duplicate,
    rejects: await toRejectLines(plan, rejected),
  };
}

/** Counts of a committed batch. */
interface Committed {
  created: number;
  duplicate: number;
  rejected: number;
}

/** Where a run stands: what is committed, and its rejects file. */
interface RunState {
  runId: string;
  workspaceId: string;
  /** The committed checkpoint. */
  position: { offset: number; line: number };
  /** The committed counts. */
  totals: Committed;
  rejects: RejectsFile;
}

/** How many times a batch is tried when the database reports a transient failure (deadlock, lost connection). */
const BATCH_ATTEMPTS = 4;

const sleep = (ms: number) => new Promise<void>((done) => setTimeout(done, ms));

/**
 * Stores one batch and moves the checkpoint past it, in one transaction that holds the run's lock.
 * Under that lock the rejects file is first cut back to the committed length (a failed earlier
 * attempt may have left rejects behind), then the batch's rejects are appended and flushed, then the
 * checkpoint is written, then the transaction commits. Transient failures are retried; an attempt
 * whose commit succeeded although its acknowledgement was lost is recognised by the checkpoint.
 */
async function commitBatch(
  db: Kysely<DB>,
  actor: Actor,
  plan: ImportPlan,
  state: RunState,
  batch: RowBatch,
  rejectAll?: RowError,
): Promise<Committed> {
  for (let attempt = 1; ; attempt++) {
    try {
      // The import writes under its actor's default write purpose; each batch is audited in its own
      // transaction, with its checkpoint.
      return await withAccess(db, actor, WRITE_SCOPE, async (scope): Promise<Committed> => {
        const { tx } = scope;
        const run = await repo.lockRunningRun(tx, state.workspaceId, state.runId);
        if (!run) {
          throw conflict(
            'IMPORT_RUN_ABANDONED',
            'This import was abandoned (restarted elsewhere); run it again.',
            {
              runId: state.runId,
            },
          );
        }
        if (attempt > 1 && run.checkpointOffset === batch.endOffset) {
          return {
            created: run.createdCount - state.totals.created,
            duplicate: run.duplicateCount - state.totals.duplicate,
            rejected: run.rejectedCount - state.totals.rejected,
          };
        }
        if (run.checkpointOffset !== state.position.offset) {
          throw conflict(
            'IMPORT_RUN_CONCURRENT',
            'Another process is importing the same file into this workspace; let it finish or stop it first.',
            { runId: state.runId },
          );
        }
        if (state.rejects.length !== run.rejectsOffset) await state.rejects.truncate(run.rejectsOffset);
        const stored = rejectAll
          ? {
              created: 0,
              duplicate: 0,
              rejects: await toRejectLines(
                plan,
                batch.rows.map((row) => ({ row, error: rejectAll })),
              ),
            }
          : await storeBatch(scope, plan, batch.rows).catch((error: unknown) => {
              throw new BatchFailed(error);
            });
        // The rejects reach the disk before the checkpoint that counts them commits.
        const rejectsOffset = await state.rejects.append(stored.rejects);
        await repo.advanceRun(tx, state.workspaceId, state.runId, {
          line: batch.endLine,
          offset: batch.endOffset,
          rejectsOffset,
          created: stored.created,
          duplicate: stored.duplicate,
          rejected: stored.rejects.length,
        });
        return { created: stored.created, duplicate: stored.duplicate, rejected: stored.rejects.length };
      });
    } catch (error) {
      const cause = error instanceof BatchFailed ? error.cause : error;
      if (attempt >= BATCH_ATTEMPTS || !isTransient(cause)) throw error;
      await sleep(200 * 4 ** (attempt - 1));
    }
  }
}

/** A failure of the database itself (deadlock, lost connection): worth retrying, never a row's fault. */
function isTransient(error: unknown): boolean {
  return classifyDatabaseError(error).kind === 'unavailable';
}

/** Storing the rows of a batch threw: one of its rows may be at fault, so it is retried row by row. */
class BatchFailed extends Error {
  constructor(override readonly cause: unknown) {
    super('storing the batch failed', { cause });
    this.name = 'BatchFailed';
  }
}

/** The reject of a row that failed when stored alone. */
function failedRowError(error: unknown): RowError {
  const appError = classifyDatabaseError(error);
  if (appError.kind !== 'internal') {
    return {
      code: appError.code,
      message: appError.message,
      ...(appError.details === undefined ? {} : { details: appError.details }),
    };
  }
  return {
    code: 'IMPORT_ROW_FAILED',
    message: 'Storing this row failed; it was not stored and the import went on.',
    details: { reason: error instanceof Error ? error.message : String(error) },
  };
}

/** The reject of the row a process died on, found at the next run. */
const CRASHED_ROW: RowError = {
  code: 'IMPORT_ROW_CRASHED',
  message:
    'An earlier run of this import stopped while storing this row alone; it was not stored and is not tried again. Check it, fix it and import it on its own.',
};

/** Rows under suspicion: retried one by one up to `endOffset`, the first one rejected unseen when `crashed`. */
interface Suspect {
  endOffset: number;
  crashed: boolean;
}

/** The batch an earlier process died storing, if the run's checkpoint is where that attempt began. */
function suspectOf(run: repo.ImportRun): Suspect | undefined {
  const attempt = run.attempt;
  if (!attempt || attempt.offset !== run.checkpointOffset || attempt.endOffset <= attempt.offset)
    return undefined;
  return { endOffset: attempt.endOffset, crashed: attempt.single };
}

/**
 * Opens the run of a planned import: resumes the unfinished run of the same file or starts one, and
 * opens its rejects file (cut back to the committed length when resuming). All of it happens under a
 * lock on the file's fingerprint and on the run, so a second process starting on the same file waits
 * for the batch in flight to commit and then sees its checkpoint.
 */
async function startRun(
  db: Kysely<DB>,
  workspaceId: string,
  plan: ImportPlan,
  restart: boolean,
): Promise<{ run: repo.ImportRun; resumed: boolean; rejects: RejectsFile }> {
  return inWorkspace(db, workspaceId, async (tx) => {
    await repo.lockFingerprint(tx, workspaceId, plan.fingerprint);
    if (restart) await repo.abandonRunningRuns(tx, workspaceId, plan.kind, plan.fingerprint);
    const running = await repo.findRunningRun(tx, workspaceId, plan.kind, plan.fingerprint);
    if (running && running.format === plan.format) {
      return {
        run: running,
        resumed: true,
        rejects: await RejectsFile.resume(running.rejectsPath, running.rejectsOffset),
      };
    }
    // A run of the same file read in another format cannot be continued; ingest is idempotent, so start over.
    if (running) await repo.abandonRunningRuns(tx, workspaceId, plan.kind, plan.fingerprint);
    const run = await repo.insertRun(tx, {
      workspaceId,
      id: newId(),
      kind: plan.kind,
      format: plan.format,
      filePath: plan.file,
      fingerprint: plan.fingerprint,
      rejectsPath: plan.rejectsPath,
      checkpointLine: plan.dataStart.line,
      checkpointOffset: plan.dataStart.offset,
    });
    return { run, resumed: false, rejects: await RejectsFile.create(run.rejectsPath) };
  });
}

/**
 * Runs a planned import into the actor's workspace, resuming the unfinished run of the same file
 * when there is one (or abandoning it with `restart`). Each batch commits with its checkpoint; the
 * run is marked completed at the end of the file.
 */
export async function runImport(
  db: Kysely<DB>,
  actor: Actor,
  plan: ImportPlan,
  options: { restart?: boolean | undefined } & ImportHooks = {},
): Promise<ImportSummary> {
  const startedAt = performance.now();
  const workspaceId = actor.workspaceId;
  const { run, resumed, rejects } = await startRun(db, workspaceId, plan, options.restart === true);
  const state: RunState = {
    runId: run.id,
    workspaceId,
    position: { offset: run.checkpointOffset, line: run.checkpointLine },
    totals: { created: run.createdCount, duplicate: run.duplicateCount, rejected: run.rejectedCount },
    rejects,
  };
  const progress = (): ImportProgress => ({
    runId: run.id,
    line: state.position.line,
    offset: state.position.offset,
    size: plan.size,
    rows: state.totals.created + state.totals.duplicate + state.totals.rejected,
    ...state.totals,
  });
  const resumedFromLine = resumed ? run.checkpointLine : null;
  options.onStart?.({ ...progress(), resumedFromLine, rejectsFile: run.rejectsPath });

  let rowsThisAttempt = 0;
  let analysed = false;
  const record = async (batch: RowBatch, committed: Committed): Promise<void> => {
    state.position = { offset: batch.endOffset, line: batch.endLine };
    state.totals = {
      created: state.totals.created + committed.created,
      duplicate: state.totals.duplicate + committed.duplicate,
      rejected: state.totals.rejected + committed.rejected,
    };
    rowsThisAttempt += committed.created + committed.duplicate + committed.rejected;
    if (!analysed && committed.created > 0) {
      await analyzeLoadedTables(db);
      analysed = true;
    }
    options.onProgress?.(progress());
  };
  // Committed before the batch's own transaction starts, so a process that dies storing it leaves it behind.
  const mark = (endOffset: number, single: boolean): Promise<void> =>
    inWorkspace(db, workspaceId, (tx) =>
      repo.markAttempt(tx, workspaceId, run.id, { offset: state.position.offset, endOffset, single }),
    );
  const aborted = () => options.signal?.aborted === true;

  /** Stores batches from the checkpoint until the end, an interruption, or a batch that fails. */
  const commitBatches = async (): Promise<'done' | 'interrupted' | Suspect> => {
    const batches = readerOf(plan)({
      ...state.position,
      batchSize: plan.batchSize,
      ...chunk(plan.chunkSize),
    });
    try {
      let next = batches.next();
      for (;;) {
        const result = await next;
        if (result.done) return 'done';
        if (aborted()) return 'interrupted';
        // Read and parse the next batch while this one is stored.
        next = batches.next();
        next.catch(() => undefined);
        const batch = result.value;
        await mark(batch.endOffset, false);
        let committed: Committed;
        try {
          committed = await commitBatch(db, actor, plan, state, batch);
        } catch (error) {
          if (error instanceof BatchFailed && !isTransient(error.cause)) {
            return { endOffset: batch.endOffset, crashed: false };
          }
          throw error instanceof BatchFailed ? error.cause : error;
        }
        await record(batch, committed);
      }
    } finally {
      await batches.return(undefined);
    }
  };

  /**
   * Stores the suspect rows one by one, each in its own transaction: a row that fails alone is
   * rejected with its error, and the row an earlier process died on alone is rejected untried.
   * Returns true when interrupted.
   */
  const commitRowByRow = async (suspect: Suspect): Promise<boolean> => {
    let first = true;
    for await (const single of readerOf(plan)({
      ...state.position,
      batchSize: 1,
      ...chunk(plan.chunkSize),
    })) {
      if (state.position.offset >= suspect.endOffset) return false;
      if (aborted()) return true;
      let committed: Committed;
      if (first && suspect.crashed) {
        committed = await commitBatch(db, actor, plan, state, single, CRASHED_ROW);
      } else {
        await mark(suspect.endOffset, true);
        try {
          committed = await commitBatch(db, actor, plan, state, single);
        } catch (error) {
          if (!(error instanceof BatchFailed) || isTransient(error.cause)) {
            throw error instanceof BatchFailed ? error.cause : error;
          }
          committed = await commitBatch(db, actor, plan, state, single, failedRowError(error.cause));
        }
      }
      first = false;
      await record(single, committed);
    }
    return false;
  };

  let interrupted = false;
  try {
    let suspect = suspectOf(run);
    for (;;) {
      if (suspect) {
        interrupted = await commitRowByRow(suspect);
        if (interrupted) break;
      }
      const outcome = await commitBatches();
      if (outcome === 'done') break;
      if (outcome === 'interrupted') {
        interrupted = true;
        break;
      }
      suspect = outcome;
    }
  } finally {
    await state.rejects.close();
  }
  await chainAuditBacklog(db);
  if (!interrupted) await inWorkspace(db, workspaceId, (tx) => repo.completeRun(tx, workspaceId, run.id));
  const seconds = (performance.now() - startedAt) / 1000;
  const final = progress();
  return {
    runId: run.id,
    kind: plan.kind,
    format: plan.format,
    file: plan.file,
    rows: final.rows,
    created: final.created,
    duplicate: final.duplicate,
    rejected: final.rejected,
    rejectsFile: run.rejectsPath,
    resumedFromLine,
    seconds: Math.round(seconds * 1000) / 1000,
    rowsPerSecond: seconds > 0 ? Math.round(rowsThisAttempt / seconds) : 0,
    interrupted,
  };
}

/** The import run with this id in the transaction's workspace, if any. */
export function findImportRun(
  tx: Tx,
  workspaceId: string,
  runId: string,
): Promise<repo.ImportRun | undefined> {
  return repo.findRun(tx, workspaceId, runId);
}
