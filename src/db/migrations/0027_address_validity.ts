import { type Kysely, sql } from 'kysely';

/**
 * Addresses with validity (issue 13, a customer moves): a contact point may hold from `valid_from` and
 * until `valid_until` (both open when null). The current addresses are those valid now; a move ends the
 * current ones at the moving date and adds the new one from it, so the old address stays in the record
 * (identity matching, history) without prefilling a form again.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`ALTER TABLE contact_points ADD COLUMN valid_from timestamptz, ADD COLUMN valid_until timestamptz`.execute(
    db,
  );
  await sql`
    ALTER TABLE contact_points ADD CONSTRAINT contact_points_validity
    CHECK (valid_from IS NULL OR valid_until IS NULL OR valid_until >= valid_from)`.execute(db);
}
