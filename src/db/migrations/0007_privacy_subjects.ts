import { type Kysely, sql } from 'kysely';

/**
 * What the access decision needs of each customer (intimacy level, restriction, objections, current
 * purpose-wide consents), as a function. Every governed read asks for it; as a plain statement it was
 * planned anew each time (the planning, under row-level security, cost more than running it), while a
 * function's statement keeps its plan for the connection. It runs with the caller's rights, so the
 * row-level security of both tables still applies.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    CREATE FUNCTION cornerstore_privacy_subjects(p_workspace uuid, p_ids uuid[])
    RETURNS TABLE (id uuid, intimacy_level smallint, processing_restricted boolean, objections text[], consents json)
    LANGUAGE plpgsql STABLE AS $$
    BEGIN
      RETURN QUERY
      SELECT c.id, c.intimacy_level, c.processing_restricted, c.objections,
        (SELECT json_agg(json_build_object('purpose', cs.purpose, 'status', cs.status, 'explicit', cs.explicit,
                                           'expires_at', cs.expires_at))
         FROM consent_state cs
         WHERE cs.workspace_id = c.workspace_id AND cs.customer_id = c.id AND cs.channel = '')
      FROM customers c
      WHERE c.workspace_id = p_workspace AND c.id = ANY(p_ids);
    END
    $$`.execute(db);
  await sql`GRANT EXECUTE ON FUNCTION cornerstore_privacy_subjects(uuid, uuid[]) TO cornerstore_app`.execute(
    db,
  );
}
