import { sql } from 'kysely';
import type { Tx } from '../db/index.ts';

/**
 * Erasure: the customers' stored lists are deleted. Their influence on everyone else's lists goes at
 * the next training, which reads interactions that no longer exist.
 */
export async function eraseRecommendationLists(
  tx: Tx,
  workspaceId: string,
  customerIds: readonly string[],
): Promise<number> {
  if (customerIds.length === 0) return 0;
  const result = await sql`
    DELETE FROM recommendation_lists
    WHERE workspace_id = ${workspaceId} AND customer_id = ANY(${customerIds as string[]}::uuid[])`.execute(
    tx,
  );
  return Number(result.numAffectedRows ?? 0n);
}
