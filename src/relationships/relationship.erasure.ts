import { sql } from 'kysely';
import type { Tx } from '../db/index.ts';

/** Erasure: the customers' relationship profiles and their history of changes are deleted. */
export async function eraseRelationshipsOfCustomers(
  tx: Tx,
  workspaceId: string,
  customerIds: readonly string[],
): Promise<number> {
  if (customerIds.length === 0) return 0;
  const ids = customerIds as string[];
  const changes = await sql`
    DELETE FROM relationship_changes WHERE workspace_id = ${workspaceId} AND customer_id = ANY(${ids}::uuid[])`.execute(
    tx,
  );
  const profiles = await sql`
    DELETE FROM relationship_profiles WHERE workspace_id = ${workspaceId} AND customer_id = ANY(${ids}::uuid[])`.execute(
    tx,
  );
  return Number(changes.numAffectedRows ?? 0n) + Number(profiles.numAffectedRows ?? 0n);
}
