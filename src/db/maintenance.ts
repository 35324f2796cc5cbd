import { type Kysely, sql } from 'kysely';
import type { Database } from './database.ts';
import type { DB } from './schema.ts';

/**
 * Refreshes the planner's statistics of the tables that changed since they were last analysed. A
 * PostgreSQL server does this by itself (autovacuum); the embedded engine does not, and without
 * statistics it plans per-customer statements over freshly loaded tables as if they were empty, scanning
 * whole tables where an index would do. So on the embedded engine this runs at start, after bulk loads
 * and periodically while serving. It changes no row.
 */
export async function refreshStatistics(database: Pick<Database, 'db' | 'kind'>): Promise<void> {
  if (database.kind !== 'pglite') return;
  const stale = await findStaleTables(database.db);
  if (stale.length > 0)
    await sql`ANALYZE ${sql.join(stale.map((name) => sql.id(name)))}`.execute(database.db);
}

/**
 * The application's tables never analysed, or whose size in pages moved by more than a tenth (at least a
 * page) from what the last ANALYZE recorded. The embedded engine keeps no modification counters across
 * restarts, but the catalogue keeps `relpages`, so this is what tells a restart on unchanged data (nothing
 * to do: a whole-database ANALYZE was most of the embedded server's start) from one after a load.
 */
async function findStaleTables(db: Kysely<DB>): Promise<string[]> {
  const { rows } = await sql<{ name: string }>`
    SELECT c.relname AS name
    FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE n.nspname = current_schema() AND c.relkind = 'r'
      AND (c.reltuples < 0
        OR abs(pg_relation_size(c.oid) / current_setting('block_size')::int - c.relpages)
           > greatest(c.relpages / 10, 0))
    ORDER BY c.relname`.execute(db);
  return rows.map((row) => row.name);
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
