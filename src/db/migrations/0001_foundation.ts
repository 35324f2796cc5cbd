import { type Kysely, sql } from 'kysely';

/**
 * Workspaces, API keys, customers with provenance, identities, contact points, interactions,
 * idempotency records and import checkpoints. Every tenant table leads with `workspace_id` and is under
 * row-level security (FORCE), scoped by the `cornerstore.workspace_id` setting of the transaction.
 */

const TENANT_TABLES = [
  'api_keys',
  'customers',
  'customer_field_values',
  'customer_identities',
  'contact_points',
  'interactions',
  'idempotency_keys',
  'import_runs',
] as const;

export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`CREATE EXTENSION IF NOT EXISTS pg_trgm`.execute(db);

  // The role every tenant transaction runs as (SET LOCAL ROLE): never a superuser, never BYPASSRLS.
  await sql`
    DO $$
    BEGIN
      IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'cornerstore_app') THEN
        CREATE ROLE cornerstore_app NOLOGIN NOSUPERUSER NOBYPASSRLS;
      END IF;
    EXCEPTION WHEN duplicate_object OR unique_violation THEN
      NULL; -- another database on the same server created it concurrently
    END
    $$`.execute(db);
  await sql`
    DO $$
    BEGIN
      IF NOT pg_has_role(current_user, 'cornerstore_app', 'MEMBER') THEN
        EXECUTE format('GRANT cornerstore_app TO %I', current_user);
      END IF;
    END
    $$`.execute(db);

  await sql`
    CREATE OR REPLACE FUNCTION cornerstore_workspace() RETURNS uuid
    LANGUAGE sql STABLE PARALLEL SAFE AS
    $$ SELECT nullif(current_setting('cornerstore.workspace_id', true), '')::uuid $$`.execute(db);

  await sql`
    CREATE TABLE workspaces (
      id uuid PRIMARY KEY,
      name text NOT NULL UNIQUE,
      default_region text NOT NULL DEFAULT 'US',
      auto_create_customers boolean NOT NULL DEFAULT true,
      created_at timestamptz NOT NULL DEFAULT now()
    )`.execute(db);

  await sql`
    CREATE TABLE api_keys (
      workspace_id uuid NOT NULL REFERENCES workspaces (id),
      id uuid NOT NULL,
      name text NOT NULL,
      role text NOT NULL,
      purposes text[] NOT NULL,
      secret_hash text NOT NULL,
      created_at timestamptz NOT NULL DEFAULT now(),
      revoked_at timestamptz,
      last_used_at timestamptz,
      PRIMARY KEY (workspace_id, id)
    )`.execute(db);
  await sql`CREATE UNIQUE INDEX api_keys_id ON api_keys (id)`.execute(db);

  await sql`
    CREATE TABLE customers (
      workspace_id uuid NOT NULL REFERENCES workspaces (id),
      id uuid NOT NULL,
      given_name text,
      family_name text,
      preferred_name text,
      language text,
      birth_date date,
      search_name text GENERATED ALWAYS AS (
        lower(coalesce(given_name, '') || ' ' || coalesce(family_name, '') || ' ' || coalesce(preferred_name, ''))
      ) STORED,
      created_at timestamptz NOT NULL DEFAULT now(),
      updated_at timestamptz NOT NULL DEFAULT now(),
      PRIMARY KEY (workspace_id, id)
    )`.execute(db);
  await sql`CREATE INDEX customers_search_name ON customers USING gin (search_name gin_trgm_ops)`.execute(db);
  await sql`CREATE INDEX customers_created ON customers (workspace_id, created_at, id)`.execute(db);

  await sql`
    CREATE TABLE customer_field_values (
      workspace_id uuid NOT NULL,
      id uuid NOT NULL,
      customer_id uuid NOT NULL,
      field text NOT NULL,
      value jsonb,
      source text NOT NULL,
      captured_by text NOT NULL,
      captured_at timestamptz NOT NULL,
      interaction_id uuid,
      confidence real NOT NULL DEFAULT 1,
      recorded_at timestamptz NOT NULL DEFAULT now(),
      superseded_at timestamptz,
      PRIMARY KEY (workspace_id, id),
      FOREIGN KEY (workspace_id, customer_id) REFERENCES customers (workspace_id, id)
    )`.execute(db);
  await sql`
    CREATE INDEX customer_field_values_current ON customer_field_values (workspace_id, customer_id, field)
    WHERE superseded_at IS NULL`.execute(db);

  await sql`
    CREATE TABLE customer_identities (
      workspace_id uuid NOT NULL,
      source text NOT NULL,
      external_id text NOT NULL,
      customer_id uuid NOT NULL,
      created_at timestamptz NOT NULL DEFAULT now(),
      PRIMARY KEY (workspace_id, source, external_id),
      FOREIGN KEY (workspace_id, customer_id) REFERENCES customers (workspace_id, id)
    )`.execute(db);
  await sql`CREATE INDEX customer_identities_customer ON customer_identities (workspace_id, customer_id)`.execute(
    db,
  );

  await sql`
    CREATE TABLE contact_points (
      workspace_id uuid NOT NULL,
      id uuid NOT NULL,
      customer_id uuid NOT NULL,
      kind text NOT NULL CHECK (kind IN ('email', 'phone')),
      value text NOT NULL,
      verified boolean NOT NULL DEFAULT false,
      source text NOT NULL,
      created_at timestamptz NOT NULL DEFAULT now(),
      PRIMARY KEY (workspace_id, id),
      UNIQUE (workspace_id, customer_id, kind, value),
      FOREIGN KEY (workspace_id, customer_id) REFERENCES customers (workspace_id, id)
    )`.execute(db);
  await sql`CREATE INDEX contact_points_value ON contact_points (workspace_id, kind, value)`.execute(db);

  await sql`
    CREATE TABLE interactions (
      workspace_id uuid NOT NULL,
      id uuid NOT NULL,
      customer_id uuid NOT NULL,
      type text NOT NULL,
      channel text NOT NULL,
      initiated_by text NOT NULL CHECK (initiated_by IN ('customer', 'company')),
      occurred_at timestamptz NOT NULL,
      source text NOT NULL,
      external_id text NOT NULL,
      amount numeric(18, 4),
      currency char(3),
      sentiment real,
      text text,
      line_items jsonb,
      properties jsonb NOT NULL DEFAULT '{}',
      received_at timestamptz NOT NULL DEFAULT now(),
      PRIMARY KEY (workspace_id, id),
      UNIQUE (workspace_id, source, external_id),
      FOREIGN KEY (workspace_id, customer_id) REFERENCES customers (workspace_id, id)
    )`.execute(db);
  // The timeline index: one customer's history, newest first, without touching anyone else's rows.
  await sql`
    CREATE INDEX interactions_timeline ON interactions (workspace_id, customer_id, occurred_at DESC, id DESC)
  `.execute(db);

  await sql`
    CREATE TABLE idempotency_keys (
      workspace_id uuid NOT NULL,
      key text NOT NULL,
      request_hash text NOT NULL,
      status_code integer,
      response jsonb,
      created_at timestamptz NOT NULL DEFAULT now(),
      PRIMARY KEY (workspace_id, key)
    )`.execute(db);

  await sql`
    CREATE TABLE import_runs (
      workspace_id uuid NOT NULL,
      id uuid NOT NULL,
      kind text NOT NULL,
      format text NOT NULL,
      file_path text NOT NULL,
      fingerprint text NOT NULL,
      rejects_path text NOT NULL,
      checkpoint_line bigint NOT NULL DEFAULT 0,
      checkpoint_offset bigint NOT NULL DEFAULT 0,
      rejects_offset bigint NOT NULL DEFAULT 0,
      created_count bigint NOT NULL DEFAULT 0,
      duplicate_count bigint NOT NULL DEFAULT 0,
      rejected_count bigint NOT NULL DEFAULT 0,
      status text NOT NULL,
      started_at timestamptz NOT NULL DEFAULT now(),
      updated_at timestamptz NOT NULL DEFAULT now(),
      finished_at timestamptz,
      PRIMARY KEY (workspace_id, id)
    )`.execute(db);
  await sql`CREATE INDEX import_runs_fingerprint ON import_runs (workspace_id, fingerprint, status)`.execute(
    db,
  );

  await sql`ALTER TABLE workspaces ENABLE ROW LEVEL SECURITY`.execute(db);
  await sql`ALTER TABLE workspaces FORCE ROW LEVEL SECURITY`.execute(db);
  await sql`CREATE POLICY workspace_isolation ON workspaces USING (id = cornerstore_workspace())`.execute(db);
  // The operator (the database owner, outside any tenant role) may list and create workspaces; tenant
  // rows stay invisible to it until it names a workspace.
  await sql`
    CREATE POLICY operator_workspaces ON workspaces
    USING (current_user <> 'cornerstore_app') WITH CHECK (current_user <> 'cornerstore_app')`.execute(db);
  await sql`GRANT SELECT, INSERT, UPDATE ON workspaces TO cornerstore_app`.execute(db);

  for (const table of TENANT_TABLES) {
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
