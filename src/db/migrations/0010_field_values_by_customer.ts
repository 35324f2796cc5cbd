import { type Kysely, sql } from 'kysely';

/**
 * Every field value of a customer, current and superseded: a merge moves them all and keeps them all in
 * its before-image, and a field history lists them all. The index on current values only
 * (`customer_field_values_current`) cannot serve these, so each merge scanned the whole table twice
 * (on the demo world, about a third of identity resolution's time).
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`CREATE INDEX customer_field_values_customer ON customer_field_values (workspace_id, customer_id)`.execute(
    db,
  );
}
