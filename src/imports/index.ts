/**
 * Bulk import and export. Owns the `import_runs` table (the checkpoint of every file import) and the
 * rejects files; streams files of any size in constant memory, stores each batch through the
 * interactions and customers domains in one transaction with its checkpoint, and resumes an
 * interrupted import where it stopped. It must not write other domains' tables itself (it goes
 * through their index.ts, and reads and writes personal data only through governance/, which decides,
 * minimises, audits and records disclosures) nor import adapters; the caller names the workspace and
 * the actor.
 */

export {
  /** Who exports, for which purpose, to which recipient. */
  type ExportRequest,
  type ExportSummary,
  /** Writes a workspace as NDJSON for a purpose and recipient; a legal export is what `import workspace` restores. */
  exportWorkspace,
} from './export.service.ts';
export type { ImportRun } from './import.repository.ts';
export {
  /** The import run with an id, in the transaction's workspace. */
  findImportRun,
  type ImportHooks,
  type ImportPlan,
  type ImportRequest,
  /** Validates an import (file, format, header) without storing anything. */
  planImport,
  /** Runs a planned import in batches, resuming an interrupted run of the same file. */
  runImport,
} from './import.service.ts';
export type {
  ImportFormat,
  ImportKind,
  ImportProgress,
  ImportSummary,
  RejectLine,
  RowError,
} from './import.ts';
/** Limits and defaults of imports: batch sizes, the CSV columns, the export format version. */
export { CSV_COLUMNS, DEFAULT_BATCH_SIZE, EXPORT_FORMAT_VERSION, MAX_BATCH_SIZE } from './import.ts';
