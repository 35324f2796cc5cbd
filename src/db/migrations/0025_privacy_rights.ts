import { type Kysely, sql } from 'kysely';

/**
 * Privacy rights (SPEC §5.4, §5.5): the requests a customer's rights become — each with its legal
 * deadline, verification step, assignee and evidence — and the notifications that make corrections
 * travel: one per recipient that ever received the affected fields, with its channel (a signed webhook or
 * the manual work queue) and its state. Then the suppression list of erased identifiers (keyed hashes
 * only), which every creation of a customer checks.
 *
 * A request outlives the customer it names (it is the evidence that an erasure happened), so
 * `customer_id` has no foreign key; erasure clears the request's personal details.
 */
const TABLES = ['privacy_requests', 'privacy_notifications', 'suppressed_identities'] as const;

export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    CREATE TABLE privacy_requests (
      workspace_id uuid NOT NULL,
      id uuid NOT NULL,
      customer_id uuid NOT NULL,
      kind text NOT NULL CHECK (kind IN ('access', 'rectification', 'erasure', 'restriction', 'portability',
        'objection', 'do_not_sell')),
      source text NOT NULL CHECK (source IN ('staff', 'customer', 'gpc')),
      status text NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'completed', 'rejected')),
      verification text NOT NULL CHECK (verification IN ('pending', 'verified', 'not_required')),
      verification_method text,
      verified_by text,
      verified_at timestamptz,
      assignee text,
      details jsonb NOT NULL DEFAULT '{}'::jsonb,
      evidence jsonb,
      received_at timestamptz NOT NULL,
      due_on date NOT NULL,
      created_by text NOT NULL,
      completed_by text,
      completed_at timestamptz,
      PRIMARY KEY (workspace_id, id)
    )`.execute(db);
  // The privacy officer's queue: open requests by deadline.
  await sql`CREATE INDEX privacy_requests_queue ON privacy_requests (workspace_id, status, due_on)`.execute(
    db,
  );
  await sql`CREATE INDEX privacy_requests_customer ON privacy_requests (workspace_id, customer_id)`.execute(
    db,
  );

  await sql`
    CREATE TABLE privacy_notifications (
      workspace_id uuid NOT NULL,
      id uuid NOT NULL,
      recipient_id uuid NOT NULL,
      customer_id uuid NOT NULL,
      cause text NOT NULL CHECK (cause IN ('rectification', 'erasure', 'restriction', 'merge')),
      -- What caused it (an event's or a request's id): one notification per cause and recipient.
      cause_id uuid NOT NULL,
      request_id uuid,
      fields text[] NOT NULL,
      channel text NOT NULL CHECK (channel IN ('webhook', 'manual')),
      status text NOT NULL DEFAULT 'pending'
        CHECK (status IN ('pending', 'delivered', 'acknowledged', 'failed', 'exempt')),
      status_reason text,
      -- The webhook delivery carrying it (its id is the receiver's idempotency key).
      delivery_id uuid,
      created_at timestamptz NOT NULL,
      delivered_at timestamptz,
      acknowledged_at timestamptz,
      acknowledged_by text,
      updated_at timestamptz NOT NULL,
      PRIMARY KEY (workspace_id, id),
      UNIQUE (workspace_id, recipient_id, cause_id),
      FOREIGN KEY (workspace_id, recipient_id) REFERENCES recipients (workspace_id, id)
    )`.execute(db);
  await sql`CREATE INDEX privacy_notifications_customer ON privacy_notifications (workspace_id, customer_id)`.execute(
    db,
  );
  // The work queue and the state sync: notifications not finished, by channel.
  await sql`
    CREATE INDEX privacy_notifications_open ON privacy_notifications (workspace_id, channel, created_at)
    WHERE status IN ('pending', 'delivered', 'failed')`.execute(db);

  await sql`
    CREATE TABLE suppressed_identities (
      workspace_id uuid NOT NULL,
      -- HMAC-SHA256 of the normalised identifier under the workspace's secret: never the identifier.
      hash text NOT NULL,
      kind text NOT NULL,
      request_id uuid,
      suppressed_at timestamptz NOT NULL,
      PRIMARY KEY (workspace_id, hash)
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
  // On a Citus cluster, tenant tables added after 0024 are distributed by workspace too (parents first).
  const { rows } = await sql`SELECT 1 FROM pg_extension WHERE extname = 'citus'`.execute(db);
  if (rows.length === 0) return;
  for (const table of TABLES)
    await sql`SELECT create_distributed_table(${table}, 'workspace_id')`.execute(db);
}
