/**
 * The database: opening the embedded engine or a PostgreSQL server, forward-only migrations, the
 * workspace-confined transaction every repository runs in, and SQLSTATE classification.
 * It knows nothing of any domain.
 */

/** A workspace's tables from the catalog, and their rows read and written for backups. */
export {
  insertTableRows,
  listWorkspaceTables,
  orderByReferences,
  readTableRows,
  type WorkspaceTable,
} from './backup.ts';
export { type Database, type DatabaseKind, type OpenDatabaseOptions, openDatabase } from './database.ts';
/** The embedded engine's data directory dumped to one file and loaded back (SPEC §14). */
export { dumpDataDir, loadDataDir } from './datadir.ts';
/** Whether a handle talks to a PostgreSQL server (not the embedded engine). */
export { isServer } from './engine.ts';
/** Classifies a driver error by SQLSTATE into an AppError. */
export { APPEND_ONLY_STATE, classifyDatabaseError } from './errors.ts';
/**
 * Refreshes planner statistics where the engine does not do it by itself (the embedded one); analyses
 * the tables a bulk load writes, on either engine, so the rest of the load plans against real sizes.
 */
export { analyzeLoadedTables, refreshStatistics } from './maintenance.ts';
/** Applies every pending migration. */
export { type MigrationReport, migrateToLatest } from './migrate.ts';
export type { DB } from './schema.ts';
/** Workspace-confined and operator transactions. */
export { asOperator, inWorkspace, type Tx, type WorkspaceTxOptions } from './tx.ts';
