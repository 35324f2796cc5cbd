import { type Kysely, sql } from 'kysely';

/**
 * Small moments (SPEC §9): each workspace's playbook versions (the newest is active; none stored means
 * the built-in default), the moments raised from events and schedules (one per customer, type and
 * window: `window_key`, with `source_ids`: the interactions, or the event, that raised it), the decision taken on each with its full trace, the actions delivered (agent
 * tasks, webhook messages, notes on the next interaction) with their state, the feedback on them, and
 * each action's propensity (a Beta posterior: successes and failures counted on top of the prior).
 */
const TABLES = [
  'moment_playbooks',
  'moments',
  'moment_decisions',
  'moment_actions',
  'moment_feedback',
  'moment_propensities',
] as const;

export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    CREATE TABLE moment_playbooks (
      workspace_id uuid NOT NULL REFERENCES workspaces (id),
      version integer NOT NULL CHECK (version > 0),
      definition jsonb NOT NULL,
      format text NOT NULL CHECK (format IN ('json', 'yaml')),
      created_by text NOT NULL,
      created_at timestamptz NOT NULL,
      PRIMARY KEY (workspace_id, version)
    )`.execute(db);

  await sql`
    CREATE TABLE moments (
      workspace_id uuid NOT NULL,
      id uuid NOT NULL,
      customer_id uuid NOT NULL,
      type text NOT NULL,
      window_key text NOT NULL,
      context jsonb NOT NULL,
      source_ids uuid[] NOT NULL,
      occurred_at timestamptz NOT NULL,
      created_at timestamptz NOT NULL,
      PRIMARY KEY (workspace_id, id),
      UNIQUE (workspace_id, customer_id, type, window_key)
    )`.execute(db);
  // A customer's recent moments (distress windows, sequencing), newest first.
  await sql`CREATE INDEX moments_customer ON moments (workspace_id, customer_id, occurred_at DESC)`.execute(
    db,
  );

  await sql`
    CREATE TABLE moment_decisions (
      workspace_id uuid NOT NULL,
      id uuid NOT NULL,
      moment_id uuid NOT NULL,
      customer_id uuid NOT NULL,
      playbook_version integer NOT NULL,
      outcome text NOT NULL CHECK (outcome IN ('act', 'nothing')),
      trace jsonb NOT NULL,
      created_at timestamptz NOT NULL,
      PRIMARY KEY (workspace_id, id),
      FOREIGN KEY (workspace_id, moment_id) REFERENCES moments (workspace_id, id) ON DELETE CASCADE
    )`.execute(db);
  await sql`CREATE INDEX moment_decisions_customer ON moment_decisions (workspace_id, customer_id, id DESC)`.execute(
    db,
  );

  await sql`
    CREATE TABLE moment_actions (
      workspace_id uuid NOT NULL,
      id uuid NOT NULL,
      decision_id uuid NOT NULL,
      customer_id uuid NOT NULL,
      action text NOT NULL,
      purpose text NOT NULL,
      data_purpose text NOT NULL,
      channel text NOT NULL,
      delivery text NOT NULL CHECK (delivery IN ('task', 'webhook', 'note')),
      status text NOT NULL CHECK (status IN ('queued', 'claimed', 'done', 'sent', 'cancelled')),
      owner text,
      due_at timestamptz NOT NULL,
      script text,
      explanation text NOT NULL,
      outcome text,
      cancelled_reason text,
      created_at timestamptz NOT NULL,
      updated_at timestamptz NOT NULL,
      PRIMARY KEY (workspace_id, id),
      FOREIGN KEY (workspace_id, decision_id) REFERENCES moment_decisions (workspace_id, id) ON DELETE CASCADE
    )`.execute(db);
  // Caps, cooldowns and a customer's open actions.
  await sql`CREATE INDEX moment_actions_customer ON moment_actions (workspace_id, customer_id, created_at DESC)`.execute(
    db,
  );
  // The agents' queue: open tasks by due time.
  await sql`
    CREATE INDEX moment_actions_open ON moment_actions (workspace_id, due_at)
    WHERE status IN ('queued', 'claimed')`.execute(db);

  await sql`
    CREATE TABLE moment_feedback (
      workspace_id uuid NOT NULL,
      id uuid NOT NULL,
      action_id uuid NOT NULL,
      customer_id uuid NOT NULL,
      action text NOT NULL,
      outcome text NOT NULL
        CHECK (outcome IN ('accepted', 'ignored', 'rejected', 'too_personal', 'converted')),
      source text NOT NULL,
      created_at timestamptz NOT NULL,
      PRIMARY KEY (workspace_id, id),
      UNIQUE (workspace_id, action_id, outcome),
      FOREIGN KEY (workspace_id, action_id) REFERENCES moment_actions (workspace_id, id) ON DELETE CASCADE
    )`.execute(db);
  await sql`CREATE INDEX moment_feedback_customer ON moment_feedback (workspace_id, customer_id, created_at DESC)`.execute(
    db,
  );

  await sql`
    CREATE TABLE moment_propensities (
      workspace_id uuid NOT NULL REFERENCES workspaces (id),
      action text NOT NULL,
      successes double precision NOT NULL DEFAULT 0,
      failures double precision NOT NULL DEFAULT 0,
      updated_at timestamptz NOT NULL,
      PRIMARY KEY (workspace_id, action)
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
