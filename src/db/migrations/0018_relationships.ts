import { type Kysely, sql } from 'kysely';

/**
 * Relationship intelligence (SPEC §7): each workspace's versioned rule tables (the newest is active), its
 * intensity norm (the median customer's activity, from the last full recomputation), one relationship
 * profile per customer (dimensions with confidence and evidence, the archetype with its hysteresis state,
 * modifiers, reasons) and the history of archetype changes with the reasons of each.
 *
 * Profiles, norms and history are derived state, rebuilt by the recompute job: the tenant role may
 * change and delete them. Rule tables are configuration: only inserted (a new version), never changed.
 * History grows by at most one row per customer per hysteresis window (14 days by default).
 */

const TABLES = [
  'relationship_rule_tables',
  'relationship_norms',
  'relationship_profiles',
  'relationship_changes',
] as const;

export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    CREATE TABLE relationship_rule_tables (
      workspace_id uuid NOT NULL REFERENCES workspaces (id),
      version integer NOT NULL CHECK (version > 0),
      rule_table jsonb NOT NULL,
      created_by text NOT NULL,
      created_at timestamptz NOT NULL DEFAULT now(),
      PRIMARY KEY (workspace_id, version)
    )`.execute(db);

  await sql`
    CREATE TABLE relationship_norms (
      workspace_id uuid NOT NULL REFERENCES workspaces (id),
      intensity_norm double precision NOT NULL,
      customers integer NOT NULL,
      computed_at timestamptz NOT NULL,
      PRIMARY KEY (workspace_id)
    )`.execute(db);

  await sql`
    CREATE TABLE relationship_profiles (
      workspace_id uuid NOT NULL,
      customer_id uuid NOT NULL,
      archetype text NOT NULL,
      archetype_since timestamptz NOT NULL,
      proposed text NOT NULL,
      candidate text,
      candidate_count smallint NOT NULL DEFAULT 0,
      candidate_since timestamptz,
      rule_version integer NOT NULL,
      dimensions jsonb NOT NULL,
      reasons jsonb NOT NULL,
      high_demand boolean NOT NULL,
      discretion boolean NOT NULL,
      computed_at timestamptz NOT NULL,
      PRIMARY KEY (workspace_id, customer_id),
      FOREIGN KEY (workspace_id, customer_id) REFERENCES customers (workspace_id, id)
    )`.execute(db);
  await sql`CREATE INDEX relationship_profiles_archetype ON relationship_profiles (workspace_id, archetype)`.execute(
    db,
  );

  await sql`
    CREATE TABLE relationship_changes (
      workspace_id uuid NOT NULL,
      customer_id uuid NOT NULL,
      id uuid NOT NULL,
      changed_at timestamptz NOT NULL,
      from_archetype text,
      to_archetype text NOT NULL,
      rule_version integer NOT NULL,
      reasons jsonb NOT NULL,
      PRIMARY KEY (workspace_id, customer_id, id),
      FOREIGN KEY (workspace_id, customer_id) REFERENCES customers (workspace_id, id)
    )`.execute(db);
  await sql`CREATE INDEX relationship_changes_at ON relationship_changes (workspace_id, changed_at)`.execute(
    db,
  );

  for (const table of TABLES) {
    const t = sql.table(table);
    await sql`ALTER TABLE ${t} ENABLE ROW LEVEL SECURITY`.execute(db);
    await sql`ALTER TABLE ${t} FORCE ROW LEVEL SECURITY`.execute(db);
    await sql`
      CREATE POLICY workspace_isolation ON ${t}
      USING (workspace_id = cornerstore_workspace())
      WITH CHECK (workspace_id = cornerstore_workspace())`.execute(db);
  }
  await sql`GRANT SELECT, INSERT ON relationship_rule_tables TO cornerstore_app`.execute(db);
  for (const table of TABLES.slice(1)) {
    await sql`GRANT SELECT, INSERT, UPDATE, DELETE ON ${sql.table(table)} TO cornerstore_app`.execute(db);
  }
}
