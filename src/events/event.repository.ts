import { sql } from 'kysely';
import type { Tx } from '../db/index.ts';
import { newId } from '../shared/ids.ts';
import type { DomainEvent, EventType, NewEvent } from './event.ts';

/**
 * All SQL of the `events` table: appending in the writer's transaction, claiming pending events for
 * dispatch (`FOR UPDATE SKIP LOCKED`, so workers side by side never take the same event), marking them
 * dispatched, the queue's depth and lag, and pruning what was dispatched long ago.
 */

interface EventRow {
  workspace_id: string;
  id: string;
  type: string;
  customer_id: string | null;
  payload: Record<string, unknown>;
  occurred_at: Date | string;
}

function eventOf(row: EventRow): DomainEvent {
  return {
    id: row.id,
    workspaceId: row.workspace_id,
    // Only recordEvent writes this table, with types of the closed union.
    type: row.type as EventType,
    customerId: row.customer_id,
    payload: Object.freeze({ ...row.payload }),
    occurredAt: new Date(row.occurred_at),
  };
}

/**
 * Appends events in the caller's transaction, in the order given (their positions follow it), to the
 * workspace the transaction is confined to. Returns their ids.
 */
export async function insertEvents(tx: Tx, events: readonly NewEvent[]): Promise<string[]> {
  if (events.length === 0) return [];
  const ids = events.map(() => newId());
  await sql`
    INSERT INTO events (workspace_id, id, type, customer_id, payload)
    SELECT cornerstore_workspace(), e.id, e.type, e.customer_id, e.payload
      FROM unnest(${ids}::uuid[], ${events.map((e) => e.type)}::text[],
                  ${events.map((e) => e.customerId)}::uuid[],
                  ${events.map((e) => JSON.stringify(e.payload))}::jsonb[])
           WITH ORDINALITY AS e(id, type, customer_id, payload, n)
     ORDER BY e.n`.execute(tx);
  return ids;
}

/**
 * Claims up to `limit` pending events of the workspace, oldest position first, and marks them
 * dispatched in the claiming transaction: events another worker holds are skipped, not waited for, and
 * if the claiming transaction rolls back (a crash, kill -9) they are pending again. One statement.
 */
export async function claimPendingEvents(tx: Tx, workspaceId: string, limit: number): Promise<DomainEvent[]> {
  const { rows } = await sql<EventRow & { position: number }>`
    UPDATE events e SET dispatched_at = clock_timestamp()
     WHERE e.workspace_id = ${workspaceId}
       AND e.id = ANY(ARRAY(SELECT id FROM events
                             WHERE workspace_id = ${workspaceId} AND dispatched_at IS NULL
                             ORDER BY position
                             LIMIT ${limit}
                               FOR UPDATE SKIP LOCKED))
    RETURNING e.workspace_id, e.id, e.position, e.type, e.customer_id, e.payload, e.occurred_at`.execute(tx);
  rows.sort((a, b) => a.position - b.position);
  return rows.map(eventOf);
}

/** The events with these ids (any state), in position order. */
export async function findEvents(
  tx: Tx,
  workspaceId: string,
  ids: readonly string[],
): Promise<DomainEvent[]> {
  if (ids.length === 0) return [];
  const { rows } = await sql<EventRow>`
    SELECT workspace_id, id, type, customer_id, payload, occurred_at
      FROM events
     WHERE workspace_id = ${workspaceId} AND id = ANY(${ids}::uuid[])
     ORDER BY position`.execute(tx);
  return rows.map(eventOf);
}

/** Pending events of the workspace and the age of the oldest (null when none wait). */
export async function measureEventQueue(
  tx: Tx,
  workspaceId: string,
): Promise<{ pending: number; oldest: Date | null; total: number }> {
  const { rows } = await sql<{ pending: number; oldest: Date | string | null; total: number }>`
    SELECT (SELECT count(*)::int FROM events WHERE workspace_id = ${workspaceId} AND dispatched_at IS NULL) AS pending,
           (SELECT min(occurred_at) FROM events WHERE workspace_id = ${workspaceId} AND dispatched_at IS NULL) AS oldest,
           (SELECT count(*)::int FROM events WHERE workspace_id = ${workspaceId}) AS total`.execute(tx);
  const row = rows[0];
  return {
    pending: row?.pending ?? 0,
    oldest: row?.oldest ? new Date(row.oldest) : null,
    total: row?.total ?? 0,
  };
}

/**
 * Deletes events dispatched before `before` that no subscriber still holds as a failure (a dead letter
 * keeps its event until it is retried or pruned itself). Answers how many went.
 */
export async function pruneDispatchedEvents(tx: Tx, workspaceId: string, before: Date): Promise<number> {
  const result = await sql`
    DELETE FROM events e
     WHERE e.workspace_id = ${workspaceId}
       AND e.dispatched_at IS NOT NULL AND e.dispatched_at < ${before}
       AND NOT EXISTS (SELECT 1 FROM job_failures f WHERE f.workspace_id = e.workspace_id AND f.event_id = e.id)`.execute(
    tx,
  );
  return Number(result.numAffectedRows ?? 0);
}
