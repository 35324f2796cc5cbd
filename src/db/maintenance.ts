import { type Kysely, sql } from 'kysely';
import type { Database } from './database.ts';
import type { DB } from './schema.ts';

/**
 * Refreshes the planner's statistics of every table. A PostgreSQL server does this by itself
 * (autovacuum); the embedded engine does not, and without statistics it plans per-customer statements
 * over freshly loaded tables as if they were empty, scanning whole tables where an index would do. So
 * on the embedded engine this runs at start, after bulk loads and periodically while serving. It
 * changes no row.
 */
export async function refreshStatistics(database: Database): Promise<void> {
  if (database.kind !== 'pglite') return;
  await analyze(database.db);
}

async function analyze(db: Kysely<DB>): Promise<void> {
  await sql`ANALYZE`.execute(db);
}
