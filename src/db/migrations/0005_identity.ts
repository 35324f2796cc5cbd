import { type Kysely, sql } from 'kysely';

/**
 * Identity resolution in the database (SPEC §3, §5.3, §5.5): which customer a merged one went into,
 * the recorded merge operations with the before-image an exact unmerge needs, the review queue of
 * candidate pairs, the decisions people made on pairs (kept as labels), and the outbox of domain events
 * written in the same transaction as the change they announce.
 *
 * Decisions are append-only like the other ledgers (the trigger of 0004 refuses UPDATE, DELETE and
 * TRUNCATE); merges and reviews change state (unmerged, decided) and are never deleted by the tenant role.
 */

const APPEND_ONLY = ['identity_decisions'] as const;
const MUTABLE = ['identity_merges', 'identity_reviews', 'outbox_events'] as const;

export async function up(db: Kysely<unknown>): Promise<void> {
  // A merged customer keeps its row (its ledgers, disclosures and audit subjects still point at it);
  // reads skip it and references follow it to the survivor.
  await sql`ALTER TABLE customers ADD COLUMN merged_into uuid`.execute(db);
  await sql`
    CREATE INDEX customers_merged_into ON customers (workspace_id, merged_into) WHERE merged_into IS NOT NULL
  `.execute(db);

  await sql`
    CREATE TABLE identity_merges (
      workspace_id uuid NOT NULL,
      id uuid NOT NULL,
      survivor_id uuid NOT NULL,
      absorbed_id uuid NOT NULL,
      origin text NOT NULL CHECK (origin IN ('manual', 'automatic', 'review')),
      reason text,
      review_id uuid,
      probability real,
      before_image jsonb NOT NULL,
      merged_by text NOT NULL,
      merged_at timestamptz NOT NULL,
      unmerged_by text,
      unmerged_at timestamptz,
      unmerge_report jsonb,
      PRIMARY KEY (workspace_id, id),
      FOREIGN KEY (workspace_id, survivor_id) REFERENCES customers (workspace_id, id),
      FOREIGN KEY (workspace_id, absorbed_id) REFERENCES customers (workspace_id, id),
      CHECK (survivor_id <> absorbed_id)
    )`.execute(db);
  await sql`CREATE INDEX identity_merges_survivor ON identity_merges (workspace_id, survivor_id, merged_at)`.execute(
    db,
  );
  await sql`CREATE INDEX identity_merges_absorbed ON identity_merges (workspace_id, absorbed_id, merged_at)`.execute(
    db,
  );

  // One row per unordered pair (customer_a < customer_b): a pair is queued once, whatever its fate.
  await sql`
    CREATE TABLE identity_reviews (
      workspace_id uuid NOT NULL,
      id uuid NOT NULL,
      customer_a uuid NOT NULL,
      customer_b uuid NOT NULL,
      score real NOT NULL,
      probability real NOT NULL,
      reason text NOT NULL CHECK (reason IN ('band', 'guard')),
      explanation jsonb NOT NULL,
      status text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'accepted', 'rejected')),
      decided_by text,
      decided_at timestamptz,
      merge_id uuid,
      created_at timestamptz NOT NULL DEFAULT clock_timestamp(),
      PRIMARY KEY (workspace_id, id),
      UNIQUE (workspace_id, customer_a, customer_b),
      FOREIGN KEY (workspace_id, customer_a) REFERENCES customers (workspace_id, id),
      FOREIGN KEY (workspace_id, customer_b) REFERENCES customers (workspace_id, id),
      CHECK (customer_a < customer_b)
    )`.execute(db);
  await sql`CREATE INDEX identity_reviews_status ON identity_reviews (workspace_id, status, created_at, id)`.execute(
    db,
  );

  // Labels: a person said a pair is (match) or is not (non_match) one person; merges and unmerges
  // made by hand say so too. `levels` is the comparison vector when the pair was scored.
  await sql`
    CREATE TABLE identity_decisions (
      workspace_id uuid NOT NULL,
      id uuid NOT NULL,
      customer_a uuid NOT NULL,
      customer_b uuid NOT NULL,
      label text NOT NULL CHECK (label IN ('match', 'non_match')),
      origin text NOT NULL CHECK (origin IN ('review', 'merge', 'unmerge')),
      review_id uuid,
      merge_id uuid,
      levels jsonb,
      probability real,
      decided_by text NOT NULL,
      decided_at timestamptz NOT NULL DEFAULT clock_timestamp(),
      PRIMARY KEY (workspace_id, id),
      CHECK (customer_a < customer_b)
    )`.execute(db);
  await sql`CREATE INDEX identity_decisions_pair ON identity_decisions (workspace_id, customer_a, customer_b, decided_at)`.execute(
    db,
  );

  await sql`
    CREATE TABLE outbox_events (
      workspace_id uuid NOT NULL,
      id uuid NOT NULL,
      type text NOT NULL,
      customer_id uuid,
      payload jsonb NOT NULL,
      created_at timestamptz NOT NULL DEFAULT clock_timestamp(),
      dispatched_at timestamptz,
      PRIMARY KEY (workspace_id, id)
    )`.execute(db);
  await sql`
    CREATE INDEX outbox_events_pending ON outbox_events (workspace_id, created_at, id) WHERE dispatched_at IS NULL
  `.execute(db);
  await sql`CREATE INDEX outbox_events_customer ON outbox_events (workspace_id, customer_id, created_at)`.execute(
    db,
  );

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
  await sql`GRANT SELECT, INSERT, UPDATE ON identity_merges, identity_reviews, outbox_events TO cornerstore_app`.execute(
    db,
  );
}
