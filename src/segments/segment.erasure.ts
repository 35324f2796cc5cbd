import { sql } from 'kysely';
import type { Tx } from '../db/index.ts';

/** Erasure: the customers leave every segment's materialised membership. Answers how many rows went. */
export async function eraseSegmentMemberships(
  tx: Tx,
  workspaceId: string,
  customerIds: readonly string[],
): Promise<number> {
  if (customerIds.length === 0) return 0;
  const result = await sql`
    DELETE FROM segment_members
    WHERE workspace_id = ${workspaceId} AND customer_id = ANY(${customerIds as string[]}::uuid[])`.execute(
    tx,
  );
  return Number(result.numAffectedRows ?? 0n);
}
