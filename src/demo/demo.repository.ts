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

/** A customer's purchases: how many, their total, currency and the last one. */
export interface PurchaseTotals {
  customerId: string;
  purchases: number;
  total: number;
  currency: string | null;
  lastPurchaseAt: Date;
}

/**
 * The customer with the highest purchase total in one currency among those with no purchase since
 * `since`: totals are per customer and currency, as amounts in two currencies never add up.
 */
export async function findTopSpenderQuietSince(tx: Tx, since: Date): Promise<PurchaseTotals | undefined> {
  const row = await tx
    .selectFrom('interactions')
    .select([
      'customer_id',
      sql<number>`count(*)::int`.as('purchases'),
      sql<string>`sum(amount)::text`.as('total'),
      'currency',
      sql<Date>`max(occurred_at)`.as('last_purchase_at'),
    ])
    .where('workspace_id', '=', WORKSPACE)
    .where('type', '=', 'purchase')
    .where('amount', 'is not', null)
    .groupBy(['customer_id', 'currency'])
    .having(sql<boolean>`max(occurred_at) < ${since.toISOString()}::timestamptz`)
    .orderBy(sql`sum(amount)`, 'desc')
    .orderBy('customer_id')
    .limit(1)
    .executeTakeFirst();
  return (
    row && {
      customerId: row.customer_id,
      purchases: row.purchases,
      total: Number(row.total),
      currency: row.currency,
      lastPurchaseAt: new Date(row.last_purchase_at),
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
