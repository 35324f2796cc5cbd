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
  /** Workspace tables a backup leaves out, with the reason for each. */
  BACKUP_EXCLUDED_TABLES,
  /** Version of the backup format. */
  BACKUP_FORMAT_VERSION,
  /** The tables a backup copies, from the catalog, parents first. */
  listBackupTables,
  type RestoreSummary,
  /** The version of an export file from its header: 1 (records), 2 (backup), or null. */
  readExportVersion,
  /** Restores a backup, all or nothing, into a database without its workspace; verifies its audit chain. */
  restoreBackup,
} from './backup.service.ts';
export {
  /** What an export holds: a purpose's view (records) or the whole workspace (backup). */
  type ExportFormat,
  /** Who exports, for which purpose, to which recipient. */
  type ExportRequest,
  type ExportSummary,
  /** Writes a workspace as NDJSON for a purpose and recipient; an owner's legal export is the backup `import workspace` restores. */
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
