import { type Kysely, sql } from 'kysely';

/**
 * The tenant role needs USAGE on the schema that holds the tables. PostgreSQL grants it to everyone on
 * the stock `public` schema, but not on a schema created by hand (a recreated `public`, or a schema of
 * the deployment's own), where every tenant query would fail with "relation does not exist".
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    DO $$
    BEGIN
      EXECUTE format('GRANT USAGE ON SCHEMA %I TO cornerstore_app', current_schema());
    END
    $$`.execute(db);
}
