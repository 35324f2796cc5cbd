import { type Kysely, sql } from 'kysely';

/**
 * The batch an import is storing, recorded (and committed) before its transaction starts: when the
 * process dies in the middle of it, the next run finds the attempt at its checkpoint and retries
 * those rows one by one, rejecting the single row that was in flight when a row-by-row attempt died.
 * `attempt_offset` is the checkpoint the attempt started from, `attempt_end_offset` where the rows
 * under suspicion end, `attempt_single` whether it was one row alone.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    ALTER TABLE import_runs
      ADD COLUMN attempt_offset bigint,
      ADD COLUMN attempt_end_offset bigint,
      ADD COLUMN attempt_single boolean NOT NULL DEFAULT false`.execute(db);
}
