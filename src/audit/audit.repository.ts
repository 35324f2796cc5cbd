import { sql } from 'kysely';
import type { Tx } from '../db/index.ts';
import type { AuditActor, AuditEvent, ChainCursor, HashVersion } from './audit.ts';
import { GENESIS_HASH } from './audit.ts';

/** SQL of the audit log: the locked head of the chain, appending events, reading them back. */

/**
 * The last link of the workspace's chain, locked until the transaction ends: appends are serialised per
 * workspace. The head row is created on first use. With `skipLocked`, answers null at once when another
 * transaction holds the lock (it is chaining; what it misses is chained next time).
 */
export async function lockHead(
  tx: Tx,
  workspaceId: string,
  options: { skipLocked: boolean },
): Promise<ChainCursor | null> {
  const select = () => {
    const query = tx
      .selectFrom('audit_heads')
      .select(['seq', 'hash'])
      .where('workspace_id', '=', workspaceId)
      .forUpdate();
    return (options.skipLocked ? query.skipLocked() : query).executeTakeFirst();
  };
  let head = await select();
  if (!head) {
    const created = await tx
      .insertInto('audit_heads')
      .values({ workspace_id: workspaceId, seq: 0, hash: GENESIS_HASH })
      .onConflict((oc) => oc.doNothing())
      .returning(['seq', 'hash'])
      .executeTakeFirst();
    head = created ?? (await select());
  }
  return head ? { seq: Number(head.seq), hash: head.hash } : null;
}

/** An audit entry as written by the access, before it is chained. */
export type PendingEvent = Omit<AuditEvent, 'workspaceId' | 'seq' | 'prevHash' | 'hashVersion' | 'hash'>;

/** Writes entries to the workspace's inbox: one statement with one parameter, no lock. */
export async function insertPending(
  tx: Tx,
  workspaceId: string,
  events: readonly PendingEvent[],
): Promise<void> {
  if (events.length === 0) return;
  const rows = JSON.stringify(
    events.map((e) => ({
      id: e.id,
      occurred_at: e.occurredAt,
      actor: e.actor,
      purpose: e.purpose,
      action: e.action,
      customer_ids: e.customerIds,
      fields: e.fields,
      request_id: e.requestId,
      details: e.details ?? null,
    })),
  );
  await sql`
    INSERT INTO audit_inbox (workspace_id, id, occurred_at, actor, purpose, action, customer_ids, fields, request_id, details)
    SELECT ${workspaceId}::uuid, r.id, r.occurred_at, r.actor, r.purpose, r.action, r.customer_ids, r.fields,
           r.request_id, r.details
    FROM jsonb_to_recordset(${rows}::jsonb) AS r(id uuid, occurred_at timestamptz, actor jsonb, purpose text,
         action text, customer_ids uuid[], fields text[], request_id text, details jsonb)`.execute(tx);
}

interface PendingRow {
  id: string;
  occurred_at: Date;
  actor: AuditActor;
  purpose: string | null;
  action: string;
  customer_ids: string[];
  fields: string[];
  request_id: string | null;
  details: unknown;
}

function toPending(row: PendingRow): PendingEvent {
  return {
    id: row.id,
    occurredAt: new Date(row.occurred_at).toISOString(),
    actor: row.actor,
    purpose: row.purpose,
    action: row.action,
    customerIds: row.customer_ids,
    fields: row.fields,
    requestId: row.request_id,
    details: row.details,
  };
}

/** The oldest entries waiting to be chained, in id (time) order. */
export async function listPending(tx: Tx, workspaceId: string, limit: number): Promise<PendingEvent[]> {
  const rows = await tx
    .selectFrom('audit_inbox')
    .selectAll()
    .where('workspace_id', '=', workspaceId)
    .orderBy('id')
    .limit(limit)
    .execute();
  return rows.map((r) => toPending(r as unknown as PendingRow));
}

/** How many entries wait to be chained. */
export async function countPending(tx: Tx, workspaceId: string): Promise<number> {
  const row = await tx
    .selectFrom('audit_inbox')
    .select((eb) => eb.fn.countAll<string>().as('n'))
    .where('workspace_id', '=', workspaceId)
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

/** One customer's entries not chained yet, newest first. */
export async function listCustomerPending(
  tx: Tx,
  workspaceId: string,
  customerId: string,
  limit: number,
): Promise<PendingEvent[]> {
  const rows = await tx
    .selectFrom('audit_inbox')
    .selectAll()
    .where('workspace_id', '=', workspaceId)
    .where(sql<boolean>`customer_ids @> ARRAY[${customerId}]::uuid[]`)
    .orderBy('id', 'desc')
    .limit(limit)
    .execute();
  return rows.map((r) => toPending(r as unknown as PendingRow));
}

/** Reads the head without locking it. */
export async function findHead(tx: Tx, workspaceId: string): Promise<ChainCursor> {
  const head = await tx
    .selectFrom('audit_heads')
    .select(['seq', 'hash'])
    .where('workspace_id', '=', workspaceId)
    .executeTakeFirst();
  return head ? { seq: Number(head.seq), hash: head.hash } : { seq: 0, hash: GENESIS_HASH };
}

/**
 * Appends events (already hashed) with their subject index rows and moves the head, in one statement;
 * then takes them out of the inbox. The tenant role may not delete from the inbox: a function of the
 * schema's owner removes only entries whose identical event is now in the chain (migration 0012).
 */
export async function appendEvents(tx: Tx, events: readonly AuditEvent[]): Promise<void> {
  const last = events[events.length - 1];
  if (!last) return;
  const subjectCustomers: string[] = [];
  const subjectSeqs: number[] = [];
  for (const event of events) {
    for (const customerId of new Set(event.customerIds)) {
      subjectCustomers.push(customerId);
      subjectSeqs.push(event.seq);
    }
  }
  const rows = JSON.stringify(
    events.map((e) => ({
      seq: e.seq,
      id: e.id,
      occurred_at: e.occurredAt,
      actor: e.actor,
      purpose: e.purpose,
      action: e.action,
      customer_ids: e.customerIds,
      fields: e.fields,
      request_id: e.requestId,
      details: e.details ?? null,
      prev_hash: e.prevHash,
      hash_version: e.hashVersion,
      hash: e.hash,
    })),
  );
  await sql`
    WITH events AS (
      INSERT INTO audit_events (workspace_id, seq, id, occurred_at, actor, purpose, action, customer_ids, fields,
                                request_id, details, prev_hash, hash_version, hash)
      SELECT ${last.workspaceId}::uuid, r.seq, r.id, r.occurred_at, r.actor, r.purpose, r.action, r.customer_ids,
             r.fields, r.request_id, r.details, r.prev_hash, r.hash_version, r.hash
      FROM jsonb_to_recordset(${rows}::jsonb) AS r(seq bigint, id uuid, occurred_at timestamptz, actor jsonb,
           purpose text, action text, customer_ids uuid[], fields text[], request_id text, details jsonb,
           prev_hash text, hash_version smallint, hash text)
    ), head AS (
      UPDATE audit_heads SET seq = ${last.seq}, hash = ${last.hash} WHERE workspace_id = ${last.workspaceId}
    )
    INSERT INTO audit_subjects (workspace_id, customer_id, seq)
    SELECT ${last.workspaceId}::uuid, s.customer_id, s.seq
    FROM unnest(${subjectCustomers}::uuid[], ${subjectSeqs}::bigint[]) AS s(customer_id, seq)
  `.execute(tx);
  const first = events[0] as AuditEvent;
  await sql`SELECT cornerstore_audit_inbox_chained(${last.workspaceId}::uuid, ${first.seq}::bigint, ${last.seq}::bigint)`.execute(
    tx,
  );
}

interface EventRow extends PendingRow {
  workspace_id: string;
  seq: number | string;
  prev_hash: string;
  hash_version: number;
  hash: string;
}

function toEvent(row: EventRow): AuditEvent {
  return {
    workspaceId: row.workspace_id,
    seq: Number(row.seq),
    ...toPending(row),
    prevHash: row.prev_hash,
    hashVersion: Number(row.hash_version) as HashVersion,
    hash: row.hash,
  };
}

/** The event at `seq`, if the chain has one. */
export async function findEvent(tx: Tx, workspaceId: string, seq: number): Promise<AuditEvent | undefined> {
  const row = await tx
    .selectFrom('audit_events')
    .selectAll()
    .where('workspace_id', '=', workspaceId)
    .where('seq', '=', seq)
    .executeTakeFirst();
  return row ? toEvent(row as unknown as EventRow) : undefined;
}

/** The events after `afterSeq`, in seq order. */
export async function listEventsAfter(
  tx: Tx,
  workspaceId: string,
  afterSeq: number,
  limit: number,
): Promise<AuditEvent[]> {
  const rows = await tx
    .selectFrom('audit_events')
    .selectAll()
    .where('workspace_id', '=', workspaceId)
    .where('seq', '>', afterSeq)
    .orderBy('seq')
    .limit(limit)
    .execute();
  return rows.map((row) => toEvent(row as unknown as EventRow));
}

/** The first event whose subject index rows differ from its `customer_ids`, if any. */
export async function findSubjectMismatch(tx: Tx, workspaceId: string): Promise<number | null> {
  const { rows } = await sql<{ seq: number | string }>`
    SELECT coalesce(e.seq, s.seq) AS seq
    FROM (SELECT seq, unnest(customer_ids) AS customer_id FROM audit_events WHERE workspace_id = ${workspaceId}) e
    FULL JOIN (SELECT seq, customer_id FROM audit_subjects WHERE workspace_id = ${workspaceId}) s
      ON s.seq = e.seq AND s.customer_id = e.customer_id
    WHERE e.seq IS NULL OR s.seq IS NULL
    ORDER BY 1
    LIMIT 1`.execute(tx);
  const first = rows[0];
  return first ? Number(first.seq) : null;
}

/**
 * The first chained event whose id an inbox entry still carries: the chainer removes an entry once its
 * identical event is in the chain, so one left behind means the chained copy differs from the access
 * as it was recorded.
 */
export async function findInboxChainMismatch(tx: Tx, workspaceId: string): Promise<number | null> {
  const { rows } = await sql<{ seq: number | string }>`
    SELECT e.seq FROM audit_inbox i
    JOIN audit_events e ON e.workspace_id = i.workspace_id AND e.id = i.id
    WHERE i.workspace_id = ${workspaceId}
    ORDER BY e.seq
    LIMIT 1`.execute(tx);
  const first = rows[0];
  return first ? Number(first.seq) : null;
}

/** One customer's events, newest first, before `beforeSeq` when given. */
export async function listCustomerEvents(
  tx: Tx,
  workspaceId: string,
  customerId: string,
  options: { limit: number; beforeSeq: number | null },
): Promise<AuditEvent[]> {
  let query = tx
    .selectFrom('audit_subjects as s')
    .innerJoin('audit_events as e', (join) =>
      join.onRef('e.workspace_id', '=', 's.workspace_id').onRef('e.seq', '=', 's.seq'),
    )
    .selectAll('e')
    .where('s.workspace_id', '=', workspaceId)
    .where('s.customer_id', '=', customerId);
  if (options.beforeSeq !== null) query = query.where('s.seq', '<', options.beforeSeq);
  const rows = await query.orderBy('s.seq', 'desc').limit(options.limit).execute();
  return rows.map((row) => toEvent(row as unknown as EventRow));
}
