import { type Kysely, sql } from 'kysely';

/**
 * Idempotency records become receipts: scoped to the caller (the API key, later the user) rather than
 * the workspace, holding the status and the ids a replay needs to answer again through the access gate
 * — never the response itself, which held personal data and, for a created key, its secret. Records
 * written before this migration held such responses; they are deleted (they only ever served retries).
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`DELETE FROM idempotency_keys`.execute(db);
  await sql`ALTER TABLE idempotency_keys DROP CONSTRAINT idempotency_keys_pkey`.execute(db);
  await sql`ALTER TABLE idempotency_keys DROP COLUMN response`.execute(db);
  await sql`ALTER TABLE idempotency_keys ADD COLUMN caller text NOT NULL`.execute(db);
  await sql`ALTER TABLE idempotency_keys ADD COLUMN receipt jsonb`.execute(db);
  await sql`ALTER TABLE idempotency_keys ADD PRIMARY KEY (workspace_id, caller, key)`.execute(db);
  // Expired receipts are removed per workspace by age (see api/context.ts).
  await sql`CREATE INDEX idempotency_keys_age ON idempotency_keys (workspace_id, created_at)`.execute(db);
}
