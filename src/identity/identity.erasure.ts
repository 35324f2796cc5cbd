import { sql } from 'kysely';
import type { Tx } from '../db/index.ts';

/**
 * Erasure: the identity module's copies of the customers' data are cleared — the before-image and
 * unmerge report of every merge they took part in (an erased merge can no longer be undone exactly,
 * which is the point) and the explanation of every review naming them (it compares their values).
 * The decisions' ledger keeps only ids and comparison levels, never values, and stays.
 */
export async function eraseIdentityTraces(
  tx: Tx,
  workspaceId: string,
  customerIds: readonly string[],
): Promise<{ merges: number; reviews: number }> {
  if (customerIds.length === 0) return { merges: 0, reviews: 0 };
  const ids = customerIds as string[];
  const merges = await sql`
    UPDATE identity_merges SET before_image = '{"erased":true}'::jsonb, reason = NULL,
      unmerge_report = CASE WHEN unmerge_report IS NULL THEN NULL ELSE '{"erased":true}'::jsonb END
    WHERE workspace_id = ${workspaceId} AND (survivor_id = ANY(${ids}::uuid[]) OR absorbed_id = ANY(${ids}::uuid[]))`.execute(
    tx,
  );
  const reviews = await sql`
    UPDATE identity_reviews SET explanation = '{"erased":true}'::jsonb
    WHERE workspace_id = ${workspaceId} AND (customer_a = ANY(${ids}::uuid[]) OR customer_b = ANY(${ids}::uuid[]))`.execute(
    tx,
  );
  return { merges: Number(merges.numAffectedRows ?? 0n), reviews: Number(reviews.numAffectedRows ?? 0n) };
}
