import { type Kysely, sql } from 'kysely';

/**
 * Customer value and segments (SPEC §8): the workspace's fitted value model (BG/NBD, Gamma-Gamma and
 * the RFM quintile boundaries, with calibration and convergence), one value profile per customer
 * (the purchase summary and the predictions), saved segments (a JSON filter and the purpose it was
 * defined for) and their materialised membership.
 *
 * Profiles and memberships are derived state, rebuilt by the refit job and kept current by ingest:
 * the tenant role may change and delete them. Indexes serve the segment filters on value fields.
 */

const TABLES = ['value_models', 'value_profiles', 'segments', 'segment_members'] as const;

export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    CREATE TABLE value_models (
      workspace_id uuid NOT NULL REFERENCES workspaces (id),
      fitted_at timestamptz NOT NULL,
      period text NOT NULL CHECK (period IN ('day', 'week')),
      horizon real NOT NULL,
      annual_discount_rate real NOT NULL,
      bgnbd jsonb NOT NULL,
      gamma_gamma jsonb,
      rfm jsonb NOT NULL,
      calibration jsonb NOT NULL,
      convergence jsonb NOT NULL,
      PRIMARY KEY (workspace_id)
    )`.execute(db);

  await sql`
    CREATE TABLE value_profiles (
      workspace_id uuid NOT NULL,
      customer_id uuid NOT NULL,
      frequency integer NOT NULL,
      recency double precision NOT NULL,
      t double precision NOT NULL,
      monetary double precision NOT NULL,
      purchases integer NOT NULL,
      total_spend double precision NOT NULL,
      first_purchase_at timestamptz NOT NULL,
      last_purchase_at timestamptz NOT NULL,
      p_alive double precision NOT NULL,
      expected_purchases double precision NOT NULL,
      expected_spend double precision NOT NULL,
      clv double precision NOT NULL,
      rfm_r smallint NOT NULL CHECK (rfm_r BETWEEN 1 AND 5),
      rfm_f smallint NOT NULL CHECK (rfm_f BETWEEN 1 AND 5),
      rfm_m smallint NOT NULL CHECK (rfm_m BETWEEN 1 AND 5),
      rfm_segment text NOT NULL,
      as_of timestamptz NOT NULL,
      updated_at timestamptz NOT NULL,
      PRIMARY KEY (workspace_id, customer_id),
      FOREIGN KEY (workspace_id, customer_id) REFERENCES customers (workspace_id, id)
    )`.execute(db);
  await sql`CREATE INDEX value_profiles_segment ON value_profiles (workspace_id, rfm_segment)`.execute(db);
  await sql`CREATE INDEX value_profiles_clv ON value_profiles (workspace_id, clv)`.execute(db);
  await sql`CREATE INDEX value_profiles_p_alive ON value_profiles (workspace_id, p_alive)`.execute(db);

  await sql`
    CREATE TABLE segments (
      workspace_id uuid NOT NULL REFERENCES workspaces (id),
      id uuid NOT NULL,
      name text NOT NULL,
      description text,
      definition jsonb NOT NULL,
      purpose text NOT NULL,
      -- Reads interaction aggregates or value fields: re-evaluated when events arrive.
      dynamic boolean NOT NULL,
      created_by text NOT NULL,
      created_at timestamptz NOT NULL DEFAULT now(),
      refreshed_at timestamptz,
      PRIMARY KEY (workspace_id, id),
      UNIQUE (workspace_id, name)
    )`.execute(db);
  await sql`CREATE INDEX segments_dynamic ON segments (workspace_id) WHERE dynamic`.execute(db);

  await sql`
    CREATE TABLE segment_members (
      workspace_id uuid NOT NULL,
      segment_id uuid NOT NULL,
      customer_id uuid NOT NULL,
      since timestamptz NOT NULL,
      PRIMARY KEY (workspace_id, segment_id, customer_id),
      FOREIGN KEY (workspace_id, segment_id) REFERENCES segments (workspace_id, id) ON DELETE CASCADE,
      FOREIGN KEY (workspace_id, customer_id) REFERENCES customers (workspace_id, id)
    )`.execute(db);
  await sql`CREATE INDEX segment_members_customer ON segment_members (workspace_id, customer_id)`.execute(db);

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
