import { type Selectable, sql } from 'kysely';
import type { Tx } from '../db/index.ts';
import type { PrivacyNotificationsTable, PrivacyRequestsTable } from '../db/schema.ts';
import {
  computeDaysLeft,
  type NotificationCause,
  type NotificationChannel,
  type NotificationStatus,
  type PrivacyNotification,
  type PrivacyRequest,
  type PrivacyRequestKind,
  type PrivacyRequestSource,
  type VerificationStatus,
} from './privacy.ts';

/** SQL of privacy requests, notifications and the suppression list. Every statement names its workspace. */

const iso = (d: Date | string | null): string | null => (d === null ? null : new Date(d).toISOString());

function toRequest(row: Selectable<PrivacyRequestsTable>, now: Date): PrivacyRequest {
  const dueOn = typeof row.due_on === 'string' ? row.due_on : new Date(row.due_on).toISOString().slice(0, 10);
  const open = row.status === 'open';
  const daysLeft = open ? computeDaysLeft(dueOn, now) : null;
  return {
    id: row.id,
    customerId: row.customer_id,
    kind: row.kind,
    source: row.source,
    status: row.status,
    verification: {
      status: row.verification,
      method: row.verification_method,
      by: row.verified_by,
      at: iso(row.verified_at),
    },
    assignee: row.assignee,
    details: row.details ?? {},
    evidence: row.evidence,
    receivedAt: new Date(row.received_at).toISOString(),
    dueOn,
    daysLeft,
    overdue: daysLeft !== null && daysLeft < 0,
    createdBy: row.created_by,
    completedBy: row.completed_by,
    completedAt: iso(row.completed_at),
  };
}

/** A request to insert. */
export interface NewRequest {
  id: string;
  customerId: string;
  kind: PrivacyRequestKind;
  source: PrivacyRequestSource;
  verification: VerificationStatus;
  verificationMethod: string | null;
  verifiedBy: string | null;
  assignee: string | null;
  details: Record<string, unknown>;
  receivedAt: Date;
  dueOn: string;
  createdBy: string;
}

export async function insertRequest(
  tx: Tx,
  workspaceId: string,
  r: NewRequest,
  now: Date,
): Promise<PrivacyRequest> {
  const row = await tx
    .insertInto('privacy_requests')
    .values({
      workspace_id: workspaceId,
      id: r.id,
      customer_id: r.customerId,
      kind: r.kind,
      source: r.source,
      verification: r.verification,
      verification_method: r.verificationMethod,
      verified_by: r.verifiedBy,
      verified_at: r.verification === 'verified' ? now : null,
      assignee: r.assignee,
      details: JSON.stringify(r.details),
      evidence: null,
      received_at: r.receivedAt,
      due_on: r.dueOn,
      created_by: r.createdBy,
      completed_by: null,
      completed_at: null,
    })
    .returningAll()
    .executeTakeFirstOrThrow();
  return toRequest(row, now);
}

/** A request by id, locked for the rest of the transaction when `forUpdate`. */
export async function findRequest(
  tx: Tx,
  workspaceId: string,
  id: string,
  now: Date,
  options: { forUpdate?: boolean } = {},
): Promise<PrivacyRequest | undefined> {
  let query = tx
    .selectFrom('privacy_requests')
    .selectAll()
    .where('workspace_id', '=', workspaceId)
    .where('id', '=', id);
  if (options.forUpdate) query = query.forUpdate();
  const row = await query.executeTakeFirst();
  return row && toRequest(row, now);
}

/** The officer's queue: requests by deadline (then receipt), filtered. */
export async function listRequests(
  tx: Tx,
  workspaceId: string,
  filter: {
    status?: string | undefined;
    dueBefore?: string | undefined;
    customerId?: string | undefined;
    kind?: string | undefined;
    limit: number;
  },
  now: Date,
): Promise<PrivacyRequest[]> {
  let query = tx.selectFrom('privacy_requests').selectAll().where('workspace_id', '=', workspaceId);
  if (filter.status !== undefined) query = query.where('status', '=', filter.status as 'open');
  if (filter.dueBefore !== undefined) query = query.where('due_on', '<', filter.dueBefore);
  if (filter.customerId !== undefined) query = query.where('customer_id', '=', filter.customerId);
  if (filter.kind !== undefined) query = query.where('kind', '=', filter.kind as PrivacyRequestKind);
  const rows = await query
    .orderBy('due_on')
    .orderBy('received_at')
    .orderBy('id')
    .limit(filter.limit)
    .execute();
  return rows.map((r) => toRequest(r, now));
}

/** Changes a request's verification, assignee or outcome. */
export async function updateRequest(
  tx: Tx,
  workspaceId: string,
  id: string,
  patch: {
    verification?: { status: VerificationStatus; method: string; by: string; at: Date };
    assignee?: string | null;
    outcome?: { status: 'completed' | 'rejected'; evidence: Record<string, unknown>; by: string; at: Date };
    details?: Record<string, unknown>;
  },
): Promise<void> {
  await tx
    .updateTable('privacy_requests')
    .set({
      ...(patch.verification
        ? {
            verification: patch.verification.status,
            verification_method: patch.verification.method,
            verified_by: patch.verification.by,
            verified_at: patch.verification.at,
          }
        : {}),
      ...(patch.assignee === undefined ? {} : { assignee: patch.assignee }),
      ...(patch.outcome
        ? {
            status: patch.outcome.status,
            evidence: JSON.stringify(patch.outcome.evidence),
            completed_by: patch.outcome.by,
            completed_at: patch.outcome.at,
          }
        : {}),
      ...(patch.details === undefined ? {} : { details: JSON.stringify(patch.details) }),
    })
    .where('workspace_id', '=', workspaceId)
    .where('id', '=', id)
    .execute();
}

/**
 * Erasure: the personal details of the customer's requests (a rectification's values, notes) are
 * cleared; what kind of request it was, when and by whom, and its evidence stay as the proof.
 */
export async function clearRequestDetails(tx: Tx, workspaceId: string, customerId: string): Promise<number> {
  const result = await tx
    .updateTable('privacy_requests')
    .set({ details: JSON.stringify({ erased: true }) })
    .where('workspace_id', '=', workspaceId)
    .where('customer_id', '=', customerId)
    .executeTakeFirst();
  return Number(result.numUpdatedRows);
}

/** A party that received a customer's data: which fields over time, for which purposes, when. */
export interface DisclosedRecipient {
  id: string;
  name: string;
  kind: string;
  fields: string[];
  purposes: string[];
  disclosures: number;
  firstAt: string;
  lastAt: string;
}

/** Every recipient that ever received the customer's data, from the disclosure ledger. */
export async function listDisclosedRecipients(
  tx: Tx,
  workspaceId: string,
  customerId: string,
): Promise<DisclosedRecipient[]> {
  const { rows } = await sql<{
    id: string;
    name: string;
    kind: string;
    fields: string[];
    purposes: string[];
    n: number;
    first_at: Date;
    last_at: Date;
  }>`
    SELECT r.id, r.name, r.kind, array_agg(DISTINCT f.field ORDER BY f.field) AS fields,
      array_agg(DISTINCT d.purpose ORDER BY d.purpose) AS purposes,
      count(DISTINCT d.id)::int AS n, min(d.disclosed_at) AS first_at, max(d.disclosed_at) AS last_at
    FROM disclosures d
    JOIN recipients r ON r.workspace_id = d.workspace_id AND r.id = d.recipient_id
    CROSS JOIN LATERAL unnest(d.fields) AS f(field)
    WHERE d.workspace_id = ${workspaceId} AND d.customer_id = ${customerId}
    GROUP BY r.workspace_id, r.id, r.name, r.kind
    ORDER BY r.name`.execute(tx);
  return rows.map((r) => ({
    id: r.id,
    name: r.name,
    kind: r.kind,
    fields: r.fields,
    purposes: r.purposes,
    disclosures: r.n,
    firstAt: new Date(r.first_at).toISOString(),
    lastAt: new Date(r.last_at).toISOString(),
  }));
}

/** A notification to insert. */
export interface NewNotification {
  id: string;
  recipientId: string;
  customerId: string;
  cause: NotificationCause;
  causeId: string;
  requestId: string | null;
  fields: string[];
  channel: NotificationChannel;
}

/**
 * Inserts notifications; one for the same cause and recipient is left alone (a retried subscriber adds
 * nothing). Answers the ids inserted.
 */
export async function insertNotifications(
  tx: Tx,
  workspaceId: string,
  notifications: readonly NewNotification[],
  now: Date,
): Promise<Set<string>> {
  if (notifications.length === 0) return new Set();
  const rows = await tx
    .insertInto('privacy_notifications')
    .values(
      notifications.map((n) => ({
        workspace_id: workspaceId,
        id: n.id,
        recipient_id: n.recipientId,
        customer_id: n.customerId,
        cause: n.cause,
        cause_id: n.causeId,
        request_id: n.requestId,
        fields: n.fields,
        channel: n.channel,
        status_reason: null,
        delivery_id: n.channel === 'webhook' ? n.id : null,
        created_at: now,
        delivered_at: null,
        acknowledged_at: null,
        acknowledged_by: null,
        updated_at: now,
      })),
    )
    .onConflict((oc) => oc.columns(['workspace_id', 'recipient_id', 'cause_id']).doNothing())
    .returning('id')
    .execute();
  return new Set(rows.map((r) => r.id));
}

type NotificationRow = Selectable<PrivacyNotificationsTable> & {
  recipient_name: string;
  recipient_kind: string;
};

function toNotification(row: NotificationRow): PrivacyNotification {
  return {
    id: row.id,
    recipient: { id: row.recipient_id, name: row.recipient_name, kind: row.recipient_kind },
    customerId: row.customer_id,
    cause: row.cause,
    causeId: row.cause_id,
    requestId: row.request_id,
    fields: row.fields,
    channel: row.channel,
    status: row.status,
    reason: row.status_reason,
    deliveryId: row.delivery_id,
    createdAt: new Date(row.created_at).toISOString(),
    deliveredAt: iso(row.delivered_at),
    acknowledgedAt: iso(row.acknowledged_at),
    acknowledgedBy: row.acknowledged_by,
  };
}

/** Notifications, newest first, filtered. */
export async function listNotifications(
  tx: Tx,
  workspaceId: string,
  filter: {
    customerId?: string | undefined;
    status?: NotificationStatus | undefined;
    channel?: NotificationChannel | undefined;
    requestId?: string | undefined;
    ids?: readonly string[] | undefined;
    limit: number;
  },
): Promise<PrivacyNotification[]> {
  if (filter.ids?.length === 0) return [];
  let query = tx
    .selectFrom('privacy_notifications as n')
    .innerJoin('recipients as r', (join) =>
      join.onRef('r.workspace_id', '=', 'n.workspace_id').onRef('r.id', '=', 'n.recipient_id'),
    )
    .selectAll('n')
    .select(['r.name as recipient_name', 'r.kind as recipient_kind'])
    .where('n.workspace_id', '=', workspaceId);
  if (filter.customerId !== undefined) query = query.where('n.customer_id', '=', filter.customerId);
  if (filter.status !== undefined) query = query.where('n.status', '=', filter.status);
  if (filter.channel !== undefined) query = query.where('n.channel', '=', filter.channel);
  if (filter.requestId !== undefined) query = query.where('n.request_id', '=', filter.requestId);
  if (filter.ids !== undefined) query = query.where('n.id', 'in', filter.ids);
  const rows = await query
    .orderBy('n.created_at', 'desc')
    .orderBy('n.id', 'desc')
    .limit(filter.limit)
    .execute();
  return rows.map(toNotification);
}

/** Webhook notifications whose state may still move with their delivery (pending, delivered, failed). */
export async function listOpenWebhookNotifications(
  tx: Tx,
  workspaceId: string,
  customerId: string | undefined,
  limit: number,
): Promise<{ id: string; deliveryId: string; status: NotificationStatus }[]> {
  let query = tx
    .selectFrom('privacy_notifications')
    .select(['id', 'delivery_id', 'status'])
    .where('workspace_id', '=', workspaceId)
    .where('channel', '=', 'webhook')
    .where('status', 'in', ['pending', 'delivered', 'failed'])
    .where('delivery_id', 'is not', null);
  if (customerId !== undefined) query = query.where('customer_id', '=', customerId);
  const rows = await query.orderBy('created_at').limit(limit).execute();
  return rows.map((r) => ({ id: r.id, deliveryId: r.delivery_id ?? r.id, status: r.status }));
}

/** Moves notifications to a new state (one statement per state). */
export async function setNotificationStatus(
  tx: Tx,
  workspaceId: string,
  ids: readonly string[],
  change: {
    status: NotificationStatus;
    reason?: string | null;
    deliveredAt?: Date | null;
    acknowledged?: { at: Date; by: string };
    now: Date;
  },
): Promise<void> {
  if (ids.length === 0) return;
  await tx
    .updateTable('privacy_notifications')
    .set({
      status: change.status,
      updated_at: change.now,
      ...(change.reason === undefined ? {} : { status_reason: change.reason }),
      ...(change.deliveredAt === undefined ? {} : { delivered_at: change.deliveredAt }),
      ...(change.acknowledged
        ? { acknowledged_at: change.acknowledged.at, acknowledged_by: change.acknowledged.by }
        : {}),
    })
    .where('workspace_id', '=', workspaceId)
    .where('id', 'in', ids)
    .execute();
}

/** A table column naming a customer: a foreign key to `customers`, or a column called `customer_id`. */
export interface CustomerColumn {
  table: string;
  column: string;
}

/**
 * Every column of the schema that names a customer, from the catalog: each column of a foreign key to
 * `customers` (besides `workspace_id`) and every `customer_id`, plus `customers.id` and
 * `customers.merged_into` themselves. A table a later migration adds is covered the day it exists.
 */
export async function listCustomerColumns(tx: Tx): Promise<CustomerColumn[]> {
  const { rows } = await sql<{ table_name: string; column_name: string }>`
    SELECT cl.relname::text AS table_name, a.attname::text AS column_name
    FROM pg_constraint con
    JOIN pg_class cl ON cl.oid = con.conrelid
    JOIN pg_namespace n ON n.oid = cl.relnamespace AND n.nspname = current_schema()
    JOIN pg_class parent ON parent.oid = con.confrelid AND parent.relname = 'customers'
    CROSS JOIN LATERAL unnest(con.conkey) AS k(attnum)
    JOIN pg_attribute a ON a.attrelid = cl.oid AND a.attnum = k.attnum
    WHERE con.contype = 'f' AND a.attname <> 'workspace_id'
    UNION
    SELECT c.table_name::text, c.column_name::text
    FROM information_schema.columns c
    JOIN information_schema.tables t ON t.table_schema = c.table_schema AND t.table_name = c.table_name
    WHERE c.table_schema = current_schema() AND t.table_type = 'BASE TABLE'
      AND (c.column_name = 'customer_id' OR (c.table_name = 'customers' AND c.column_name IN ('id', 'merged_into')))
    ORDER BY 1, 2`.execute(tx);
  return rows.map((r) => ({ table: r.table_name, column: r.column_name }));
}

/** The rows of one table naming any of the customers in any of the columns, as JSON, by primary key. */
export async function readRowsNaming(
  tx: Tx,
  workspaceId: string,
  table: string,
  columns: readonly string[],
  customerIds: readonly string[],
  orderBy: readonly string[],
): Promise<Record<string, unknown>[]> {
  const t = sql.table(table);
  const naming = sql.join(
    columns.map((c) => sql`t.${sql.ref(c)} = ANY(${customerIds as string[]}::uuid[])`),
    sql` OR `,
  );
  const { rows } = await sql<{ row: Record<string, unknown> }>`
    SELECT to_jsonb(t) AS row FROM ${t} t
    WHERE t.workspace_id = ${workspaceId} AND (${naming})
    ORDER BY ${sql.join(orderBy.map((c) => sql`t.${sql.ref(c)}`))}`.execute(tx);
  return rows.map((r) => r.row);
}

/** The customer and the customers merged into it (the same person under earlier ids). */
export async function findPersonIds(tx: Tx, workspaceId: string, customerId: string): Promise<string[]> {
  const rows = await tx
    .selectFrom('customers')
    .select('id')
    .where('workspace_id', '=', workspaceId)
    .where((eb) => eb.or([eb('id', '=', customerId), eb('merged_into', '=', customerId)]))
    .orderBy('id')
    .execute();
  return rows.map((r) => r.id);
}

/** The access log of the customers: every chained audit event naming them, oldest first. */
export async function listAuditEventsNaming(
  tx: Tx,
  workspaceId: string,
  customerIds: readonly string[],
): Promise<Record<string, unknown>[]> {
  const { rows } = await sql<{ row: Record<string, unknown> }>`
    SELECT jsonb_build_object('seq', e.seq, 'at', e.occurred_at, 'actor', e.actor, 'action', e.action,
      'purpose', e.purpose, 'fields', e.fields, 'requestId', e.request_id) AS row
    FROM audit_events e
    WHERE e.workspace_id = ${workspaceId} AND e.seq IN (
      SELECT s.seq FROM audit_subjects s
      WHERE s.workspace_id = ${workspaceId} AND s.customer_id = ANY(${customerIds as string[]}::uuid[]))
    ORDER BY e.seq`.execute(tx);
  return rows.map((r) => r.row);
}
