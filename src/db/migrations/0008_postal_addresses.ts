import { type Kysely, sql } from 'kysely';

/**
 * Postal addresses as contact points (kind `address`), beside emails and phones: the customer's
 * addresses, each with its source, and evidence for identity resolution. The value is the address in a
 * canonical JSON form (`customers/contact.ts`), so the same address typed twice is stored once.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`ALTER TABLE contact_points DROP CONSTRAINT contact_points_kind_check`.execute(db);
  await sql`
    ALTER TABLE contact_points ADD CONSTRAINT contact_points_kind_check
      CHECK (kind IN ('email', 'phone', 'address'))`.execute(db);
}
