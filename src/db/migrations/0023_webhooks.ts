import { type Kysely, sql } from 'kysely';

/**
 * Webhooks out (SPEC §11): the endpoint of each recipient of kind webhook (its URL, event filter,
 * signing secrets and health), one delivery per event and endpoint (the idempotency key the receiver
 * sees as `webhook-id`; its body is fixed at enqueue, so every retry sends the same bytes), and the log of
 * every attempt. Deliveries and attempts only grow: `pruneWebhookLogs` removes finished ones after
 * their retention (webhooks/webhook.ts).
 */
const TABLES = ['webhook_endpoints', 'webhook_deliveries', 'webhook_attempts'] as const;

export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    CREATE TABLE webhook_endpoints (
      workspace_id uuid NOT NULL,
      recipient_id uuid NOT NULL,
      url text NOT NULL,
      events text[],
      status text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'disabled')),
      secret bytea NOT NULL,
      previous_secret bytea,
      previous_secret_until timestamptz,
      consecutive_failures integer NOT NULL DEFAULT 0,
      failing_since timestamptz,
      disabled_at timestamptz,
      disabled_reason text,
      created_at timestamptz NOT NULL DEFAULT now(),
      PRIMARY KEY (workspace_id, recipient_id),
      FOREIGN KEY (workspace_id, recipient_id) REFERENCES recipients (workspace_id, id)
    )`.execute(db);

  await sql`
    CREATE TABLE webhook_deliveries (
      workspace_id uuid NOT NULL,
      id uuid NOT NULL,
      recipient_id uuid NOT NULL,
      event_id uuid NOT NULL,
      event_type text NOT NULL,
      customer_id uuid,
      purpose text NOT NULL,
      lawful_basis text NOT NULL,
      body text NOT NULL,
      status text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'delivered', 'parked')),
      attempts integer NOT NULL DEFAULT 0,
      round_attempts integer NOT NULL DEFAULT 0,
      next_attempt_at timestamptz NOT NULL,
      last_attempt_at timestamptz,
      last_status integer,
      last_error text,
      delivered_at timestamptz,
      disclosed_at timestamptz,
      created_at timestamptz NOT NULL,
      PRIMARY KEY (workspace_id, id),
      UNIQUE (workspace_id, recipient_id, event_id),
      FOREIGN KEY (workspace_id, recipient_id) REFERENCES webhook_endpoints (workspace_id, recipient_id)
    )`.execute(db);
  // What the delivery worker claims: pending deliveries by due time.
  await sql`
    CREATE INDEX webhook_deliveries_due ON webhook_deliveries (workspace_id, next_attempt_at)
    WHERE status = 'pending'`.execute(db);
  // A recipient's delivery log, newest first (ids are UUIDv7, so they order by creation).
  await sql`CREATE INDEX webhook_deliveries_recipient ON webhook_deliveries (workspace_id, recipient_id, id DESC)`.execute(
    db,
  );
  // Retention: finished deliveries by age.
  await sql`
    CREATE INDEX webhook_deliveries_finished ON webhook_deliveries (workspace_id, created_at)
    WHERE status <> 'pending'`.execute(db);

  await sql`
    CREATE TABLE webhook_attempts (
      workspace_id uuid NOT NULL,
      delivery_id uuid NOT NULL,
      attempt integer NOT NULL,
      recipient_id uuid NOT NULL,
      url text NOT NULL,
      request jsonb NOT NULL,
      started_at timestamptz NOT NULL,
      latency_ms integer NOT NULL,
      response_status integer,
      error text,
      PRIMARY KEY (workspace_id, delivery_id, attempt),
      FOREIGN KEY (workspace_id, delivery_id) REFERENCES webhook_deliveries (workspace_id, id) ON DELETE CASCADE
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
