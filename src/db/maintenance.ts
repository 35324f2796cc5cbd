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
export async function refreshStatistics(database: Pick<Database, 'db' | 'kind'>): Promise<void> {
  if (database.kind !== 'pglite') return;
  await analyze(database.db);
}

async function analyze(db: Kysely<DB>): Promise<void> {
  await sql`ANALYZE`.execute(db);
}

/**
 * Analyses the tables a bulk load writes, on either engine. A server analyses them by itself, but
 * only after a while: until then a load into freshly created tables is planned as if they were empty,
 * and every connection keeps the foreign-key checks it planned that way (for customers, an index scan
 * of the whole workspace per interaction). Analysing after the first batch makes the rest of the load,
 * and every connection's cached checks, plan against real sizes. It changes no row.
 */
export async function analyzeLoadedTables(db: Kysely<DB>): Promise<void> {
  await sql`ANALYZE customers, customer_identities, contact_points, interactions`.execute(db);
}
