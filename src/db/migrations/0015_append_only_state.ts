import { type Kysely, sql } from 'kysely';

/**
 * The append-only ledgers refuse a change with a SQLSTATE of their own (`UA001`, in a class PostgreSQL
 * leaves to applications), so the error is recognised by its code, never by its message text.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    CREATE OR REPLACE FUNCTION cornerstore_refuse_change() RETURNS trigger
    LANGUAGE plpgsql AS $$
    BEGIN
      RAISE EXCEPTION 'table % is append-only', TG_TABLE_NAME USING ERRCODE = 'UA001';
    END
    $$`.execute(db);
}
