import { type Kysely, sql } from 'kysely';

/**
 * Recommendations (SPEC §10): the workspace's trained model (when, with what settings, on how many
 * customers and items, and the popularity list cold starts get) and
 * one row per customer with their own-history and collective suggestions, each citing one of the
 * customer's own items. Derived state, replaced whole by each training: the tenant role may change
 * and delete it; nothing here only grows.
 */

const TABLES = ['recommendation_models', 'recommendation_lists'] as const;

export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    CREATE TABLE recommendation_models (
      workspace_id uuid NOT NULL REFERENCES workspaces (id),
      trained_at timestamptz NOT NULL,
      as_of date NOT NULL,
      params jsonb NOT NULL,
      stats jsonb NOT NULL,
      popular jsonb NOT NULL,
      PRIMARY KEY (workspace_id)
    )`.execute(db);

  await sql`
    CREATE TABLE recommendation_lists (
      workspace_id uuid NOT NULL,
      customer_id uuid NOT NULL,
      own jsonb NOT NULL,
      collective jsonb NOT NULL,
      PRIMARY KEY (workspace_id, customer_id),
      FOREIGN KEY (workspace_id, customer_id) REFERENCES customers (workspace_id, id)
    )`.execute(db);

  for (const table of TABLES) {
    const t = sql.table(table);
    await sql`ALTER TABLE ${t} ENABLE ROW LEVEL SECURITY`.execute(db);
    await sql`ALTER TABLE ${t} FORCE ROW LEVEL SECURITY`.execute(db);
    await sql`
      CREATE POLICY workspace_isolation ON ${t}
      USING (workspace_id = cornerstore_workspace())
      WITH CHECK (workspace_id = cornerstore_workspace())`.execute(db);
    await sql`GRANT SELECT, INSERT, UPDATE, DELETE ON ${t} TO cornerstore_app`.execute(db);
  }
}
