import { type Kysely, sql } from 'kysely';
import type { DB, Tx } from '../db/index.ts';

/**
 * All SQL of `job_failures` (each subscriber's retries and dead letters, per workspace and event) and
 * `job_leases` (which worker runs a scheduled job until when).
 */

/** A subscriber's failure on one event. */
export interface JobFailure {
  subscriber: string;
  eventId: string;
  eventType: string;
  attempts: number;
  status: 'retrying' | 'dead';
  error: string;
  firstFailedAt: string;
  lastFailedAt: string;
  nextAttemptAt: string | null;
}

const iso = (value: Date | string | null): string | null =>
  value === null ? null : new Date(value).toISOString();

/** Records a failed attempt: the first one schedules a retry, a later one counts it, or parks it. */
export async function recordFailure(
  tx: Tx,
  workspaceId: string,
  failure: {
    subscriber: string;
    eventId: string;
    error: string;
    now: Date;
    nextAttemptAt: (attempts: number) => Date | null;
  },
): Promise<'retrying' | 'dead'> {
  const { rows } = await sql<{ attempts: number }>`
    SELECT attempts FROM job_failures
     WHERE workspace_id = ${workspaceId} AND subscriber = ${failure.subscriber} AND event_id = ${failure.eventId}`.execute(
    tx,
  );
  const attempts = (rows[0]?.attempts ?? 0) + 1;
  const next = failure.nextAttemptAt(attempts);
  const status = next === null ? 'dead' : 'retrying';
  await sql`
    INSERT INTO job_failures (workspace_id, subscriber, event_id, attempts, status, error, first_failed_at,
                              last_failed_at, next_attempt_at)
    VALUES (${workspaceId}, ${failure.subscriber}, ${failure.eventId}, ${attempts}, ${status}, ${failure.error},
            ${failure.now}, ${failure.now}, ${next})
    ON CONFLICT (workspace_id, subscriber, event_id) DO UPDATE
       SET attempts = excluded.attempts, status = excluded.status, error = excluded.error,
           last_failed_at = excluded.last_failed_at, next_attempt_at = excluded.next_attempt_at`.execute(tx);
  return status;
}

/** Retries due now, locked for this transaction (others' are skipped). */
export async function claimDueRetries(
  tx: Tx,
  workspaceId: string,
  now: Date,
  limit: number,
): Promise<{ subscriber: string; eventId: string }[]> {
  const { rows } = await sql<{ subscriber: string; event_id: string }>`
    SELECT subscriber, event_id FROM job_failures
     WHERE workspace_id = ${workspaceId} AND status = 'retrying' AND next_attempt_at <= ${now}
     ORDER BY next_attempt_at
     LIMIT ${limit}
       FOR UPDATE SKIP LOCKED`.execute(tx);
  return rows.map((r) => ({ subscriber: r.subscriber, eventId: r.event_id }));
}

/** Forgets a failure: the retry succeeded. */
export async function deleteFailure(
  tx: Tx,
  workspaceId: string,
  subscriber: string,
  eventId: string,
): Promise<void> {
  await sql`
    DELETE FROM job_failures
     WHERE workspace_id = ${workspaceId} AND subscriber = ${subscriber} AND event_id = ${eventId}`.execute(
    tx,
  );
}

/**
 * Puts dead letters back in the queue with a fresh set of tries, due now: all of the workspace's, one
 * subscriber's, or one event's. Answers how many.
 */
export async function requeueDeadLetters(
  tx: Tx,
  workspaceId: string,
  filter: { subscriber?: string | undefined; eventId?: string | undefined },
): Promise<number> {
  const result = await sql`
    UPDATE job_failures SET status = 'retrying', attempts = 0, next_attempt_at = clock_timestamp()
     WHERE workspace_id = ${workspaceId} AND status = 'dead'
       AND (${filter.subscriber ?? null}::text IS NULL OR subscriber = ${filter.subscriber ?? null})
       AND (${filter.eventId ?? null}::uuid IS NULL OR event_id = ${filter.eventId ?? null}::uuid)`.execute(
    tx,
  );
  return Number(result.numAffectedRows ?? 0);
}

/** The workspace's failures (retrying and dead), newest first, at most `limit`. */
export async function listFailures(
  tx: Tx,
  workspaceId: string,
  options: { status?: 'retrying' | 'dead' | undefined; limit: number },
): Promise<JobFailure[]> {
  const { rows } = await sql<{
    subscriber: string;
    event_id: string;
    type: string | null;
    attempts: number;
    status: 'retrying' | 'dead';
    error: string;
    first_failed_at: Date;
    last_failed_at: Date;
    next_attempt_at: Date | null;
  }>`
    SELECT f.subscriber, f.event_id, e.type, f.attempts, f.status, f.error, f.first_failed_at, f.last_failed_at,
           f.next_attempt_at
      FROM job_failures f
      LEFT JOIN events e ON e.workspace_id = f.workspace_id AND e.id = f.event_id
     WHERE f.workspace_id = ${workspaceId} AND (${options.status ?? null}::text IS NULL OR f.status = ${options.status ?? null})
     ORDER BY f.last_failed_at DESC, f.event_id
     LIMIT ${options.limit}`.execute(tx);
  return rows.map((r) => ({
    subscriber: r.subscriber,
    eventId: r.event_id,
    eventType: r.type ?? 'unknown',
    attempts: r.attempts,
    status: r.status,
    error: r.error,
    firstFailedAt: iso(r.first_failed_at) as string,
    lastFailedAt: iso(r.last_failed_at) as string,
    nextAttemptAt: iso(r.next_attempt_at),
  }));
}

/** Failures per subscriber and status. */
export async function countFailures(
  tx: Tx,
  workspaceId: string,
): Promise<{ subscriber: string; status: 'retrying' | 'dead'; count: number }[]> {
  const { rows } = await sql<{ subscriber: string; status: 'retrying' | 'dead'; count: number }>`
    SELECT subscriber, status, count(*)::int AS count FROM job_failures
     WHERE workspace_id = ${workspaceId}
     GROUP BY subscriber, status ORDER BY subscriber, status`.execute(tx);
  return rows;
}

/** Deletes dead letters parked before `before` (their events may then be pruned too). */
export async function pruneDeadLetters(tx: Tx, workspaceId: string, before: Date): Promise<number> {
  const result = await sql`
    DELETE FROM job_failures
     WHERE workspace_id = ${workspaceId} AND status = 'dead' AND last_failed_at < ${before}`.execute(tx);
  return Number(result.numAffectedRows ?? 0);
}

// ---------------------------------------------------------------------------------------------------------
// Leases of scheduled jobs (an installation table: no workspace, run outside workspace transactions)
// ---------------------------------------------------------------------------------------------------------

/**
 * Takes the job's lease when nobody holds it and its interval has passed since it last started
 * (the database's clock, so workers on several hosts agree). Answers whether this holder got it.
 */
export async function acquireLease(
  db: Kysely<DB>,
  job: { name: string; everyMs: number; leaseMs: number; holder: string },
): Promise<boolean> {
  await sql`INSERT INTO job_leases (name) VALUES (${job.name}) ON CONFLICT (name) DO NOTHING`.execute(db);
  const { rows } = await sql<{ name: string }>`
    UPDATE job_leases
       SET holder = ${job.holder},
           leased_until = clock_timestamp() + make_interval(secs => ${job.leaseMs / 1000}),
           last_started_at = clock_timestamp(), last_status = 'running', runs = runs + 1
     WHERE name = ${job.name}
       AND (leased_until IS NULL OR leased_until < clock_timestamp())
       AND (last_started_at IS NULL OR last_started_at <= clock_timestamp() - make_interval(secs => ${job.everyMs / 1000}))
    RETURNING name`.execute(db);
  return rows.length > 0;
}

/** Gives the lease back with how the run went (only the holder can). */
export async function releaseLease(
  db: Kysely<DB>,
  job: { name: string; holder: string; error: string | null },
): Promise<void> {
  await sql`
    UPDATE job_leases
       SET holder = NULL, leased_until = NULL, last_finished_at = clock_timestamp(),
           last_status = ${job.error === null ? 'succeeded' : 'failed'}, last_error = ${job.error}
     WHERE name = ${job.name} AND holder = ${job.holder}`.execute(db);
}

/** Every scheduled job's lease row. */
export interface JobLease {
  name: string;
  holder: string | null;
  leasedUntil: string | null;
  lastStartedAt: string | null;
  lastFinishedAt: string | null;
  lastStatus: 'running' | 'succeeded' | 'failed' | null;
  lastError: string | null;
  runs: number;
}

export async function listLeases(db: Kysely<DB>): Promise<JobLease[]> {
  const rows = await db.selectFrom('job_leases').selectAll().orderBy('name').execute();
  return rows.map((r) => ({
    name: r.name,
    holder: r.holder,
    leasedUntil: iso(r.leased_until),
    lastStartedAt: iso(r.last_started_at),
    lastFinishedAt: iso(r.last_finished_at),
    lastStatus: r.last_status,
    lastError: r.last_error,
    runs: Number(r.runs),
  }));
}
