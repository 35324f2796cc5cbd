import { sql } from 'kysely';
import type { Tx } from '../db/index.ts';

/**
 * Erasure of interactions (SPEC §5.4): by default every interaction of the customers is deleted. When a
 * legal basis keeps the books (`retainForBooks`), the rows stay with their type, channel, time, amount
 * and currency only: the free text, properties, line items, sentiment and the source's external id (which
 * may carry an order number or an address) are cleared.
 */
export async function eraseInteractionsOfCustomers(
  tx: Tx,
  workspaceId: string,
  customerIds: readonly string[],
  options: { retainForBooks: boolean },
): Promise<{ deleted: number; stripped: number }> {
  if (customerIds.length === 0) return { deleted: 0, stripped: 0 };
  const ids = customerIds as string[];
  if (!options.retainForBooks) {
    const result = await sql`
      DELETE FROM interactions WHERE workspace_id = ${workspaceId} AND customer_id = ANY(${ids}::uuid[])`.execute(
      tx,
    );
    return { deleted: Number(result.numAffectedRows ?? 0n), stripped: 0 };
  }
  const result = await sql`
    UPDATE interactions SET text = NULL, properties = '{}'::jsonb, line_items = NULL, sentiment = NULL,
      source = 'erased', external_id = id::text
    WHERE workspace_id = ${workspaceId} AND customer_id = ANY(${ids}::uuid[])`.execute(tx);
  return { deleted: 0, stripped: Number(result.numAffectedRows ?? 0n) };
}
