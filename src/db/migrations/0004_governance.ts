import { type Kysely, sql } from 'kysely';

/**
 * Data governance (SPEC §4–§6): the workspace's policy and keyed-hash secret, each customer's intimacy
 * level, restriction and objections (projections of append-only ledgers), the consent ledger and its
 * current-state projection, recipients and the disclosure ledger, and the hash-chained audit log.
 *
 * Ledgers are append-only in the database itself: a trigger refuses UPDATE, DELETE and TRUNCATE for
 * every role, and the tenant role is granted only SELECT and INSERT on them.
 */

const APPEND_ONLY = [
  'consent_records',
  'intimacy_changes',
  'privacy_flag_changes',
  'disclosures',
  'audit_events',
  'audit_subjects',
] as const;
const MUTABLE = ['workspace_secrets', 'consent_state', 'recipients', 'audit_heads', 'audit_inbox'] as const;

export async function up(db: Kysely<unknown>): Promise<void> {
  // `{"doNotStore":"reject"|"strip","categories":[…],"purposes":[…],"overrides":[…]}`; empty = defaults.
  await sql`ALTER TABLE workspaces ADD COLUMN policy jsonb NOT NULL DEFAULT '{}'`.execute(db);

  await sql`
    CREATE TABLE workspace_secrets (
      workspace_id uuid NOT NULL REFERENCES workspaces (id),
      purpose text NOT NULL,
      secret bytea NOT NULL,
      created_at timestamptz NOT NULL DEFAULT now(),
      PRIMARY KEY (workspace_id, purpose)
    )`.execute(db);

  await sql`
    ALTER TABLE customers
      ADD COLUMN intimacy_level smallint NOT NULL DEFAULT 1 CHECK (intimacy_level BETWEEN 0 AND 4),
      ADD COLUMN processing_restricted boolean NOT NULL DEFAULT false,
      ADD COLUMN objections text[] NOT NULL DEFAULT '{}'`.execute(db);

  // The purposes a customer declared special-category data of an interaction for, with explicit consent.
  await sql`ALTER TABLE interactions ADD COLUMN declared_for jsonb`.execute(db);

  await sql`
    CREATE TABLE intimacy_changes (
      workspace_id uuid NOT NULL,
      id uuid NOT NULL,
      customer_id uuid NOT NULL,
      level smallint NOT NULL CHECK (level BETWEEN 0 AND 4),
      previous_level smallint NOT NULL,
      source text NOT NULL,
      captured_by text NOT NULL,
      evidence jsonb,
      recorded_at timestamptz NOT NULL DEFAULT clock_timestamp(),
      PRIMARY KEY (workspace_id, id),
      FOREIGN KEY (workspace_id, customer_id) REFERENCES customers (workspace_id, id)
    )`.execute(db);
  await sql`CREATE INDEX intimacy_changes_customer ON intimacy_changes (workspace_id, customer_id, recorded_at)`.execute(
    db,
  );

  // Restriction of processing and objections to purposes: each change is a row; the customer's
  // columns hold the current state.
  await sql`
    CREATE TABLE privacy_flag_changes (
      workspace_id uuid NOT NULL,
      id uuid NOT NULL,
      customer_id uuid NOT NULL,
      kind text NOT NULL CHECK (kind IN ('restrict', 'lift_restriction', 'object', 'withdraw_objection')),
      purpose text,
      source text NOT NULL,
      captured_by text NOT NULL,
      evidence jsonb,
      recorded_at timestamptz NOT NULL DEFAULT clock_timestamp(),
      PRIMARY KEY (workspace_id, id),
      FOREIGN KEY (workspace_id, customer_id) REFERENCES customers (workspace_id, id)
    )`.execute(db);
  await sql`CREATE INDEX privacy_flag_changes_customer ON privacy_flag_changes (workspace_id, customer_id, recorded_at)`.execute(
    db,
  );

  await sql`
    CREATE TABLE consent_records (
      workspace_id uuid NOT NULL,
      id uuid NOT NULL,
      customer_id uuid NOT NULL,
      purpose text NOT NULL,
      channel text NOT NULL DEFAULT '',
      status text NOT NULL CHECK (status IN ('granted', 'denied', 'withdrawn')),
      explicit boolean NOT NULL,
      lawful_basis text NOT NULL,
      notice_version text,
      evidence jsonb,
      source text NOT NULL,
      captured_by text NOT NULL,
      effective_from timestamptz NOT NULL,
      expires_at timestamptz,
      recorded_at timestamptz NOT NULL DEFAULT clock_timestamp(),
      PRIMARY KEY (workspace_id, id),
      FOREIGN KEY (workspace_id, customer_id) REFERENCES customers (workspace_id, id)
    )`.execute(db);
  await sql`
    CREATE INDEX consent_records_customer ON consent_records (workspace_id, customer_id, effective_from DESC, id DESC)
  `.execute(db);

  // The projection: the latest record per customer, purpose and channel ('' = every channel).
  await sql`
    CREATE TABLE consent_state (
      workspace_id uuid NOT NULL,
      customer_id uuid NOT NULL,
      purpose text NOT NULL,
      channel text NOT NULL,
      status text NOT NULL,
      explicit boolean NOT NULL,
      expires_at timestamptz,
      effective_from timestamptz NOT NULL,
      record_id uuid NOT NULL,
      PRIMARY KEY (workspace_id, customer_id, purpose, channel),
      FOREIGN KEY (workspace_id, customer_id) REFERENCES customers (workspace_id, id)
    )`.execute(db);
  await sql`CREATE INDEX consent_state_purpose ON consent_state (workspace_id, purpose, status, customer_id)`.execute(
    db,
  );

  await sql`
    CREATE TABLE recipients (
      workspace_id uuid NOT NULL,
      id uuid NOT NULL,
      name text NOT NULL,
      kind text NOT NULL CHECK (kind IN ('partner', 'processor', 'export_file', 'webhook', 'integration_key')),
      purposes text[] NOT NULL,
      description text,
      api_key_id uuid,
      created_at timestamptz NOT NULL DEFAULT now(),
      PRIMARY KEY (workspace_id, id),
      UNIQUE (workspace_id, name)
    )`.execute(db);
  await sql`CREATE UNIQUE INDEX recipients_api_key ON recipients (workspace_id, api_key_id) WHERE api_key_id IS NOT NULL`.execute(
    db,
  );

  await sql`
    CREATE TABLE disclosures (
      workspace_id uuid NOT NULL,
      id uuid NOT NULL,
      customer_id uuid NOT NULL,
      recipient_id uuid NOT NULL,
      fields text[] NOT NULL,
      purpose text NOT NULL,
      lawful_basis text NOT NULL,
      request_id text,
      disclosed_at timestamptz NOT NULL DEFAULT clock_timestamp(),
      PRIMARY KEY (workspace_id, id),
      FOREIGN KEY (workspace_id, customer_id) REFERENCES customers (workspace_id, id),
      FOREIGN KEY (workspace_id, recipient_id) REFERENCES recipients (workspace_id, id)
    )`.execute(db);
  await sql`CREATE INDEX disclosures_customer ON disclosures (workspace_id, customer_id, disclosed_at DESC)`.execute(
    db,
  );
  await sql`CREATE INDEX disclosures_recipient ON disclosures (workspace_id, recipient_id, disclosed_at DESC)`.execute(
    db,
  );

  // Events as the accesses write them, in the access's own transaction and without any lock; the
  // chainer moves them into the chain in order (audit/audit.service.ts).
  await sql`
    CREATE TABLE audit_inbox (
      workspace_id uuid NOT NULL,
      id uuid NOT NULL,
      occurred_at timestamptz NOT NULL,
      actor jsonb NOT NULL,
      purpose text,
      action text NOT NULL,
      customer_ids uuid[] NOT NULL,
      fields text[] NOT NULL,
      request_id text,
      details jsonb,
      PRIMARY KEY (workspace_id, id)
    )`.execute(db);

  // The audit chain: `seq` is dense per workspace; each row stores the hash of the previous one and its
  // own hash over canonical JSON. `audit_heads` holds the last link and is locked to append.
  await sql`
    CREATE TABLE audit_events (
      workspace_id uuid NOT NULL,
      seq bigint NOT NULL,
      id uuid NOT NULL,
      occurred_at timestamptz NOT NULL,
      actor jsonb NOT NULL,
      purpose text,
      action text NOT NULL,
      customer_ids uuid[] NOT NULL,
      fields text[] NOT NULL,
      request_id text,
      details jsonb,
      prev_hash text NOT NULL,
      hash text NOT NULL,
      PRIMARY KEY (workspace_id, seq)
    )`.execute(db);
  await sql`
    CREATE TABLE audit_subjects (
      workspace_id uuid NOT NULL,
      customer_id uuid NOT NULL,
      seq bigint NOT NULL,
      PRIMARY KEY (workspace_id, customer_id, seq)
    )`.execute(db);
  await sql`
    CREATE TABLE audit_heads (
      workspace_id uuid PRIMARY KEY REFERENCES workspaces (id),
      seq bigint NOT NULL,
      hash text NOT NULL
    )`.execute(db);

  await sql`
    CREATE OR REPLACE FUNCTION cornerstore_refuse_change() RETURNS trigger
    LANGUAGE plpgsql AS $$
    BEGIN
      RAISE EXCEPTION 'table % is append-only', TG_TABLE_NAME USING ERRCODE = 'P0001', HINT = 'append_only';
    END
    $$`.execute(db);

  for (const table of [...APPEND_ONLY, ...MUTABLE]) {
    const t = sql.table(table);
    await sql`ALTER TABLE ${t} ENABLE ROW LEVEL SECURITY`.execute(db);
    await sql`ALTER TABLE ${t} FORCE ROW LEVEL SECURITY`.execute(db);
    await sql`
      CREATE POLICY workspace_isolation ON ${t}
      USING (workspace_id = cornerstore_workspace())
      WITH CHECK (workspace_id = cornerstore_workspace())`.execute(db);
  }
  for (const table of APPEND_ONLY) {
    const t = sql.table(table);
    await sql`GRANT SELECT, INSERT ON ${t} TO cornerstore_app`.execute(db);
    await sql`
      CREATE TRIGGER ${sql.id(`${table}_append_only`)} BEFORE UPDATE OR DELETE ON ${t}
      FOR EACH ROW EXECUTE FUNCTION cornerstore_refuse_change()`.execute(db);
    await sql`
      CREATE TRIGGER ${sql.id(`${table}_no_truncate`)} BEFORE TRUNCATE ON ${t}
      FOR EACH STATEMENT EXECUTE FUNCTION cornerstore_refuse_change()`.execute(db);
  }
  await sql`GRANT SELECT, INSERT, UPDATE ON workspace_secrets, consent_state, recipients, audit_heads TO cornerstore_app`.execute(
    db,
  );
  await sql`GRANT SELECT, INSERT, DELETE ON audit_inbox TO cornerstore_app`.execute(db);
  await sql`GRANT DELETE ON consent_state TO cornerstore_app`.execute(db);
}
