import { sql } from 'kysely';
import type { Tx } from '../db/index.ts';

/**
 * Behaviour counted over the interactions, for the facts derived from it (facts/derive.ts): per customer,
 * how often each value of each behaviour showed, and the newest interactions showing it. One scan of the
 * workspace's interactions (or of the given customers'), every behaviour at once.
 */

/** One customer's count of one value of one behaviour. */
export interface BehaviourRow {
  customerId: string;
  behaviour: string;
  value: string;
  count: number;
  interactionIds: string[];
}

/** How many interaction ids each count keeps as evidence. */
const EVIDENCE = 10;

/**
 * Counts, per customer, the values of: the receipt and payment method of purchases, the store of store
 * purchases, the weekday (UTC) of purchases, the window of shipments (weekday daytime or evening,
 * weekend), and the channel of interactions the customer started. `customerIds` null: every customer.
 */
export async function countBehaviour(
  tx: Tx,
  workspaceId: string,
  customerIds: readonly string[] | null,
): Promise<BehaviourRow[]> {
  const only = customerIds === null ? sql`` : sql`AND i.customer_id = ANY(${[...customerIds]}::uuid[])`;
  const rows = await sql<{
    customer_id: string;
    behaviour: string;
    value: string;
    n: number;
    ids: string[];
  }>`
    SELECT i.customer_id, f.behaviour, f.value, count(*)::int AS n,
           (array_agg(i.id ORDER BY i.occurred_at DESC, i.id DESC))[1:${sql.lit(EVIDENCE)}] AS ids
    FROM interactions i
    CROSS JOIN LATERAL (VALUES
      ('receipt', CASE WHEN i.type = 'purchase' THEN i.properties->>'receipt' END),
      ('payment_method', CASE WHEN i.type = 'purchase' THEN i.properties->>'paymentMethod' END),
      ('preferred_store', CASE WHEN i.type = 'purchase' AND i.channel = 'store' THEN i.properties->>'storeId' END),
      ('order_day', CASE WHEN i.type = 'purchase'
         THEN trim(to_char(i.occurred_at AT TIME ZONE 'UTC', 'fmday')) END),
      ('delivery_window', CASE WHEN i.type = 'shipment' THEN
         CASE WHEN extract(isodow FROM i.occurred_at AT TIME ZONE 'UTC') >= 6 THEN 'weekend'
              WHEN extract(hour FROM i.occurred_at AT TIME ZONE 'UTC') >= 17 THEN 'weekday_evening'
              ELSE 'weekday_daytime' END END),
      ('channel', CASE WHEN i.initiated_by = 'customer' AND i.type <> 'purchase' THEN i.channel END)
    ) AS f (behaviour, value)
    WHERE i.workspace_id = ${workspaceId} AND f.value IS NOT NULL ${only}
    GROUP BY i.customer_id, f.behaviour, f.value`.execute(tx);
  return rows.rows.map((r) => ({
    customerId: r.customer_id,
    behaviour: r.behaviour,
    value: r.value,
    count: r.n,
    interactionIds: r.ids,
  }));
}
