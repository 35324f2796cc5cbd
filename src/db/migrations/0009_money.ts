import { type Kysely, sql } from 'kysely';

/**
 * Money kept exactly in value profiles: a customer's total spend (purchases less returns) is a sum of
 * amounts, so it is `numeric` like the amounts themselves, not a float; and each profile names the
 * ISO 4217 currency its money figures are in (the workspace's value currency at the refit that wrote
 * it), so amounts in different currencies are never read as one.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`ALTER TABLE value_profiles ALTER COLUMN total_spend TYPE numeric(20, 4)`.execute(db);
  await sql`ALTER TABLE value_profiles ADD COLUMN currency char(3)`.execute(db);
}
