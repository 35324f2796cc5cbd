import type { Tx } from '../db/index.ts';
import { deleteProfiles } from './value.repository.ts';

/** Erasure: the customers' value profiles (derived scores) are deleted. */
export function eraseValueProfiles(
  tx: Tx,
  workspaceId: string,
  customerIds: readonly string[],
): Promise<void> {
  return deleteProfiles(tx, workspaceId, customerIds);
}
