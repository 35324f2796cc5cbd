import { sql } from 'kysely';
import type { Tx } from '../db/index.ts';

/** SQL of the moments domain: its six tables, and the few reads of other tables detection needs. */

const DAY = 86_400_000;

export interface PlaybookRow {
  version: number;
  definition: unknown;
  format: string;
  created_by: string;
  created_at: Date;
}

export async function findActivePlaybook(tx: Tx, workspaceId: string): Promise<PlaybookRow | undefined> {
  return tx
    .selectFrom('moment_playbooks')
    .select(['version', 'definition', 'format', 'created_by', 'created_at'])
    .where('workspace_id', '=', workspaceId)
    .orderBy('version', 'desc')
    .limit(1)
    .executeTakeFirst();
}

export async function findPlaybookVersion(
  tx: Tx,
  workspaceId: string,
  version: number,
): Promise<PlaybookRow | undefined> {
  return tx
    .selectFrom('moment_playbooks')
    .select(['version', 'definition', 'format', 'created_by', 'created_at'])
    .where('workspace_id', '=', workspaceId)
    .where('version', '=', version)
    .executeTakeFirst();
}

export async function listPlaybookVersions(
  tx: Tx,
  workspaceId: string,
): Promise<{ version: number; format: string; created_by: string; created_at: Date }[]> {
  return tx
    .selectFrom('moment_playbooks')
    .select(['version', 'format', 'created_by', 'created_at'])
    .where('workspace_id', '=', workspaceId)
    .orderBy('version', 'desc')
    .execute();
}

export async function insertPlaybook(
  tx: Tx,
  workspaceId: string,
  row: { version: number; definition: unknown; format: string; createdBy: string; now: Date },
): Promise<void> {
  await tx
    .insertInto('moment_playbooks')
    .values({
      workspace_id: workspaceId,
      version: row.version,
      definition: JSON.stringify(row.definition),
      format: row.format,
      created_by: row.createdBy,
      created_at: row.now,
    })
    .execute();
}

/**
 * Stores a moment, or adds the event to the moment of the same customer, type and window: answers the
 * moment's id and whether it is new (a decision is taken only on a new moment).
 */
export async function upsertMoment(
  tx: Tx,
  workspaceId: string,
  m: {
    id: string;
    customerId: string;
    type: string;
    windowKey: string;
    context: Record<string, unknown>;
    eventId: string;
    occurredAt: Date;
    now: Date;
  },
): Promise<{ id: string; created: boolean }> {
  const inserted = await tx
    .insertInto('moments')
    .values({
      workspace_id: workspaceId,
      id: m.id,
      customer_id: m.customerId,
      type: m.type,
      window_key: m.windowKey,
      context: JSON.stringify(m.context),
      source_ids: [m.eventId],
      occurred_at: m.occurredAt,
      created_at: m.now,
    })
    .onConflict((oc) => oc.columns(['workspace_id', 'customer_id', 'type', 'window_key']).doNothing())
    .returning('id')
    .executeTakeFirst();
  if (inserted) return { id: inserted.id, created: true };
  const existing = await sql<{ id: string }>`
    UPDATE moments SET source_ids = CASE WHEN ${m.eventId}::uuid = ANY(source_ids) THEN source_ids
      ELSE array_append(source_ids, ${m.eventId}::uuid) END
    WHERE workspace_id = ${workspaceId} AND customer_id = ${m.customerId} AND type = ${m.type}
      AND window_key = ${m.windowKey}
    RETURNING id`.execute(tx);
  return { id: existing.rows[0]?.id ?? m.id, created: false };
}

export interface LedgerRows {
  moments: { type: string; at: number; event?: string }[];
  actions: { action: string; purpose: string; channel: string; at: number }[];
  feedback: { action: string; outcome: string; at: number }[];
}

/** A customer's recent moments, actions (not cancelled) and feedback: what the contact policy reads. */
export async function loadLedger(
  tx: Tx,
  workspaceId: string,
  customerId: string,
  now: Date,
  days = 400,
): Promise<LedgerRows> {
  const since = new Date(now.getTime() - days * DAY);
  const [moments, actions, feedback] = await Promise.all([
    tx
      .selectFrom('moments')
      .select(['type', 'occurred_at', 'context'])
      .where('workspace_id', '=', workspaceId)
      .where('customer_id', '=', customerId)
      .where('occurred_at', '>=', since)
      .orderBy('occurred_at', 'desc')
      .limit(200)
      .execute(),
    tx
      .selectFrom('moment_actions')
      .select(['action', 'purpose', 'channel', 'created_at'])
      .where('workspace_id', '=', workspaceId)
      .where('customer_id', '=', customerId)
      .where('created_at', '>=', since)
      .where('status', '<>', 'cancelled')
      .orderBy('created_at', 'desc')
      .limit(500)
      .execute(),
    tx
      .selectFrom('moment_feedback')
      .select(['action', 'outcome', 'created_at'])
      .where('workspace_id', '=', workspaceId)
      .where('customer_id', '=', customerId)
      .where('created_at', '>=', since)
      .limit(500)
      .execute(),
  ]);
  return {
    moments: moments.map((m) => {
      const event = (m.context as Record<string, unknown>).event;
      return { type: m.type, at: m.occurred_at.getTime(), ...(typeof event === 'string' ? { event } : {}) };
    }),
    actions: actions.map((a) => ({
      action: a.action,
      purpose: a.purpose,
      channel: a.channel,
      at: a.created_at.getTime(),
    })),
    feedback: feedback.map((f) => ({ action: f.action, outcome: f.outcome, at: f.created_at.getTime() })),
  };
}

export async function loadPropensities(
  tx: Tx,
  workspaceId: string,
): Promise<Map<string, { successes: number; failures: number }>> {
  const rows = await tx
    .selectFrom('moment_propensities')
    .select(['action', 'successes', 'failures'])
    .where('workspace_id', '=', workspaceId)
    .execute();
  return new Map(rows.map((r) => [r.action, { successes: r.successes, failures: r.failures }]));
}

export async function bumpPropensity(
  tx: Tx,
  workspaceId: string,
  action: string,
  success: boolean,
  now: Date,
): Promise<void> {
  await sql`
    INSERT INTO moment_propensities (workspace_id, action, successes, failures, updated_at)
    VALUES (${workspaceId}, ${action}, ${success ? 1 : 0}, ${success ? 0 : 1}, ${now})
    ON CONFLICT (workspace_id, action) DO UPDATE SET
      successes = moment_propensities.successes + EXCLUDED.successes,
      failures = moment_propensities.failures + EXCLUDED.failures,
      updated_at = EXCLUDED.updated_at`.execute(tx);
}

export async function insertDecision(
  tx: Tx,
  workspaceId: string,
  d: {
    id: string;
    momentId: string;
    customerId: string;
    playbookVersion: number;
    outcome: string;
    trace: unknown;
    now: Date;
  },
): Promise<void> {
  await tx
    .insertInto('moment_decisions')
    .values({
      workspace_id: workspaceId,
      id: d.id,
      moment_id: d.momentId,
      customer_id: d.customerId,
      playbook_version: d.playbookVersion,
      outcome: d.outcome,
      trace: JSON.stringify(d.trace),
      created_at: d.now,
    })
    .execute();
}

export interface NewActionRow {
  id: string;
  decisionId: string;
  customerId: string;
  action: string;
  purpose: string;
  dataPurpose: string;
  channel: string;
  delivery: string;
  dueAt: Date;
  script: string | null;
  explanation: string;
}

export async function insertActions(
  tx: Tx,
  workspaceId: string,
  rows: readonly NewActionRow[],
  now: Date,
): Promise<void> {
  if (rows.length === 0) return;
  await tx
    .insertInto('moment_actions')
    .values(
      rows.map((r) => ({
        workspace_id: workspaceId,
        id: r.id,
        decision_id: r.decisionId,
        customer_id: r.customerId,
        action: r.action,
        purpose: r.purpose,
        data_purpose: r.dataPurpose,
        channel: r.channel,
        delivery: r.delivery,
        status: 'queued',
        owner: null,
        due_at: r.dueAt,
        script: r.script,
        explanation: r.explanation,
        outcome: null,
        cancelled_reason: null,
        created_at: now,
        updated_at: now,
      })),
    )
    .execute();
}

export interface ActionRow {
  id: string;
  decision_id: string;
  customer_id: string;
  action: string;
  purpose: string;
  data_purpose: string;
  channel: string;
  delivery: string;
  status: string;
  owner: string | null;
  due_at: Date;
  script: string | null;
  explanation: string;
  outcome: string | null;
  cancelled_reason: string | null;
  created_at: Date;
  updated_at: Date;
}

const ACTION_COLUMNS = [
  'id',
  'decision_id',
  'customer_id',
  'action',
  'purpose',
  'data_purpose',
  'channel',
  'delivery',
  'status',
  'owner',
  'due_at',
  'script',
  'explanation',
  'outcome',
  'cancelled_reason',
  'created_at',
  'updated_at',
] as const;

export async function listActions(
  tx: Tx,
  workspaceId: string,
  filter: {
    customerId?: string;
    statuses?: readonly string[];
    deliveries?: readonly string[];
    owner?: string;
    dueBefore?: Date;
    limit: number;
  },
): Promise<ActionRow[]> {
  let q = tx.selectFrom('moment_actions').select(ACTION_COLUMNS).where('workspace_id', '=', workspaceId);
  if (filter.customerId !== undefined) q = q.where('customer_id', '=', filter.customerId);
  if (filter.statuses && filter.statuses.length > 0) q = q.where('status', 'in', [...filter.statuses]);
  if (filter.deliveries && filter.deliveries.length > 0)
    q = q.where('delivery', 'in', [...filter.deliveries]);
  if (filter.owner !== undefined) q = q.where('owner', '=', filter.owner);
  if (filter.dueBefore !== undefined) q = q.where('due_at', '<=', filter.dueBefore);
  return q.orderBy('due_at', 'asc').orderBy('id', 'asc').limit(filter.limit).execute();
}

export async function findAction(tx: Tx, workspaceId: string, id: string): Promise<ActionRow | undefined> {
  return tx
    .selectFrom('moment_actions')
    .select(ACTION_COLUMNS)
    .where('workspace_id', '=', workspaceId)
    .where('id', '=', id)
    .forUpdate()
    .executeTakeFirst();
}

export async function updateAction(
  tx: Tx,
  workspaceId: string,
  id: string,
  change: { status?: string; owner?: string | null; outcome?: string | null; cancelledReason?: string },
  now: Date,
): Promise<void> {
  await tx
    .updateTable('moment_actions')
    .set({
      ...(change.status !== undefined ? { status: change.status } : {}),
      ...(change.owner !== undefined ? { owner: change.owner } : {}),
      ...(change.outcome !== undefined ? { outcome: change.outcome } : {}),
      ...(change.cancelledReason !== undefined ? { cancelled_reason: change.cancelledReason } : {}),
      updated_at: now,
    })
    .where('workspace_id', '=', workspaceId)
    .where('id', '=', id)
    .execute();
}

/** Cancels a customer's queued and claimed actions whose data purpose is among `purposes`. */
export async function cancelOpenActions(
  tx: Tx,
  workspaceId: string,
  customerId: string,
  purposes: readonly string[] | null,
  reason: string,
  now: Date,
): Promise<string[]> {
  let q = tx
    .updateTable('moment_actions')
    .set({ status: 'cancelled', cancelled_reason: reason, updated_at: now })
    .where('workspace_id', '=', workspaceId)
    .where('customer_id', '=', customerId)
    .where('status', 'in', ['queued', 'claimed']);
  if (purposes !== null) q = q.where('data_purpose', 'in', [...purposes]);
  const rows = await q.returning('id').execute();
  return rows.map((r) => r.id);
}

export async function insertFeedback(
  tx: Tx,
  workspaceId: string,
  f: {
    id: string;
    actionId: string;
    customerId: string;
    action: string;
    outcome: string;
    source: string;
    now: Date;
  },
): Promise<boolean> {
  const row = await tx
    .insertInto('moment_feedback')
    .values({
      workspace_id: workspaceId,
      id: f.id,
      action_id: f.actionId,
      customer_id: f.customerId,
      action: f.action,
      outcome: f.outcome,
      source: f.source,
      created_at: f.now,
    })
    .onConflict((oc) => oc.columns(['workspace_id', 'action_id', 'outcome']).doNothing())
    .returning('id')
    .executeTakeFirst();
  return row !== undefined;
}

export interface DecisionRow {
  id: string;
  moment_id: string;
  customer_id: string;
  playbook_version: number;
  outcome: string;
  trace: unknown;
  created_at: Date;
}

export async function listDecisions(
  tx: Tx,
  workspaceId: string,
  customerId: string,
  limit: number,
): Promise<DecisionRow[]> {
  return tx
    .selectFrom('moment_decisions')
    .select(['id', 'moment_id', 'customer_id', 'playbook_version', 'outcome', 'trace', 'created_at'])
    .where('workspace_id', '=', workspaceId)
    .where('customer_id', '=', customerId)
    .orderBy('id', 'desc')
    .limit(limit)
    .execute();
}

export async function findDecision(
  tx: Tx,
  workspaceId: string,
  id: string,
): Promise<DecisionRow | undefined> {
  return tx
    .selectFrom('moment_decisions')
    .select(['id', 'moment_id', 'customer_id', 'playbook_version', 'outcome', 'trace', 'created_at'])
    .where('workspace_id', '=', workspaceId)
    .where('id', '=', id)
    .executeTakeFirst();
}

/** The columns detection reads of an interaction: the few properties a moment looks at, not all. */
const DETECTION_COLUMNS = sql`id, customer_id, type, channel, occurred_at, properties->>'event' AS event,
  properties->>'subject' AS subject, properties->>'severity' AS severity, properties->>'reason' AS reason`;

interface DetectionRow {
  id: string;
  customer_id: string;
  type: string;
  channel: string;
  occurred_at: Date;
  event: string | null;
  subject: string | null;
  severity: string | null;
  reason: string | null;
}

function detectionInteraction(r: DetectionRow) {
  const properties: Record<string, unknown> = {};
  for (const key of ['event', 'subject', 'severity', 'reason'] as const)
    if (r[key] !== null) properties[key] = r[key];
  return {
    id: r.id,
    customer_id: r.customer_id,
    type: r.type,
    channel: r.channel,
    occurred_at: new Date(r.occurred_at),
    properties,
  };
}

/** The interaction an event names, as detection reads it (type, channel, time, a few properties). */
export async function findInteractionForDetection(
  tx: Tx,
  workspaceId: string,
  interactionId: string,
): Promise<
  | {
      id: string;
      customer_id: string;
      type: string;
      channel: string;
      occurred_at: Date;
      properties: Record<string, unknown>;
    }
  | undefined
> {
  const row = await sql<DetectionRow>`
    SELECT ${DETECTION_COLUMNS} FROM interactions WHERE workspace_id = ${workspaceId} AND id = ${interactionId}`.execute(
    tx,
  );
  const r = row.rows[0];
  return r === undefined ? undefined : detectionInteraction(r);
}

/** Purchases up to `at` and complaints within `windowDays` before it, for one customer. */
export async function countForDetection(
  tx: Tx,
  workspaceId: string,
  customerId: string,
  at: Date,
  windowDays: number,
): Promise<{ purchases: number; complaints: number }> {
  const since = new Date(at.getTime() - windowDays * DAY);
  const { rows } = await sql<{ purchases: string; complaints: string }>`
    SELECT count(*) FILTER (WHERE type = 'purchase' AND occurred_at <= ${at}) AS purchases,
      count(*) FILTER (WHERE type = 'complaint' AND occurred_at > ${since} AND occurred_at <= ${at}) AS complaints
    FROM interactions WHERE workspace_id = ${workspaceId} AND customer_id = ${customerId}
      AND type IN ('purchase', 'complaint')`.execute(tx);
  return { purchases: Number(rows[0]?.purchases ?? 0), complaints: Number(rows[0]?.complaints ?? 0) };
}

/** A customer's value profile fields a rule may read. */
export async function findValue(
  tx: Tx,
  workspaceId: string,
  customerId: string,
): Promise<Record<string, number | string | null>> {
  const { rows } = await sql<{
    clv: number | null;
    p_alive: number | null;
    total_spend: string | number | null;
    purchases: number | null;
    rfm_segment: string | null;
  }>`
    SELECT clv, p_alive, total_spend, purchases, rfm_segment FROM value_profiles
    WHERE workspace_id = ${workspaceId} AND customer_id = ${customerId}`.execute(tx);
  const r = rows[0];
  if (r === undefined) return {};
  return {
    clv: r.clv === null ? null : Number(r.clv),
    pAlive: r.p_alive === null ? null : Number(r.p_alive),
    spend: r.total_spend === null ? null : Number(r.total_spend),
    purchases: r.purchases,
    rfmSegment: r.rfm_segment,
  };
}

/** The names of the segments a customer belongs to. */
export async function findSegmentNames(
  tx: Tx,
  workspaceId: string,
  customerId: string,
): Promise<Set<string>> {
  const { rows } = await sql<{ name: string }>`
    SELECT s.name FROM segment_members m
    JOIN segments s ON s.workspace_id = m.workspace_id AND s.id = m.segment_id
    WHERE m.workspace_id = ${workspaceId} AND m.customer_id = ${customerId}`.execute(tx);
  return new Set(rows.map((r) => r.name));
}

/** Purchase rhythms of customers with enough purchases, for lapse detection (with P(alive) when fitted). */
export async function listRhythms(
  tx: Tx,
  workspaceId: string,
  minPurchases: number,
): Promise<
  {
    customerId: string;
    purchases: number;
    firstAt: number;
    lastAt: number;
    pAlive: number | null;
    clv: number | null;
  }[]
> {
  const { rows } = await sql<{
    customer_id: string;
    purchases: string;
    first_at: Date;
    last_at: Date;
    p_alive: number | null;
    clv: number | null;
  }>`
    SELECT i.customer_id, count(*) AS purchases, min(i.occurred_at) AS first_at, max(i.occurred_at) AS last_at,
      max(v.p_alive) AS p_alive, max(v.clv) AS clv
    FROM interactions i
    LEFT JOIN value_profiles v ON v.workspace_id = i.workspace_id AND v.customer_id = i.customer_id
    WHERE i.workspace_id = ${workspaceId} AND i.type = 'purchase'
    GROUP BY i.customer_id HAVING count(*) >= ${minPurchases}`.execute(tx);
  return rows.map((r) => ({
    customerId: r.customer_id,
    purchases: Number(r.purchases),
    firstAt: new Date(r.first_at).getTime(),
    lastAt: new Date(r.last_at).getTime(),
    pAlive: r.p_alive === null ? null : Number(r.p_alive),
    clv: r.clv === null ? null : Number(r.clv),
  }));
}

/** Dates customers gave and asked us to remember (active, declared, `remember`). */
export async function listRememberedDates(
  tx: Tx,
  workspaceId: string,
): Promise<{ customerId: string; factId: string; value: unknown }[]> {
  const { rows } = await sql<{ customer_id: string; fact_id: string; value: unknown }>`
    SELECT customer_id, fact_id, value FROM facts
    WHERE workspace_id = ${workspaceId} AND key = 'important_date' AND remember AND source_kind = 'declared'
      AND status IN ('active', 'confirmed') AND superseded_at IS NULL`.execute(tx);
  return rows.map((r) => ({ customerId: r.customer_id, factId: r.fact_id, value: r.value }));
}

/** Historical interactions in a period, in time order, a page after a position (for the backtest). */
export async function pageInteractions(
  tx: Tx,
  workspaceId: string,
  from: Date,
  to: Date,
  after: { at: Date; id: string } | null,
  limit: number,
): Promise<
  {
    id: string;
    customer_id: string;
    type: string;
    channel: string;
    occurred_at: Date;
    properties: Record<string, unknown>;
  }[]
> {
  const { rows } = await sql<DetectionRow>`
    SELECT ${DETECTION_COLUMNS} FROM interactions
    WHERE workspace_id = ${workspaceId} AND occurred_at >= ${from} AND occurred_at < ${to}
      ${after === null ? sql`` : sql`AND (occurred_at, id) > (${after.at}, ${after.id}::uuid)`}
    ORDER BY occurred_at, id LIMIT ${limit}`.execute(tx);
  return rows.map(detectionInteraction);
}

/**
 * Deletes everything the moments engine holds on the customers (erasure): their moments, decisions with
 * their traces, actions and tasks, and feedback. Answers the rows deleted.
 */
export async function eraseMomentsOfCustomers(
  tx: Tx,
  workspaceId: string,
  customerIds: readonly string[],
): Promise<number> {
  if (customerIds.length === 0) return 0;
  let deleted = 0;
  for (const table of ['moment_feedback', 'moment_actions', 'moment_decisions', 'moments'] as const) {
    const result = await tx
      .deleteFrom(table)
      .where('workspace_id', '=', workspaceId)
      .where('customer_id', 'in', [...customerIds])
      .executeTakeFirst();
    deleted += Number(result.numDeletedRows);
  }
  return deleted;
}
