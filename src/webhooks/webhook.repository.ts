import { type RawBuilder, type Selectable, sql } from 'kysely';
import type { Tx } from '../db/index.ts';
import type { WebhookAttemptsTable, WebhookDeliveriesTable, WebhookEndpointsTable } from '../db/schema.ts';
import type { WebhookAttempt, WebhookDelivery, WebhookEndpoint } from './webhook.ts';

/** SQL of webhook endpoints, deliveries and their attempts. Every statement names its workspace. */

const iso = (d: Date | string | null): string | null => (d === null ? null : new Date(d).toISOString());

function toEndpoint(row: Selectable<WebhookEndpointsTable>, now: Date): WebhookEndpoint {
  const overlap = row.previous_secret_until && new Date(row.previous_secret_until) > now;
  return {
    url: row.url,
    events: row.events,
    status: row.status,
    consecutiveFailures: row.consecutive_failures,
    failingSince: iso(row.failing_since),
    disabledAt: iso(row.disabled_at),
    disabledReason: row.disabled_reason,
    previousSecretUntil: overlap ? iso(row.previous_secret_until) : null,
  };
}

/** Adds the endpoint of a webhook recipient. */
export async function insertEndpoint(
  tx: Tx,
  workspaceId: string,
  endpoint: { recipientId: string; url: string; events: string[] | null; secret: Buffer },
): Promise<void> {
  await tx
    .insertInto('webhook_endpoints')
    .values({
      workspace_id: workspaceId,
      recipient_id: endpoint.recipientId,
      url: endpoint.url,
      events: endpoint.events,
      status: 'active',
      secret: endpoint.secret,
      previous_secret: null,
      previous_secret_until: null,
      failing_since: null,
      disabled_at: null,
      disabled_reason: null,
    })
    .execute();
}

/** The endpoints of the workspace by recipient id (optionally only some recipients). */
export async function listEndpoints(
  tx: Tx,
  workspaceId: string,
  now: Date,
  recipientIds?: readonly string[],
): Promise<Map<string, WebhookEndpoint>> {
  if (recipientIds?.length === 0) return new Map();
  let query = tx.selectFrom('webhook_endpoints').selectAll().where('workspace_id', '=', workspaceId);
  if (recipientIds) query = query.where('recipient_id', 'in', recipientIds);
  const rows = await query.execute();
  return new Map(rows.map((r) => [r.recipient_id, toEndpoint(r, now)]));
}

/** Replaces the secret, keeping the previous one until `previousUntil`; false when there is no endpoint. */
export async function rotateSecret(
  tx: Tx,
  workspaceId: string,
  recipientId: string,
  secret: Buffer,
  previousUntil: Date,
): Promise<boolean> {
  const row = await tx
    .updateTable('webhook_endpoints')
    .set((eb) => ({
      previous_secret: eb.ref('secret'),
      previous_secret_until: previousUntil,
      secret,
    }))
    .where('workspace_id', '=', workspaceId)
    .where('recipient_id', '=', recipientId)
    .returning('recipient_id')
    .executeTakeFirst();
  return row !== undefined;
}

/** Turns an endpoint on again with a clean record; its waiting deliveries become due now. */
export async function enableEndpoint(
  tx: Tx,
  workspaceId: string,
  recipientId: string,
  now: Date,
): Promise<void> {
  await tx
    .updateTable('webhook_endpoints')
    .set({
      status: 'active',
      consecutive_failures: 0,
      failing_since: null,
      disabled_at: null,
      disabled_reason: null,
    })
    .where('workspace_id', '=', workspaceId)
    .where('recipient_id', '=', recipientId)
    .execute();
  await tx
    .updateTable('webhook_deliveries')
    .set({ next_attempt_at: now })
    .where('workspace_id', '=', workspaceId)
    .where('recipient_id', '=', recipientId)
    .where('status', '=', 'pending')
    .where('next_attempt_at', '>', now)
    .execute();
}

/** The active endpoints with their recipients' purposes: who an event may go to. */
export function listActiveEndpoints(
  tx: Tx,
  workspaceId: string,
): Promise<{ recipientId: string; purposes: string[]; events: string[] | null }[]> {
  return tx
    .selectFrom('webhook_endpoints as e')
    .innerJoin('recipients as r', (join) =>
      join.onRef('r.workspace_id', '=', 'e.workspace_id').onRef('r.id', '=', 'e.recipient_id'),
    )
    .select(['e.recipient_id as recipientId', 'r.purposes', 'e.events'])
    .where('e.workspace_id', '=', workspaceId)
    .where('e.status', '=', 'active')
    .execute();
}

/** A delivery to insert. */
export interface NewDelivery {
  id: string;
  recipientId: string;
  eventId: string;
  eventType: string;
  customerId: string | null;
  purpose: string;
  lawfulBasis: string;
  body: string;
}

/** Inserts deliveries; one that exists for the same event and recipient is left alone. Counts the new ones. */
export async function insertDeliveries(
  tx: Tx,
  workspaceId: string,
  deliveries: readonly NewDelivery[],
  now: Date,
): Promise<number> {
  if (deliveries.length === 0) return 0;
  const rows = await tx
    .insertInto('webhook_deliveries')
    .values(
      deliveries.map((d) => ({
        workspace_id: workspaceId,
        id: d.id,
        recipient_id: d.recipientId,
        event_id: d.eventId,
        event_type: d.eventType,
        customer_id: d.customerId,
        purpose: d.purpose,
        lawful_basis: d.lawfulBasis,
        body: d.body,
        status: 'pending' as const,
        next_attempt_at: now,
        last_attempt_at: null,
        last_status: null,
        last_error: null,
        delivered_at: null,
        disclosed_at: null,
        created_at: now,
      })),
    )
    .onConflict((oc) => oc.columns(['workspace_id', 'recipient_id', 'event_id']).doNothing())
    .returning('id')
    .execute();
  return rows.length;
}

/** A delivery claimed for one attempt, with what signing and sending it takes. */
export interface ClaimedDelivery {
  id: string;
  recipientId: string;
  customerId: string | null;
  purpose: string;
  lawfulBasis: string;
  body: string;
  /** This attempt's number in the log, and in the current round. */
  attempt: number;
  roundAttempt: number;
  disclosed: boolean;
  url: string;
  secrets: Buffer[];
}

/**
 * Claims due deliveries of active endpoints: rows another worker holds are skipped (`SKIP LOCKED`), and
 * each claimed row's next attempt moves to `leaseUntil`, so after this transaction commits no one
 * claims it again while its request is in flight — and a worker that dies mid-request leaves it due
 * again when the lease ends (at least once). The attempt is counted here, so a delivery that crashes
 * its worker each time still parks.
 */
export async function claimDueDeliveries(
  tx: Tx,
  workspaceId: string,
  options: { now: Date; limit: number; leaseUntil: Date },
): Promise<ClaimedDelivery[]> {
  const { rows } = await sql<{
    id: string;
    recipient_id: string;
    customer_id: string | null;
    purpose: string;
    lawful_basis: string;
    body: string;
    attempts: number;
    round_attempts: number;
    disclosed_at: Date | null;
    url: string;
    secret: Uint8Array;
    previous_secret: Uint8Array | null;
    previous_secret_until: Date | null;
  }>`
    WITH due AS (
      SELECT d.id FROM webhook_deliveries d
      JOIN webhook_endpoints e ON e.workspace_id = d.workspace_id AND e.recipient_id = d.recipient_id
      WHERE d.workspace_id = ${workspaceId} AND d.status = 'pending' AND d.next_attempt_at <= ${options.now}
        AND e.status = 'active'
      ORDER BY d.next_attempt_at
      LIMIT ${options.limit}
      FOR UPDATE OF d SKIP LOCKED
    )
    UPDATE webhook_deliveries d
    SET next_attempt_at = ${options.leaseUntil}, attempts = d.attempts + 1, round_attempts = d.round_attempts + 1
    FROM due, webhook_endpoints e
    WHERE d.workspace_id = ${workspaceId} AND d.id = due.id
      AND e.workspace_id = d.workspace_id AND e.recipient_id = d.recipient_id
    RETURNING d.id, d.recipient_id, d.customer_id, d.purpose, d.lawful_basis, d.body, d.attempts,
      d.round_attempts, d.disclosed_at, e.url, e.secret, e.previous_secret, e.previous_secret_until`.execute(
    tx,
  );
  return rows.map((r) => {
    const secrets = [Buffer.from(r.secret)];
    if (r.previous_secret && r.previous_secret_until && new Date(r.previous_secret_until) > options.now) {
      secrets.push(Buffer.from(r.previous_secret));
    }
    return {
      id: r.id,
      recipientId: r.recipient_id,
      customerId: r.customer_id,
      purpose: r.purpose,
      lawfulBasis: r.lawful_basis,
      body: r.body,
      attempt: r.attempts,
      roundAttempt: r.round_attempts,
      disclosed: r.disclosed_at !== null,
      url: r.url,
      secrets,
    };
  });
}

/** One finished attempt to record. */
export interface AttemptRecord {
  deliveryId: string;
  recipientId: string;
  attempt: number;
  url: string;
  request: Record<string, unknown>;
  startedAt: Date;
  latencyMs: number;
  responseStatus: number | null;
  error: string | null;
  /** The delivery's state after this attempt. */
  status: 'pending' | 'delivered' | 'parked';
  nextAttemptAt: Date;
  /** Set when this attempt is the delivery's first to leave: it is then in the disclosure ledger. */
  disclosedAt: Date | null;
}

/** Appends the attempts to the log and moves their deliveries on, in two statements. */
export async function recordAttempts(
  tx: Tx,
  workspaceId: string,
  records: readonly AttemptRecord[],
): Promise<void> {
  if (records.length === 0) return;
  const rows = JSON.stringify(
    records.map((r) => ({
      delivery_id: r.deliveryId,
      recipient_id: r.recipientId,
      attempt: r.attempt,
      url: r.url,
      request: r.request,
      started_at: r.startedAt.toISOString(),
      latency_ms: r.latencyMs,
      response_status: r.responseStatus,
      error: r.error,
      status: r.status,
      next_attempt_at: r.nextAttemptAt.toISOString(),
      disclosed_at: r.disclosedAt?.toISOString() ?? null,
    })),
  );
  await sql`
    INSERT INTO webhook_attempts (workspace_id, delivery_id, attempt, recipient_id, url, request, started_at,
      latency_ms, response_status, error)
    SELECT ${workspaceId}::uuid, r.delivery_id, r.attempt, r.recipient_id, r.url, r.request, r.started_at,
      r.latency_ms, r.response_status, r.error
    FROM jsonb_to_recordset(${rows}::jsonb) AS r(delivery_id uuid, attempt integer, recipient_id uuid, url text,
      request jsonb, started_at timestamptz, latency_ms integer, response_status integer, error text)
    ON CONFLICT DO NOTHING`.execute(tx);
  await sql`
    UPDATE webhook_deliveries d SET
      status = r.status,
      next_attempt_at = r.next_attempt_at,
      last_attempt_at = r.started_at,
      last_status = r.response_status,
      last_error = r.error,
      delivered_at = CASE WHEN r.status = 'delivered' THEN r.started_at ELSE d.delivered_at END,
      disclosed_at = COALESCE(d.disclosed_at, r.disclosed_at)
    FROM jsonb_to_recordset(${rows}::jsonb) AS r(delivery_id uuid, attempt integer, status text,
      next_attempt_at timestamptz, started_at timestamptz, response_status integer, error text,
      disclosed_at timestamptz)
    -- Only the latest claim moves the delivery: an attempt that outlived its lease is logged, nothing more.
    WHERE d.workspace_id = ${workspaceId} AND d.id = r.delivery_id AND d.attempts = r.attempt`.execute(tx);
}

/** Clears an endpoint's failures after a success. */
export async function recordEndpointSuccess(tx: Tx, workspaceId: string, recipientId: string): Promise<void> {
  await tx
    .updateTable('webhook_endpoints')
    .set({ consecutive_failures: 0, failing_since: null })
    .where('workspace_id', '=', workspaceId)
    .where('recipient_id', '=', recipientId)
    .where('consecutive_failures', '>', 0)
    .execute();
}

/** Counts failures of an endpoint; answers its record after them. */
export async function recordEndpointFailures(
  tx: Tx,
  workspaceId: string,
  recipientId: string,
  failures: number,
  now: Date,
): Promise<{ consecutiveFailures: number; failingSince: Date | null } | undefined> {
  const row = await tx
    .updateTable('webhook_endpoints')
    .set((eb) => ({
      consecutive_failures: sql<number>`${eb.ref('consecutive_failures')} + ${failures}`,
      failing_since: sql<Date>`COALESCE(${eb.ref('failing_since')}, ${now}::timestamptz)`,
    }))
    .where('workspace_id', '=', workspaceId)
    .where('recipient_id', '=', recipientId)
    .where('status', '=', 'active')
    .returning(['consecutive_failures', 'failing_since'])
    .executeTakeFirst();
  return (
    row && {
      consecutiveFailures: row.consecutive_failures,
      failingSince: row.failing_since ? new Date(row.failing_since) : null,
    }
  );
}

/** Disables an active endpoint with its notice; false when it was not active (another worker did it). */
export async function disableEndpoint(
  tx: Tx,
  workspaceId: string,
  recipientId: string,
  reason: string,
  now: Date,
): Promise<boolean> {
  const row = await tx
    .updateTable('webhook_endpoints')
    .set({ status: 'disabled', disabled_at: now, disabled_reason: reason })
    .where('workspace_id', '=', workspaceId)
    .where('recipient_id', '=', recipientId)
    .where('status', '=', 'active')
    .returning('recipient_id')
    .executeTakeFirst();
  return row !== undefined;
}

function toAttempt(row: Selectable<WebhookAttemptsTable>): WebhookAttempt {
  return {
    attempt: row.attempt,
    url: row.url,
    request: row.request,
    startedAt: new Date(row.started_at).toISOString(),
    latencyMs: row.latency_ms,
    responseStatus: row.response_status,
    error: row.error,
  };
}

function toDelivery(row: Selectable<WebhookDeliveriesTable>, log: WebhookAttempt[]): WebhookDelivery {
  return {
    id: row.id,
    recipientId: row.recipient_id,
    eventId: row.event_id,
    eventType: row.event_type,
    customerId: row.customer_id,
    purpose: row.purpose,
    status: row.status,
    attempts: row.attempts,
    nextAttemptAt: row.status === 'pending' ? iso(row.next_attempt_at) : null,
    lastStatus: row.last_status,
    lastError: row.last_error,
    deliveredAt: iso(row.delivered_at),
    createdAt: new Date(row.created_at).toISOString(),
    log,
  };
}

/** A page of a recipient's deliveries, newest first, each with its attempts. */
export async function listDeliveries(
  tx: Tx,
  workspaceId: string,
  recipientId: string,
  page: { limit: number; before?: string | undefined; status?: string | undefined },
): Promise<WebhookDelivery[]> {
  let query = tx
    .selectFrom('webhook_deliveries')
    .selectAll()
    .where('workspace_id', '=', workspaceId)
    .where('recipient_id', '=', recipientId);
  if (page.before !== undefined) query = query.where('id', '<', page.before);
  if (page.status !== undefined) query = query.where('status', '=', page.status as 'pending');
  const rows = await query.orderBy('id', 'desc').limit(page.limit).execute();
  if (rows.length === 0) return [];
  const attempts = await tx
    .selectFrom('webhook_attempts')
    .selectAll()
    .where('workspace_id', '=', workspaceId)
    .where(
      'delivery_id',
      'in',
      rows.map((r) => r.id),
    )
    .orderBy('attempt')
    .execute();
  const byDelivery = new Map<string, WebhookAttempt[]>();
  for (const a of attempts) {
    const list = byDelivery.get(a.delivery_id) ?? [];
    list.push(toAttempt(a));
    byDelivery.set(a.delivery_id, list);
  }
  return rows.map((r) => toDelivery(r, byDelivery.get(r.id) ?? []));
}

/** One delivery with its log, or undefined. */
export async function findDelivery(
  tx: Tx,
  workspaceId: string,
  id: string,
): Promise<WebhookDelivery | undefined> {
  const row = await tx
    .selectFrom('webhook_deliveries')
    .selectAll()
    .where('workspace_id', '=', workspaceId)
    .where('id', '=', id)
    .executeTakeFirst();
  if (!row) return undefined;
  const attempts = await tx
    .selectFrom('webhook_attempts')
    .selectAll()
    .where('workspace_id', '=', workspaceId)
    .where('delivery_id', '=', id)
    .orderBy('attempt')
    .execute();
  return toDelivery(row, attempts.map(toAttempt));
}

/** Makes a delivery due now for a new round of attempts. */
export async function scheduleReplay(tx: Tx, workspaceId: string, id: string, now: Date): Promise<void> {
  await tx
    .updateTable('webhook_deliveries')
    .set({ status: 'pending', round_attempts: 0, next_attempt_at: now })
    .where('workspace_id', '=', workspaceId)
    .where('id', '=', id)
    .execute();
}

/** Deletes finished deliveries (and, by cascade, their attempts) created before `before`; counts them. */
export async function deleteFinishedDeliveries(tx: Tx, workspaceId: string, before: Date): Promise<number> {
  const rows = await tx
    .deleteFrom('webhook_deliveries')
    .where('workspace_id', '=', workspaceId)
    .where('status', '<>', 'pending')
    .where('created_at', '<', before)
    .returning('id')
    .execute();
  return rows.length;
}

/** True when the customer exists and meets every condition (SQL over `c`, a customers row). */
export async function customerMatches(
  tx: Tx,
  workspaceId: string,
  customerId: string,
  where: readonly RawBuilder<unknown>[],
): Promise<boolean> {
  const conditions = where.length === 0 ? sql`` : sql`AND ${sql.join(where, sql` AND `)}`;
  const { rows } = await sql`
    SELECT 1 FROM customers c
    WHERE c.workspace_id = ${workspaceId} AND c.id = ${customerId} AND c.merged_into IS NULL ${conditions}`.execute(
    tx,
  );
  return rows.length > 0;
}

/** The states of deliveries by id, for the notices they carry. */
export async function findDeliveryStates(
  tx: Tx,
  workspaceId: string,
  ids: readonly string[],
): Promise<
  Map<
    string,
    {
      status: 'pending' | 'delivered' | 'parked';
      deliveredAt: string | null;
      lastError: string | null;
      lastStatus: number | null;
    }
  >
> {
  if (ids.length === 0) return new Map();
  const rows = await tx
    .selectFrom('webhook_deliveries')
    .select(['id', 'status', 'delivered_at', 'last_error', 'last_status'])
    .where('workspace_id', '=', workspaceId)
    .where('id', 'in', ids)
    .execute();
  return new Map(
    rows.map((r) => [
      r.id,
      {
        status: r.status,
        deliveredAt: iso(r.delivered_at),
        lastError: r.last_error,
        lastStatus: r.last_status,
      },
    ]),
  );
}

/**
 * Parks the pending deliveries about the customers except corrections and privacy notices, with the
 * reason as their last error: queued work stops at once when a customer restricts processing or is
 * erased. Answers how many were parked.
 */
export async function parkPendingDeliveriesOf(
  tx: Tx,
  workspaceId: string,
  customerIds: readonly string[],
  keepTypes: readonly string[],
  reason: string,
  purposes?: readonly string[],
): Promise<number> {
  if (customerIds.length === 0 || purposes?.length === 0) return 0;
  const onlyPurposes =
    purposes === undefined ? sql`` : sql`AND purpose = ANY(${purposes as string[]}::text[])`;
  const result = await sql`
    UPDATE webhook_deliveries SET status = 'parked', last_error = ${reason}
    WHERE workspace_id = ${workspaceId} AND status = 'pending'
      AND customer_id = ANY(${customerIds as string[]}::uuid[]) ${onlyPurposes}
      AND event_type <> ALL(${keepTypes as string[]}::text[]) AND event_type NOT LIKE 'privacy.%'`.execute(
    tx,
  );
  return Number(result.numAffectedRows ?? 0n);
}
