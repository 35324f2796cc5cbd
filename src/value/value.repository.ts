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
  total_spend: number;
  first_purchase_at: Date;
  last_purchase_at: Date;
}

/**
 * The money a value is counted in: the currency, its decimals, and what one unit of each other
 * currency counted is worth in it. Amounts in currencies without a rate are left out, never added.
 */
export interface ValueMoney {
  currency: string;
  decimals: number;
  rates: Readonly<Record<string, number>>;
}

/**
 * The amount of an interaction `i` in the value currency, as an expression: each currency's rate
 * (1 for the value currency) as exact decimal text, rounded to the value currency's decimals. An
 * expression rather than a join to a rate table, so the aggregate stays one pass without a join.
 */
function convertedAmount(money: ValueMoney): RawBuilder<unknown> {
  const rates = [[money.currency, '1'], ...Object.entries(money.rates).map(([c, r]) => [c, String(r)])];
  const cases = sql.join(
    rates.map(([code, rate]) => sql`WHEN ${code} THEN ${rate}::numeric`),
    sql` `,
  );
  return sql`round(i.amount * (CASE i.currency ${cases} END), ${money.decimals}::int)`;
}

/** The currencies counted: the value currency and those with a rate. */
function countedCurrencies(money: ValueMoney): string[] {
  return [money.currency, ...Object.keys(money.rates)];
}

/**
 * Purchases per customer per day (UTC), then per customer, with the returns that reduce spend; only
 * interactions up to `end`, in the value currency or one with a rate (each amount converted and
 * rounded to the currency's decimals, then summed as numeric: exact). One statement and one pass over
 * the rows, without joining the per-day rows back to the per-customer ones: such a plan collapses into
 * nested loops over millions of row pairs when the planner believes the tables empty (statistics not
 * refreshed after a bulk load), while sorting and aggregating costs the same whatever the statistics
 * say (the rates are an expression, not a table to join). With `customerIds`, only theirs (the timeline
 * index).
 */
export async function aggregatePurchases(
  tx: Tx,
  workspaceId: string,
  options: AggregateOptions,
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
    // numeric arrives as a number holding the exact decimal (db/database.ts).
    totalSpend: Number(r.total_spend),
    firstPurchaseAt: new Date(r.first_purchase_at),
    lastPurchaseAt: new Date(r.last_purchase_at),
  }));
}

/**
 * The id that closes a range of `size` customers after `after` (null: from the first), in id order;
 * null when fewer remain (the range runs to the last). Reads the primary key only.
 */
export async function findCustomerRangeEnd(
  tx: Tx,
  workspaceId: string,
  after: string | null,
  size: number,
): Promise<string | null> {
  const { rows } = await sql<{ id: string }>`
    SELECT id FROM customers
     WHERE workspace_id = ${workspaceId} AND (${after}::uuid IS NULL OR id > ${after}::uuid)
     ORDER BY id OFFSET ${size - 1} LIMIT 1`.execute(tx);
  return rows[0]?.id ?? null;
}

/** Purchases (with an amount) per currency up to `end`, most first: to choose and to report currencies. */
export async function countPurchasesByCurrency(
  tx: Tx,
  workspaceId: string,
  end: Date,
): Promise<{ currency: string; purchases: number }[]> {
  const result = await sql<{ currency: string; purchases: number }>`
    SELECT i.currency, count(*)::int AS purchases FROM interactions i
    WHERE i.workspace_id = ${workspaceId} AND i.type = 'purchase' AND i.amount > 0 AND i.currency IS NOT NULL
      AND i.occurred_at <= ${end.toISOString()}::timestamptz
    GROUP BY i.currency ORDER BY purchases DESC, i.currency`.execute(tx);
  return result.rows;
}

/** Which purchases `aggregatePurchases` reads: up to `end`, of the given customers or a range of ids. */
export interface AggregateOptions {
  end: Date;
  money: ValueMoney;
  customerIds?: readonly string[];
  /** Customers with ids after `after` (null: from the first) up to `upTo` inclusive (null: to the last). */
  range?: { after: string | null; upTo: string | null };
}

/** The statement of `aggregatePurchases`, for its test to read the plan of. */
export function aggregatePurchasesQuery(
  workspaceId: string,
  options: AggregateOptions,
): RawBuilder<AggregateRow> {
  const { range } = options;
  const only: RawBuilder<unknown> =
    options.customerIds !== undefined
      ? sql`AND i.customer_id = ANY(${options.customerIds as string[]}::uuid[])`
      : range === undefined
        ? sql``
        : sql`AND (${range.after}::uuid IS NULL OR i.customer_id > ${range.after}::uuid)
              AND (${range.upTo}::uuid IS NULL OR i.customer_id <= ${range.upTo}::uuid)`;
  const end = options.end.toISOString();
  const converted = convertedAmount(options.money);
  return sql<AggregateRow>`
    WITH days AS (
      SELECT i.customer_id, (i.occurred_at AT TIME ZONE 'UTC')::date - DATE '1970-01-01' AS day,
             sum(${converted}) FILTER (WHERE i.type = 'purchase') AS bought,
             sum(${converted}) FILTER (WHERE i.type = 'return') AS returned,
             min(i.occurred_at) FILTER (WHERE i.type = 'purchase') AS first_at,
             max(i.occurred_at) FILTER (WHERE i.type = 'purchase') AS last_at
      FROM interactions i
      WHERE i.workspace_id = ${workspaceId} AND i.type IN ('purchase', 'return') AND i.amount > 0
        AND i.currency = ANY(${countedCurrencies(options.money)}::text[])
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
           greatest(sum(bought) - coalesce(sum(returned), 0), 0) AS total_spend,
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
  currency: string,
  options: { unlessUpdatedAfter?: Date } = {},
): Promise<void> {
  // A refit written in batches leaves alone the rows an event rewrote after it read (newer purchases).
  const guard =
    options.unlessUpdatedAfter === undefined
      ? sql``
      : sql`WHERE value_profiles.updated_at <= ${options.unlessUpdatedAfter.toISOString()}::timestamptz`;
  for (let start = 0; start < profiles.length; start += CHUNK) {
    const part = profiles.slice(start, start + CHUNK);
    const col = <T>(f: (p: (typeof part)[number]) => T): T[] => part.map(f);
    await sql`
      INSERT INTO value_profiles (workspace_id, customer_id, frequency, recency, t, monetary, purchases, total_spend,
        first_purchase_at, last_purchase_at, p_alive, expected_purchases, expected_spend, clv, rfm_r, rfm_f, rfm_m,
        rfm_segment, as_of, updated_at, currency)
      SELECT ${workspaceId}::uuid, u.customer_id, u.frequency, u.recency, u.t, u.monetary, u.purchases, u.total_spend,
        u.first_at, u.last_at, u.p_alive, u.expected_purchases, u.expected_spend, u.clv, u.r, u.f, u.m, u.segment,
        ${asOf.toISOString()}::timestamptz, ${now.toISOString()}::timestamptz, ${currency}
      FROM unnest(${col((p) => p.customerId)}::uuid[], ${col((p) => p.frequency)}::int[],
        ${col((p) => p.recency)}::float8[], ${col((p) => p.T)}::float8[], ${col((p) => p.monetaryValue)}::float8[],
        ${col((p) => p.purchases)}::int[], ${col((p) => String(p.totalSpend))}::numeric[],
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
        as_of = EXCLUDED.as_of, updated_at = EXCLUDED.updated_at, currency = EXCLUDED.currency
      ${guard}`.execute(tx);
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

/** Customers whose profiles were written after `since`. */
export async function listProfilesUpdatedAfter(tx: Tx, workspaceId: string, since: Date): Promise<string[]> {
  const { rows } = await sql<{ customer_id: string }>`
    SELECT customer_id FROM value_profiles
     WHERE workspace_id = ${workspaceId} AND updated_at > ${since.toISOString()}::timestamptz`.execute(tx);
  return rows.map((r) => r.customer_id);
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
  currency: string | null;
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
