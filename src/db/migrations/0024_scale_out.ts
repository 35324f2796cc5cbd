import { type Kysely, sql } from 'kysely';
import { listWorkspaceTables } from '../backup.ts';
import type { Tx } from '../tx.ts';

/**
 * Two steps past one machine. First, `rate_limit_windows`: the request counts of rate limiting, in the
 * database so that every API node on it counts a key together (a key id is unique across workspaces, and
 * the table holds no personal data, so it is not a tenant table). Then, on a Citus cluster (the `citus` extension present), distributes every tenant table by `workspace_id`
 * and replicates the small global ones to every node as reference tables; anywhere else (a plain
 * PostgreSQL server, the embedded engine) it changes nothing. Distribution by workspace works because
 * every primary key, unique constraint and foreign key between tenant tables includes `workspace_id`
 * and every join equates it (test/citus-readiness.test.ts), so each transaction of a workspace runs on
 * the one node holding its shard.
 */

/**
 * Tables with a `workspace_id` that stay whole on every node: an API key is found by its id alone,
 * before its workspace is known (authentication), so `api_keys` keeps a unique index on `id`.
 */
export const CITUS_REFERENCE_TABLES: readonly string[] = ['workspaces', 'api_keys'];

/** Global tables written on every request, kept on the coordinator alone rather than replicated. */
export const CITUS_LOCAL_TABLES: readonly string[] = ['rate_limit_windows'];

/** The tables to replicate and to distribute, parents before children (foreign keys). */
export async function planCitusDistribution(
  db: Kysely<unknown>,
): Promise<{ reference: string[]; distributed: string[] }> {
  const tables = (await listWorkspaceTables(db as unknown as Tx)).map((t) => t.name);
  const { rows: global } = await sql<{ name: string }>`
    SELECT t.table_name AS name FROM information_schema.tables t
    WHERE t.table_schema = current_schema() AND t.table_type = 'BASE TABLE'
      AND t.table_name NOT LIKE 'kysely_%' AND t.table_name <> ALL(${[...tables, ...CITUS_LOCAL_TABLES]}::text[])
    ORDER BY t.table_name`.execute(db);
  return {
    reference: [
      ...tables.filter((name) => CITUS_REFERENCE_TABLES.includes(name)),
      ...global.map((g) => g.name),
    ],
    distributed: tables.filter((name) => !CITUS_REFERENCE_TABLES.includes(name)),
  };
}

export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    CREATE TABLE rate_limit_windows (
      key text PRIMARY KEY,
      window_start timestamptz NOT NULL,
      hits integer NOT NULL
    )`.execute(db);
  const { rows } = await sql`SELECT 1 FROM pg_extension WHERE extname = 'citus'`.execute(db);
  if (rows.length === 0) return;
  const plan = await planCitusDistribution(db);
  for (const table of plan.reference) await sql`SELECT create_reference_table(${table})`.execute(db);
  // Tables distributed by a column of the same type are colocated by default: a workspace's rows of
  // every table live on one node, so its joins and foreign keys stay on that node.
  for (const table of plan.distributed) {
    await sql`SELECT create_distributed_table(${table}, 'workspace_id')`.execute(db);
  }
}
