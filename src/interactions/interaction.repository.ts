import { type Selectable, sql } from 'kysely';
import type { Tx } from '../db/index.ts';
import type { InteractionsTable } from '../db/schema.ts';
import type {
  InitiatedBy,
  Interaction,
  InteractionInput,
  LineItem,
  TimelineOrder,
  TimelinePosition,
} from './interaction.ts';

/**
 * All SQL of interactions. Reads name the transaction's workspace (`cornerstore_workspace()`) so the
 * planner uses the indexes that lead with `workspace_id`; row-level security enforces the same anyway.
 */

/** A validated interaction with its new id and resolved customer, ready to insert. */
export interface NewInteractionRow {
  id: string;
  customerId: string;
  input: InteractionInput;
}

/** An existing interaction's identity: what a duplicate answers with. */
export interface StoredKey {
  id: string;
  customerId: string;
  source: string;
  externalId: string;
}

const COLUMNS = [
  'id',
  'customer_id',
  'type',
  'channel',
  'initiated_by',
  'occurred_at',
  'source',
  'external_id',
  'amount',
  'currency',
  'sentiment',
  'text',
  'line_items',
  'properties',
  'declared_for',
  'received_at',
] as const;

type Row = Pick<Selectable<InteractionsTable>, (typeof COLUMNS)[number]>;

function toInteraction(row: Row): Interaction {
  return {
    id: row.id,
    customerId: row.customer_id,
    type: row.type,
    channel: row.channel,
    initiatedBy: row.initiated_by as InitiatedBy,
    occurredAt: row.occurred_at.toISOString(),
    source: row.source,
    externalId: row.external_id,
    amount: row.amount,
    currency: row.currency,
    sentiment: row.sentiment,
    text: row.text,
    lineItems: (row.line_items as LineItem[] | null) ?? null,
    properties: row.properties,
    declaredFor: row.declared_for ?? null,
    receivedAt: row.received_at.toISOString(),
  };
}

/**
 * Inserts many interactions in one statement whatever their number: one array parameter per column,
 * expanded by `unnest`, so the statement stays far below the 65,535-parameter limit. A row whose
 * `(source, external_id)` already exists is skipped. Returns the ids actually inserted.
 */
export async function insertInteractions(
  tx: Tx,
  workspaceId: string,
  rows: readonly NewInteractionRow[],
): Promise<Set<string>> {
  if (rows.length === 0) return new Set();
  const n = rows.length;
  const ids = new Array<string>(n);
  const customerIds = new Array<string>(n);
  const types = new Array<string>(n);
  const channels = new Array<string>(n);
  const initiatedBy = new Array<string>(n);
  const occurredAt = new Array<string>(n);
  const sources = new Array<string>(n);
  const externalIds = new Array<string>(n);
  const amounts = new Array<number | null>(n);
  const currencies = new Array<string | null>(n);
  const sentiments = new Array<number | null>(n);
  const texts = new Array<string | null>(n);
  const lineItems = new Array<string | null>(n);
  const properties = new Array<string>(n);
  const declaredFor = new Array<string | null>(n);
  for (let i = 0; i < n; i++) {
    const { id, customerId, input } = rows[i] as NewInteractionRow;
    ids[i] = id;
    customerIds[i] = customerId;
    types[i] = input.type;
    channels[i] = input.channel;
    initiatedBy[i] = input.initiatedBy;
    occurredAt[i] = input.occurredAt;
    sources[i] = input.source;
    externalIds[i] = input.externalId;
    amounts[i] = input.amount;
    currencies[i] = input.currency;
    sentiments[i] = input.sentiment;
    texts[i] = input.text;
    lineItems[i] = input.lineItems === null ? null : JSON.stringify(input.lineItems);
    properties[i] = JSON.stringify(input.properties);
    declaredFor[i] = input.declaredFor === null ? null : JSON.stringify(input.declaredFor);
  }
  const result = await sql<{ id: string }>`
    INSERT INTO interactions (
      workspace_id, id, customer_id, type, channel, initiated_by, occurred_at, source, external_id,
      amount, currency, sentiment, text, line_items, properties, declared_for
    )
    SELECT ${workspaceId}::uuid, t.*
    FROM unnest(
      ${ids}::uuid[], ${customerIds}::uuid[], ${types}::text[], ${channels}::text[], ${initiatedBy}::text[],
      ${occurredAt}::timestamptz[], ${sources}::text[], ${externalIds}::text[], ${amounts}::numeric[],
      ${currencies}::text[], ${sentiments}::real[], ${texts}::text[], ${lineItems}::jsonb[], ${properties}::jsonb[],
      ${declaredFor}::jsonb[]
    ) AS t
    ON CONFLICT (workspace_id, source, external_id) DO NOTHING
    RETURNING id`.execute(tx);
  return new Set(result.rows.map((r) => r.id));
}

/** The stored interactions with these `(source, external id)` keys (those that exist). */
export async function findByKeys(
  tx: Tx,
  workspaceId: string,
  keys: readonly { source: string; externalId: string }[],
): Promise<StoredKey[]> {
  if (keys.length === 0) return [];
  const result = await sql<{ id: string; customer_id: string; source: string; external_id: string }>`
    SELECT i.id, i.customer_id, i.source, i.external_id
    FROM interactions i
    JOIN unnest(${keys.map((k) => k.source)}::text[], ${keys.map((k) => k.externalId)}::text[]) AS k (source, external_id)
      ON i.source = k.source AND i.external_id = k.external_id
    WHERE i.workspace_id = ${workspaceId}::uuid`.execute(tx);
  return result.rows.map((r) => ({
    id: r.id,
    customerId: r.customer_id,
    source: r.source,
    externalId: r.external_id,
  }));
}

/** One interaction of the transaction's workspace, or undefined. */
export async function findInteraction(tx: Tx, id: string): Promise<Interaction | undefined> {
  const row = await tx
    .selectFrom('interactions')
    .select(COLUMNS)
    .where('workspace_id', '=', sql<string>`cornerstore_workspace()`)
    .where('id', '=', id)
    .executeTakeFirst();
  return row && toInteraction(row);
}

export interface TimelineQuery {
  customerId: string;
  /** Rows to read (the caller asks one more than it shows, to know whether a next page exists). */
  limit: number;
  order: TimelineOrder;
  after: TimelinePosition | undefined;
  types: readonly string[] | undefined;
  channels: readonly string[] | undefined;
  from: string | undefined;
  to: string | undefined;
}

/** Text of `occurred_at` the database reads back to the same microsecond: the cursor's key. */
const POSITION = sql<string>`to_char(occurred_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`;

/**
 * One page of a customer's timeline, ordered by `(occurred_at, id)`, continuing after a position:
 * a keyset scan of the index `interactions_timeline`, however deep the page.
 */
export async function listTimeline(
  tx: Tx,
  query: TimelineQuery,
): Promise<{ interaction: Interaction; position: string }[]> {
  const direction = query.order === 'desc' ? sql`DESC` : sql`ASC`;
  let select = tx
    .selectFrom('interactions')
    .select(COLUMNS)
    .select(POSITION.as('position'))
    .where('workspace_id', '=', sql<string>`cornerstore_workspace()`)
    .where('customer_id', '=', query.customerId);
  if (query.after) {
    const comparison = query.order === 'desc' ? sql`<` : sql`>`;
    select = select.where(
      sql<boolean>`(occurred_at, id) ${comparison} (${query.after.occurredAt}::timestamptz, ${query.after.id}::uuid)`,
    );
  }
  if (query.types && query.types.length > 0)
    select = select.where('type', '=', sql<string>`ANY(${query.types}::text[])`);
  if (query.channels && query.channels.length > 0) {
    select = select.where('channel', '=', sql<string>`ANY(${query.channels}::text[])`);
  }
  if (query.from !== undefined)
    select = select.where('occurred_at', '>=', sql<Date>`${query.from}::timestamptz`);
  if (query.to !== undefined) select = select.where('occurred_at', '<', sql<Date>`${query.to}::timestamptz`);
  const rows = await select
    .orderBy(sql`occurred_at ${direction}`)
    .orderBy(sql`id ${direction}`)
    .limit(query.limit)
    .execute();
  return rows.map(({ position, ...row }) => ({ interaction: toInteraction(row), position }));
}

/** Interactions of the transaction's workspace in id order, after `afterId`: the export's scan. */
export async function listByIdAfter(tx: Tx, afterId: string | null, limit: number): Promise<Interaction[]> {
  let select = tx
    .selectFrom('interactions')
    .select(COLUMNS)
    .where('workspace_id', '=', sql<string>`cornerstore_workspace()`);
  if (afterId !== null) select = select.where('id', '>', afterId);
  const rows = await select.orderBy('id').limit(limit).execute();
  return rows.map(toInteraction);
}

/** The workspace the transaction is confined to. */
export async function currentWorkspaceId(tx: Tx): Promise<string | null> {
  const result = await sql<{ id: string | null }>`SELECT cornerstore_workspace() AS id`.execute(tx);
  return result.rows[0]?.id ?? null;
}
