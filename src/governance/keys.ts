import type { AuditEntry } from '../audit/index.ts';
import type { Tx } from '../db/index.ts';
import { assertPermitted } from '../shared/access.ts';
import {
  type Actor,
  type ApiKeyInfo,
  type CreatedKey,
  createApiKey,
  listApiKeys,
  revokeApiKey,
} from '../workspaces/index.ts';

/**
 * API keys under the role table: listing, creating and revoking keys each need their permission, and
 * every creation and revocation is audited in the same transaction — who acted, which key, its role
 * and purposes, never its secret — through the `audit` of the caller's `withAdministration`.
 */

/** The audit entry of a key change: who acted is the transaction's actor; never a secret. */
function keyChange(action: 'key.create' | 'key.revoke', key: ApiKeyInfo): AuditEntry {
  return {
    action,
    purpose: null,
    customerIds: [],
    fields: [],
    details: { keyId: key.id, role: key.role, purposes: key.purposes },
  };
}

/** The workspace's keys, never their secrets (keys.list). */
export function listKeysGoverned(tx: Tx, actor: Actor): Promise<ApiKeyInfo[]> {
  assertPermitted(actor, 'keys.list');
  return listApiKeys(tx, actor.workspaceId);
}

/** Creates a key (keys.create); audited. The key itself is in the answer only. */
export async function createKeyGoverned(
  tx: Tx,
  actor: Actor,
  input: { role: string; purposes?: readonly string[] | undefined; name?: string | undefined },
  audit: (entry: AuditEntry) => void,
): Promise<CreatedKey> {
  assertPermitted(actor, 'keys.create');
  const created = await createApiKey(tx, actor.workspaceId, input);
  audit(keyChange('key.create', created.key));
  return created;
}

/** Revokes a key (keys.revoke), never the workspace's last admin key (409 LAST_ADMIN_KEY); audited. */
export async function revokeKeyGoverned(
  tx: Tx,
  actor: Actor,
  keyId: string,
  audit: (entry: AuditEntry) => void,
): Promise<ApiKeyInfo> {
  assertPermitted(actor, 'keys.revoke');
  const revoked = await revokeApiKey(tx, actor.workspaceId, keyId);
  audit(keyChange('key.revoke', revoked));
  return revoked;
}
