import { type Kysely, sql } from 'kysely';

/**
 * Postal addresses as contact points (kind `address`), beside emails and phones: the customer's
 * addresses, each with its source, and evidence for identity resolution. The value is the address in a
 * canonical JSON form (`customers/contact.ts`), so the same address typed twice is stored once.
 *
 * And the workspace resolutions that ran (`identity_resolutions`): when, with which thresholds, what
 * they did. A rerun over customers unchanged since the last run, with the same thresholds, decides
 * nothing anew about them (resolution is idempotent).
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`ALTER TABLE contact_points DROP CONSTRAINT contact_points_kind_check`.execute(db);
  await sql`
    ALTER TABLE contact_points ADD CONSTRAINT contact_points_kind_check
      CHECK (kind IN ('email', 'phone', 'address'))`.execute(db);

  await sql`
    CREATE TABLE identity_resolutions (
      workspace_id uuid NOT NULL,
      id uuid NOT NULL,
      as_of timestamptz NOT NULL,
      auto_threshold double precision NOT NULL,
      review_threshold double precision NOT NULL,
      customers integer NOT NULL,
      merges integer NOT NULL,
      queued integer NOT NULL,
      resolved_by text NOT NULL,
      PRIMARY KEY (workspace_id, id)
    )`.execute(db);
  await sql`CREATE INDEX identity_resolutions_as_of ON identity_resolutions (workspace_id, as_of)`.execute(
    db,
  );
  await sql`ALTER TABLE identity_resolutions ENABLE ROW LEVEL SECURITY`.execute(db);
  await sql`ALTER TABLE identity_resolutions FORCE ROW LEVEL SECURITY`.execute(db);
  await sql`
    CREATE POLICY workspace_isolation ON identity_resolutions
    USING (workspace_id = cornerstore_workspace())
    WITH CHECK (workspace_id = cornerstore_workspace())`.execute(db);
  await sql`GRANT SELECT, INSERT ON identity_resolutions TO cornerstore_app`.execute(db);
}
