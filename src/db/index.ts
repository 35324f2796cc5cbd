/**
 * The database: opening the embedded engine or a PostgreSQL server, forward-only migrations, the
 * workspace-confined transaction every repository runs in, and SQLSTATE classification.
 * It knows nothing of any domain.
 */
export { type Database, type DatabaseKind, type OpenDatabaseOptions, openDatabase } from './database.ts';
/** Classifies a driver error by SQLSTATE into an AppError. */
export { classifyDatabaseError } from './errors.ts';
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
