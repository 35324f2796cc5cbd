import { type Kysely, sql } from 'kysely';

/**
 * The audit chain against the database's own administrator (ARCHITECTURE.md, "The audit chain"):
 * - every event records how its hash was made (`hash_version`: 1, plain SHA-256, for the events written
 *   before; 2, HMAC-SHA256 under a key kept outside the database), so old chains still verify;
 * - the inbox is append-only for the tenant role: it may insert and read, never update or delete, and
 *   nobody may update or truncate it; an entry leaves the inbox only through
 *   `cornerstore_audit_inbox_chained`, a function of the schema's owner that removes the entries whose
 *   identical event is in the chain, so calling it can never erase an access that was not chained.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`ALTER TABLE audit_events ADD COLUMN hash_version smallint NOT NULL DEFAULT 1`.execute(db);
  // New events name their version explicitly.
  await sql`ALTER TABLE audit_events ALTER COLUMN hash_version DROP DEFAULT`.execute(db);
  await sql`ALTER TABLE audit_events ADD CONSTRAINT audit_events_hash_version CHECK (hash_version IN (1, 2))`.execute(
    db,
  );

  await sql`REVOKE DELETE, UPDATE, TRUNCATE ON audit_inbox FROM cornerstore_app`.execute(db);
  await sql`
    CREATE TRIGGER audit_inbox_no_update BEFORE UPDATE ON audit_inbox
    FOR EACH ROW EXECUTE FUNCTION cornerstore_refuse_change()`.execute(db);
  await sql`
    CREATE TRIGGER audit_inbox_no_truncate BEFORE TRUNCATE ON audit_inbox
    FOR EACH STATEMENT EXECUTE FUNCTION cornerstore_refuse_change()`.execute(db);

  await sql`
    CREATE FUNCTION cornerstore_audit_inbox_chained(p_workspace uuid, p_from bigint, p_to bigint)
    RETURNS integer
    LANGUAGE sql SECURITY DEFINER SET search_path FROM CURRENT AS $$
      WITH chained AS (
        DELETE FROM audit_inbox i
        USING audit_events e
        WHERE p_workspace = cornerstore_workspace()
          AND e.workspace_id = p_workspace AND e.seq BETWEEN p_from AND p_to
          AND i.workspace_id = p_workspace AND i.id = e.id
          AND i.occurred_at = e.occurred_at AND i.actor = e.actor AND i.action = e.action
          AND i.purpose IS NOT DISTINCT FROM e.purpose AND i.customer_ids = e.customer_ids
          AND i.fields = e.fields AND i.request_id IS NOT DISTINCT FROM e.request_id
          AND i.details IS NOT DISTINCT FROM e.details
        RETURNING 1
      )
      SELECT count(*)::integer FROM chained
    $$`.execute(db);
  await sql`REVOKE ALL ON FUNCTION cornerstore_audit_inbox_chained(uuid, bigint, bigint) FROM PUBLIC`.execute(
    db,
  );
  await sql`GRANT EXECUTE ON FUNCTION cornerstore_audit_inbox_chained(uuid, bigint, bigint) TO cornerstore_app`.execute(
    db,
  );
}
