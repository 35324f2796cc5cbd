import { sql } from 'kysely';
import type { Tx } from '../db/index.ts';

/**
 * The demo's own SQL: read-only questions over the transaction's workspace that pick customers worth
 * looking at, and the planner statistics a bulk load needs. It never writes a row; everything the demo
 * stores goes through the customers and interactions domains. Ties are broken by id so the same world
 * gives the same answers.
 */

const WORKSPACE = sql<string>`cornerstore_workspace()`;

/** The customer with the most complaints (ties: the most recent complaint). */
export async function findMostComplainingCustomer(
  tx: Tx,
): Promise<{ customerId: string; complaints: number } | undefined> {
  const row = await tx
    .selectFrom('interactions')
    .select(['customer_id', sql<number>`count(*)::int`.as('complaints')])
    .where('workspace_id', '=', WORKSPACE)
    .where('type', '=', 'complaint')
    .groupBy('customer_id')
    .orderBy('complaints', 'desc')
    .orderBy(sql`max(occurred_at)`, 'desc')
    .orderBy('customer_id')
    .limit(1)
    .executeTakeFirst();
  return row && { customerId: row.customer_id, complaints: row.complaints };
}

/** The customer of the most recent cancellation request. */
export async function findLatestCancellationCustomer(tx: Tx): Promise<{ customerId: string } | undefined> {
  const row = await tx
    .selectFrom('interactions')
    .select('customer_id')
    .where('workspace_id', '=', WORKSPACE)
    .where('type', '=', 'cancellation_request')
    .orderBy('occurred_at', 'desc')
    .orderBy('id')
    .limit(1)
    .executeTakeFirst();
  return row && { customerId: row.customer_id };
}

/** A customer's stored value profile, as the slipping-away highlight shows it. */
export interface SlippingAway {
  customerId: string;
  purchases: number;
  totalSpend: number;
  currency: string | null;
  lastPurchaseAt: Date;
  pAlive: number;
  asOf: Date;
  /** The share of profiled customers who spent less, 0..1. */
  spendRank: number;
}

/**
 * The valued customer most likely lost: among customers whose stored profile has a repeat purchase, a
 * total spend in the top `topShare` of all profiles and a P(alive) below `maxPAlive`, the one who spent
 * the most. Read from the stored profiles, so the highlight says what the customer's profile shows.
 */
export async function findValuedCustomerSlippingAway(
  tx: Tx,
  options: { maxPAlive: number; topShare: number },
): Promise<SlippingAway | undefined> {
  const result = await sql<{
    customer_id: string;
    purchases: number;
    total_spend: number;
    p_alive: number;
    last_purchase_at: Date;
    as_of: Date;
    spend_rank: number;
    currency: string | null;
  }>`
    WITH ranked AS (
      SELECT v.customer_id, v.purchases, v.frequency, v.total_spend, v.p_alive, v.last_purchase_at, v.as_of,
             percent_rank() OVER (ORDER BY v.total_spend) AS spend_rank
      FROM value_profiles v
      WHERE v.workspace_id = ${WORKSPACE}
    )
    SELECT r.customer_id, r.purchases, r.total_spend, r.p_alive, r.last_purchase_at, r.as_of, r.spend_rank,
           (SELECT min(i.currency) FROM interactions i
             WHERE i.workspace_id = ${WORKSPACE} AND i.customer_id = r.customer_id AND i.type = 'purchase') AS currency
    FROM ranked r
    WHERE r.frequency >= 1 AND r.p_alive < ${options.maxPAlive} AND r.spend_rank >= ${1 - options.topShare}
    ORDER BY r.total_spend DESC, r.customer_id
    LIMIT 1`.execute(tx);
  const row = result.rows[0];
  return (
    row && {
      customerId: row.customer_id,
      purchases: row.purchases,
      totalSpend: row.total_spend,
      currency: row.currency,
      lastPurchaseAt: new Date(row.last_purchase_at),
      pAlive: row.p_alive,
      asOf: new Date(row.as_of),
      spendRank: row.spend_rank,
    }
  );
}

/** Which customer holds each source identity now (merges move identities to the survivor). */
export async function listIdentityOwners(
  tx: Tx,
): Promise<{ source: string; externalId: string; customerId: string }[]> {
  const rows = await tx
    .selectFrom('customer_identities')
    .select(['source', 'external_id', 'customer_id'])
    .where('workspace_id', '=', WORKSPACE)
    .execute();
  return rows.map((r) => ({ source: r.source, externalId: r.external_id, customerId: r.customer_id }));
}

/** Which customer each interaction is on, by its `(source, external id)`. */
export async function listInteractionOwners(
  tx: Tx,
): Promise<{ source: string; externalId: string; customerId: string }[]> {
  const rows = await tx
    .selectFrom('interactions')
    .select(['source', 'external_id', 'customer_id'])
    .where('workspace_id', '=', WORKSPACE)
    .execute();
  return rows.map((r) => ({ source: r.source, externalId: r.external_id, customerId: r.customer_id }));
}

/** The identities a customer holds now, as `source/externalId` keys. */
export async function listIdentityKeys(tx: Tx, customerId: string): Promise<string[]> {
  const rows = await tx
    .selectFrom('customer_identities')
    .select(['source', 'external_id'])
    .where('workspace_id', '=', WORKSPACE)
    .where('customer_id', '=', customerId)
    .execute();
  return rows.map((r) => `${r.source}/${r.external_id}`);
}

/**
 * A customer with a declared language and a fact derived from behaviour (the richest prefill), else one
 * with any declared preference; ties: the lowest id.
 */
export async function findCustomerWithFacts(tx: Tx): Promise<{ customerId: string } | undefined> {
  const row = await sql<{ customer_id: string }>`
    SELECT f.customer_id FROM facts f
    WHERE f.workspace_id = ${WORKSPACE} AND f.superseded_at IS NULL AND f.status IN ('active', 'confirmed')
      AND f.source_kind = 'declared' AND f.key IN ('language', 'receipt', 'delivery_window', 'channel')
    ORDER BY (f.key = 'language') DESC,
      EXISTS (SELECT 1 FROM facts d WHERE d.workspace_id = f.workspace_id AND d.customer_id = f.customer_id
              AND d.source_kind = 'derived' AND d.superseded_at IS NULL) DESC,
      f.customer_id
    LIMIT 1`.execute(tx);
  const first = row.rows[0];
  return first && { customerId: first.customer_id };
}

/**
 * A customer at exactly this intimacy level who granted personalization, did not object or restrict
 * processing, and has trained recommendations (with a collective one); ties by id.
 */
export async function findConsentingCustomerWithRecommendations(
  tx: Tx,
  intimacyLevel: number,
): Promise<{ customerId: string } | undefined> {
  const row = await sql<{ id: string }>`
    SELECT c.id FROM customers c
    JOIN consent_state cs ON cs.workspace_id = c.workspace_id AND cs.customer_id = c.id
      AND cs.purpose = 'personalization' AND cs.channel = '' AND cs.status = 'granted'
      AND (cs.expires_at IS NULL OR cs.expires_at > now())
    JOIN recommendation_lists r ON r.workspace_id = c.workspace_id AND r.customer_id = c.id
    WHERE c.workspace_id = ${WORKSPACE} AND c.intimacy_level = ${intimacyLevel} AND c.merged_into IS NULL
      AND NOT c.processing_restricted AND NOT (c.objections @> ARRAY['personalization']::text[])
      AND jsonb_array_length(r.collective) > 0
    ORDER BY c.id
    LIMIT 1`.execute(tx);
  const first = row.rows[0];
  return first && { customerId: first.id };
}
