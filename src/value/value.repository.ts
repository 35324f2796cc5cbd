import { type RawBuilder, sql } from 'kysely';
import type { Tx } from '../db/index.ts';
import type { PurchaseAggregate, StoredValueModel, ValueProfile } from './profile.ts';

/** All SQL of value profiles and models. */

interface AggregateRow {
  customer_id: string;
  purchase_days: number;
  first_day: number;
  last_day: number;
  total: number;
  first_day_total: number;
  returned: number;
  returned_later: number;
  first_purchase_at: Date;
  last_purchase_at: Date;
}

/**
 * Purchases per customer per day (UTC), then per customer, with the returns that reduce spend; only
 * interactions up to `end`. One statement and one pass over the rows, without a join: a plan that
 * joins the per-day rows back to the per-customer ones collapses into nested loops over millions of
 * row pairs when the planner believes the tables empty (statistics not refreshed after a bulk load),
 * while sorting and aggregating costs the same whatever the statistics say. With `customerIds`, only
 * theirs (the timeline index).
 */
export async function aggregatePurchases(
  tx: Tx,
  workspaceId: string,
  options: { end: Date; customerIds?: readonly string[] },
): Promise<PurchaseAggregate[]> {
  const result = await aggregatePurchasesQuery(workspaceId, options).execute(tx);
  return result.rows.map((r) => ({
    customerId: r.customer_id,
    purchaseDays: r.purchase_days,
    firstDay: r.first_day,
    lastDay: r.last_day,
    total: r.total,
    firstDayTotal: r.first_day_total,
    returned: r.returned,
    returnedLater: r.returned_later,
    firstPurchaseAt: new Date(r.first_purchase_at),
    lastPurchaseAt: new Date(r.last_purchase_at),
  }));
}

/** The statement of `aggregatePurchases`, for its test to read the plan of. */
export function aggregatePurchasesQuery(
  workspaceId: string,
  options: { end: Date; customerIds?: readonly string[] },
): RawBuilder<AggregateRow> {
  const only: RawBuilder<unknown> =
    options.customerIds === undefined
      ? sql``
      : sql`AND i.customer_id = ANY(${options.customerIds as string[]}::uuid[])`;
  const end = options.end.toISOString();
  return sql<AggregateRow>`
    WITH days AS (
      SELECT i.customer_id, (i.occurred_at AT TIME ZONE 'UTC')::date - DATE '1970-01-01' AS day,
             sum(i.amount) FILTER (WHERE i.type = 'purchase') AS bought,
             sum(i.amount) FILTER (WHERE i.type = 'return') AS returned,
             min(i.occurred_at) FILTER (WHERE i.type = 'purchase') AS first_at,
             max(i.occurred_at) FILTER (WHERE i.type = 'purchase') AS last_at
      FROM interactions i
      WHERE i.workspace_id = ${workspaceId} AND i.type IN ('purchase', 'return') AND i.amount > 0
        AND i.occurred_at <= ${end}::timestamptz ${only}
      GROUP BY 1, 2
    ), ranked AS (
      SELECT d.*, min(d.day) FILTER (WHERE d.bought IS NOT NULL) OVER (PARTITION BY d.customer_id) AS first_day
      FROM days d
    )
    SELECT customer_id, count(bought)::int AS purchase_days, min(first_day)::int AS first_day,
           max(day) FILTER (WHERE bought IS NOT NULL)::int AS last_day, sum(bought)::float8 AS total,
           coalesce(sum(bought) FILTER (WHERE day = first_day), 0)::float8 AS first_day_total,
           coalesce(sum(returned), 0)::float8 AS returned,
           coalesce(sum(returned) FILTER (WHERE day > first_day), 0)::float8 AS returned_later,
           min(first_at) AS first_purchase_at, max(last_at) AS last_purchase_at
    FROM ranked
    GROUP BY customer_id
    HAVING count(bought) > 0`;
}

/** Rows per statement of the bulk upsert: parameters stay arrays, so this only bounds memory. */
const CHUNK = 20_000;

/** Writes profiles (insert or replace), as of the calibration end `asOf`. */
export async function upsertValueProfiles(
  tx: Tx,
  workspaceId: string,
  profiles: readonly (ValueProfile & { firstPurchaseAt: Date; lastPurchaseAt: Date })[],
  asOf: Date,
  now: Date,
): Promise<void> {
  for (let start = 0; start < profiles.length; start += CHUNK) {
    const part = profiles.slice(start, start + CHUNK);
    const col = <T>(f: (p: (typeof part)[number]) => T): T[] => part.map(f);
    await sql`
      INSERT INTO value_profiles (workspace_id, customer_id, frequency, recency, t, monetary, purchases, total_spend,
        first_purchase_at, last_purchase_at, p_alive, expected_purchases, expected_spend, clv, rfm_r, rfm_f, rfm_m,
        rfm_segment, as_of, updated_at)
      SELECT ${workspaceId}::uuid, u.customer_id, u.frequency, u.recency, u.t, u.monetary, u.purchases, u.total_spend,
        u.first_at, u.last_at, u.p_alive, u.expected_purchases, u.expected_spend, u.clv, u.r, u.f, u.m, u.segment,
        ${asOf.toISOString()}::timestamptz, ${now.toISOString()}::timestamptz
      FROM unnest(${col((p) => p.customerId)}::uuid[], ${col((p) => p.frequency)}::int[],
        ${col((p) => p.recency)}::float8[], ${col((p) => p.T)}::float8[], ${col((p) => p.monetaryValue)}::float8[],
        ${col((p) => p.purchases)}::int[], ${col((p) => p.totalSpend)}::float8[],
        ${col((p) => p.firstPurchaseAt.toISOString())}::timestamptz[],
        ${col((p) => p.lastPurchaseAt.toISOString())}::timestamptz[],
        ${col((p) => p.pAlive)}::float8[], ${col((p) => p.expectedPurchases)}::float8[],
        ${col((p) => p.expectedSpend)}::float8[], ${col((p) => p.clv)}::float8[], ${col((p) => p.rfmR)}::int2[],
        ${col((p) => p.rfmF)}::int2[], ${col((p) => p.rfmM)}::int2[], ${col((p) => p.rfmSegment)}::text[])
        AS u(customer_id, frequency, recency, t, monetary, purchases, total_spend, first_at, last_at, p_alive,
             expected_purchases, expected_spend, clv, r, f, m, segment)
      ON CONFLICT (workspace_id, customer_id) DO UPDATE SET
        frequency = EXCLUDED.frequency, recency = EXCLUDED.recency, t = EXCLUDED.t, monetary = EXCLUDED.monetary,
        purchases = EXCLUDED.purchases, total_spend = EXCLUDED.total_spend,
        first_purchase_at = EXCLUDED.first_purchase_at, last_purchase_at = EXCLUDED.last_purchase_at,
        p_alive = EXCLUDED.p_alive, expected_purchases = EXCLUDED.expected_purchases,
        expected_spend = EXCLUDED.expected_spend, clv = EXCLUDED.clv, rfm_r = EXCLUDED.rfm_r,
        rfm_f = EXCLUDED.rfm_f, rfm_m = EXCLUDED.rfm_m, rfm_segment = EXCLUDED.rfm_segment,
        as_of = EXCLUDED.as_of, updated_at = EXCLUDED.updated_at`.execute(tx);
  }
}

/** Deletes the profiles not written since `before` (customers without purchases any more). */
export async function deleteProfilesNotUpdatedSince(
  tx: Tx,
  workspaceId: string,
  before: Date,
): Promise<number> {
  const result = await sql`
    DELETE FROM value_profiles WHERE workspace_id = ${workspaceId} AND updated_at < ${before.toISOString()}::timestamptz
  `.execute(tx);
  return Number(result.numAffectedRows ?? 0);
}

/** Deletes the profiles of the given customers. */
export async function deleteProfiles(
  tx: Tx,
  workspaceId: string,
  customerIds: readonly string[],
): Promise<void> {
  if (customerIds.length === 0) return;
  await sql`
    DELETE FROM value_profiles WHERE workspace_id = ${workspaceId} AND customer_id = ANY(${customerIds as string[]}::uuid[])
  `.execute(tx);
}

/** The stored model of a workspace, if one was fitted. */
export async function findValueModelRow(tx: Tx, workspaceId: string): Promise<StoredValueModel | undefined> {
  const row = await tx
    .selectFrom('value_models')
    .selectAll()
    .where('workspace_id', '=', workspaceId)
    .executeTakeFirst();
  if (!row) return undefined;
  return {
    fittedAt: new Date(row.fitted_at),
    period: row.period,
    horizon: row.horizon,
    annualDiscountRate: row.annual_discount_rate,
    bgnbd: row.bgnbd as unknown as StoredValueModel['bgnbd'],
    gammaGamma: row.gamma_gamma as unknown as StoredValueModel['gammaGamma'],
    rfm: row.rfm as unknown as StoredValueModel['rfm'],
    calibration: row.calibration as unknown as StoredValueModel['calibration'],
    convergence: row.convergence as unknown as StoredValueModel['convergence'],
  };
}

/** Stores (replaces) the workspace's model. */
export async function saveValueModel(tx: Tx, workspaceId: string, model: StoredValueModel): Promise<void> {
  const values = {
    fitted_at: model.fittedAt,
    period: model.period,
    horizon: model.horizon,
    annual_discount_rate: model.annualDiscountRate,
    bgnbd: JSON.stringify(model.bgnbd),
    gamma_gamma: model.gammaGamma === null ? null : JSON.stringify(model.gammaGamma),
    rfm: JSON.stringify(model.rfm),
    calibration: JSON.stringify(model.calibration),
    convergence: JSON.stringify(model.convergence),
  };
  await tx
    .insertInto('value_models')
    .values({ workspace_id: workspaceId, ...values })
    .onConflict((oc) => oc.column('workspace_id').doUpdateSet(values))
    .execute();
}

/** One customer's stored profile row. */
export interface ValueProfileRow {
  customer_id: string;
  frequency: number;
  recency: number;
  t: number;
  monetary: number;
  purchases: number;
  total_spend: number;
  first_purchase_at: Date;
  last_purchase_at: Date;
  p_alive: number;
  expected_purchases: number;
  expected_spend: number;
  clv: number;
  rfm_r: number;
  rfm_f: number;
  rfm_m: number;
  rfm_segment: string;
  as_of: Date;
  updated_at: Date;
}

/** A customer's stored profile, if any. */
export async function findValueProfileRow(
  tx: Tx,
  workspaceId: string,
  customerId: string,
): Promise<ValueProfileRow | undefined> {
  return tx
    .selectFrom('value_profiles')
    .selectAll()
    .where('workspace_id', '=', workspaceId)
    .where('customer_id', '=', customerId)
    .executeTakeFirst();
}
