import { type Kysely, sql } from 'kysely';

/**
 * Customer search matches an external id without knowing its source system; the primary key of
 * `customer_identities` leads with the source, so that lookup needs its own index.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`CREATE INDEX customer_identities_external_id ON customer_identities (workspace_id, external_id)`.execute(
    db,
  );
}
