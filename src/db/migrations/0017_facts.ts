import { type Kysely, sql } from 'kysely';

/**
 * The memory of the little things (SPEC §6): one row per version of a fact about a customer. A fact is
 * never silently overwritten: a correction or a changed derivation inserts a new version that names
 * the one it replaces (`supersedes`), and the old version gets `superseded_at`. The current facts are
 * the versions without `superseded_at`. Forgetting clears the value of every version of the fact and
 * keeps a tombstone (key, status `forgotten`), so a later derivation does not bring it back unseen;
 * purging (after an intimacy lowering's grace period) deletes the versions.
 *
 * `min_intimacy` is the level the customer must keep for the fact to be remembered: a fact above the
 * customer's current level is hidden from every read at once and purged after the grace period.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    CREATE TABLE facts (
      workspace_id uuid NOT NULL,
      id uuid NOT NULL,
      customer_id uuid NOT NULL,
      -- The first version of this fact: every version of one fact shares it.
      fact_id uuid NOT NULL,
      key text NOT NULL,
      category text NOT NULL,
      value jsonb,
      source_kind text NOT NULL CHECK (source_kind IN ('declared', 'observed', 'derived', 'inferred')),
      status text NOT NULL
        CHECK (status IN ('active', 'to_confirm', 'confirmed', 'rejected', 'forgotten', 'expired')),
      source text NOT NULL,
      interaction_id uuid,
      captured_by text NOT NULL,
      captured_at timestamptz NOT NULL,
      confidence real NOT NULL CHECK (confidence >= 0 AND confidence <= 1),
      evidence jsonb,
      consent_purposes text[] NOT NULL DEFAULT '{}',
      min_intimacy smallint NOT NULL CHECK (min_intimacy BETWEEN 0 AND 4),
      valid_from timestamptz,
      expires_at timestamptz,
      remember boolean NOT NULL DEFAULT false,
      supersedes uuid,
      superseded_at timestamptz,
      created_at timestamptz NOT NULL DEFAULT clock_timestamp(),
      updated_at timestamptz NOT NULL DEFAULT clock_timestamp(),
      PRIMARY KEY (workspace_id, id),
      FOREIGN KEY (workspace_id, customer_id) REFERENCES customers (workspace_id, id)
    )`.execute(db);
  // The current facts of a customer (every read), and of a key across customers (segments, derivation).
  await sql`
    CREATE INDEX facts_current ON facts (workspace_id, customer_id, key)
    WHERE superseded_at IS NULL`.execute(db);
  await sql`CREATE INDEX facts_by_key ON facts (workspace_id, key) WHERE superseded_at IS NULL`.execute(db);
  await sql`CREATE INDEX facts_versions ON facts (workspace_id, fact_id)`.execute(db);
  await sql`ALTER TABLE facts ENABLE ROW LEVEL SECURITY`.execute(db);
  await sql`ALTER TABLE facts FORCE ROW LEVEL SECURITY`.execute(db);
  await sql`
    CREATE POLICY workspace_isolation ON facts
    USING (workspace_id = cornerstore_workspace())
    WITH CHECK (workspace_id = cornerstore_workspace())`.execute(db);
  await sql`GRANT SELECT, INSERT, UPDATE, DELETE ON facts TO cornerstore_app`.execute(db);
}
