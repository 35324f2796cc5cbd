import { type RawBuilder, sql } from 'kysely';
import type { Tx } from '../db/index.ts';

/** All SQL of segments: rows, live counts and pages over `customers c`, explanations, materialisation. */

/** A segment row as stored. */
export interface SegmentRow {
  id: string;
  name: string;
  description: string | null;
  definition: unknown;
  purpose: string;
  dynamic: boolean;
  created_by: string;
  created_at: Date;
  refreshed_at: Date | null;
}

/** A compiled filter with the extra conditions of the read (the subject condition). */
export interface MatchQuery {
  condition: RawBuilder<boolean>;
  /** Join the value profile as `vp`. */
  withValue: boolean;
  /** Further conditions on `c`, all of which must hold. */
  where: readonly RawBuilder<unknown>[];
}

const COLUMNS = [
  'id',
  'name',
  'description',
  'definition',
  'purpose',
  'dynamic',
  'created_by',
  'created_at',
  'refreshed_at',
] as const;

export async function insertSegment(
  tx: Tx,
  workspaceId: string,
  row: Omit<SegmentRow, 'created_at' | 'refreshed_at'>,
): Promise<SegmentRow> {
  return tx
    .insertInto('segments')
    .values({
      workspace_id: workspaceId,
      id: row.id,
      name: row.name,
      description: row.description,
      definition: JSON.stringify(row.definition),
      purpose: row.purpose,
      dynamic: row.dynamic,
      created_by: row.created_by,
    })
    .returning(COLUMNS)
    .executeTakeFirstOrThrow();
}

export async function findSegmentRow(
  tx: Tx,
  workspaceId: string,
  id: string,
): Promise<SegmentRow | undefined> {
  return tx
    .selectFrom('segments')
    .select(COLUMNS)
    .where('workspace_id', '=', workspaceId)
    .where('id', '=', id)
    .executeTakeFirst();
}

export async function findSegmentRowByName(
  tx: Tx,
  workspaceId: string,
  name: string,
): Promise<SegmentRow | undefined> {
  return tx
    .selectFrom('segments')
    .select(COLUMNS)
    .where('workspace_id', '=', workspaceId)
    .where('name', '=', name)
    .executeTakeFirst();
}

export async function listSegmentRows(
  tx: Tx,
  workspaceId: string,
  options: { dynamicOnly?: boolean } = {},
): Promise<SegmentRow[]> {
  let query = tx.selectFrom('segments').select(COLUMNS).where('workspace_id', '=', workspaceId);
  if (options.dynamicOnly) query = query.where('dynamic', '=', true);
  return query.orderBy('name').execute();
}

export async function deleteSegmentRow(tx: Tx, workspaceId: string, id: string): Promise<boolean> {
  const result = await tx
    .deleteFrom('segments')
    .where('workspace_id', '=', workspaceId)
    .where('id', '=', id)
    .executeTakeFirst();
  return Number(result.numDeletedRows) > 0;
}

function fromCustomers(withValue: boolean): RawBuilder<unknown> {
  return withValue
    ? sql`customers c LEFT JOIN value_profiles vp ON vp.workspace_id = c.workspace_id AND vp.customer_id = c.id`
    : sql`customers c`;
}

function customersWhere(workspaceId: string, where: readonly RawBuilder<unknown>[]): RawBuilder<unknown> {
  return sql.join([sql`c.workspace_id = ${workspaceId}`, sql`c.merged_into IS NULL`, ...where], sql` AND `);
}

/** How many customers match. */
export async function countMatching(tx: Tx, workspaceId: string, query: MatchQuery): Promise<number> {
  const result = await sql<{ n: number }>`
    SELECT count(*) AS n FROM ${fromCustomers(query.withValue)}
    WHERE ${customersWhere(workspaceId, query.where)} AND ${query.condition}`.execute(tx);
  return Number(result.rows[0]?.n ?? 0);
}

/** A matching customer of a page, with what a member list may show. */
export interface MemberRow {
  id: string;
  since: Date | null;
  rfm_segment: string | null;
  clv: number | null;
  p_alive: number | null;
  purchases: number | null;
  total_spend: number | null;
}

/** A page of matching customers in id order, after `after`. */
export async function listMatching(
  tx: Tx,
  workspaceId: string,
  query: MatchQuery,
  page: { segmentId: string | null; after: string | null; limit: number },
): Promise<MemberRow[]> {
  const since =
    page.segmentId === null
      ? sql`NULL::timestamptz`
      : sql`(SELECT sm.since FROM segment_members sm
             WHERE sm.workspace_id = c.workspace_id AND sm.segment_id = ${page.segmentId} AND sm.customer_id = c.id)`;
  const after = page.after === null ? [] : [sql`c.id > ${page.after}::uuid`];
  const result = await sql<MemberRow>`
    SELECT c.id, ${since} AS since, vp.rfm_segment, vp.clv, vp.p_alive, vp.purchases, vp.total_spend
    FROM ${fromCustomers(true)}
    WHERE ${customersWhere(workspaceId, [...query.where, ...after])} AND ${query.condition}
    ORDER BY c.id
    LIMIT ${page.limit}`.execute(tx);
  return result.rows;
}

/** The truth and value of each condition for one customer, or undefined when the customer is not visible. */
export async function explainFor(
  tx: Tx,
  workspaceId: string,
  customerId: string,
  where: readonly RawBuilder<unknown>[],
  columns: readonly { holds: RawBuilder<unknown>; value: RawBuilder<unknown> }[],
): Promise<{ intimacyLevel: number; holds: (boolean | null)[]; values: unknown[] } | undefined> {
  const selected = columns.flatMap((column, i) => [
    sql`${column.holds} AS ${sql.id(`h${i}`)}`,
    sql`${column.value} AS ${sql.id(`v${i}`)}`,
  ]);
  const result = await sql<Record<string, unknown>>`
    SELECT c.id, c.intimacy_level${selected.length > 0 ? sql`, ${sql.join(selected)}` : sql``}
    FROM ${fromCustomers(true)}
    WHERE ${customersWhere(workspaceId, [...where, sql`c.id = ${customerId}::uuid`])}`.execute(tx);
  const row = result.rows[0];
  if (!row) return undefined;
  return {
    intimacyLevel: Number(row.intimacy_level),
    holds: columns.map((_, i) => (row[`h${i}`] ?? null) as boolean | null),
    values: columns.map((_, i) => row[`v${i}`] ?? null),
  };
}

/**
 * Makes the materialised membership equal to the filter: members that no longer match leave, new ones
 * enter with `since = now`; with `customerIds`, only those customers are re-evaluated. One statement.
 */
export async function refreshMembership(
  tx: Tx,
  workspaceId: string,
  segmentId: string,
  query: MatchQuery,
  now: Date,
  customerIds?: readonly string[],
): Promise<{ entered: number; left: number }> {
  const only = customerIds === undefined ? [] : [sql`c.id = ANY(${customerIds as string[]}::uuid[])`];
  const onlyMembers =
    customerIds === undefined ? sql`` : sql`AND sm.customer_id = ANY(${customerIds as string[]}::uuid[])`;
  const result = await sql<{ entered: number; left: number }>`
    WITH matching AS (
      SELECT c.id FROM ${fromCustomers(query.withValue)}
      WHERE ${customersWhere(workspaceId, [...query.where, ...only])} AND ${query.condition}
    ), gone AS (
      DELETE FROM segment_members sm
      WHERE sm.workspace_id = ${workspaceId} AND sm.segment_id = ${segmentId} ${onlyMembers}
        AND NOT EXISTS (SELECT 1 FROM matching m WHERE m.id = sm.customer_id)
      RETURNING 1
    ), added AS (
      INSERT INTO segment_members (workspace_id, segment_id, customer_id, since)
      SELECT ${workspaceId}::uuid, ${segmentId}::uuid, m.id, ${now.toISOString()}::timestamptz FROM matching m
      ON CONFLICT (workspace_id, segment_id, customer_id) DO NOTHING
      RETURNING 1
    )
    SELECT (SELECT count(*) FROM added)::int AS entered, (SELECT count(*) FROM gone)::int AS left`.execute(
    tx,
  );
  if (customerIds === undefined) {
    await tx
      .updateTable('segments')
      .set({ refreshed_at: now })
      .where('workspace_id', '=', workspaceId)
      .where('id', '=', segmentId)
      .execute();
  }
  const row = result.rows[0];
  return { entered: Number(row?.entered ?? 0), left: Number(row?.left ?? 0) };
}

/** The materialised members of a segment among the given customers (all when undefined). */
export async function listMaterialisedMembers(
  tx: Tx,
  workspaceId: string,
  segmentId: string,
  customerIds?: readonly string[],
): Promise<string[]> {
  let query = tx
    .selectFrom('segment_members')
    .select('customer_id')
    .where('workspace_id', '=', workspaceId)
    .where('segment_id', '=', segmentId);
  if (customerIds !== undefined) {
    query = query.where(sql<boolean>`customer_id = ANY(${customerIds as string[]}::uuid[])`);
  }
  const rows = await query.orderBy('customer_id').execute();
  return rows.map((r) => r.customer_id);
}

/** The segments of a purpose that hold a customer in their materialised membership, by name. */
export async function listSegmentsOfCustomer(
  tx: Tx,
  workspaceId: string,
  customerId: string,
  purpose: string,
): Promise<{ id: string; name: string; since: string }[]> {
  const rows = await tx
    .selectFrom('segment_members as m')
    .innerJoin('segments as s', (join) =>
      join.onRef('s.workspace_id', '=', 'm.workspace_id').onRef('s.id', '=', 'm.segment_id'),
    )
    .select(['s.id', 's.name', 'm.since'])
    .where('m.workspace_id', '=', workspaceId)
    .where('m.customer_id', '=', customerId)
    .where('s.purpose', '=', purpose)
    .orderBy('s.name')
    .orderBy('s.id')
    .execute();
  return rows.map((r) => ({ id: r.id, name: r.name, since: new Date(r.since).toISOString() }));
}
