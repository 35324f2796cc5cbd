import type { AuditEntry } from '../audit/index.ts';
import { recordAuditEvents } from '../audit/index.ts';
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
import { withClientRequestId } from './scope.ts';

/**
 * API keys under the role table: listing, creating and revoking keys each need their permission, and
 * every creation and revocation is audited in the same transaction — who acted, which key, its role
 * and purposes, never its secret. The caller owns the transaction and chains the workspace's audit
 * events after commit (`chainAfterCommit`).
 */

/** The request a key change belongs to, for its audit event. */
export interface KeyChangeContext {
  requestId: string | null;
  clientRequestId?: string | undefined;
}

async function auditKeyChange(
  tx: Tx,
  actor: Actor,
  context: KeyChangeContext,
  action: 'key.create' | 'key.revoke',
  key: ApiKeyInfo,
): Promise<void> {
  const entry: AuditEntry = {
    action,
    purpose: null,
    customerIds: [],
    fields: [],
    details: { keyId: key.id, role: key.role, purposes: key.purposes },
  };
  await recordAuditEvents(
    tx,
    actor.workspaceId,
    { actor: { keyId: actor.keyId, role: actor.role, label: actor.label }, requestId: context.requestId },
    withClientRequestId([entry], context.clientRequestId),
  );
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
  context: KeyChangeContext,
): Promise<CreatedKey> {
  assertPermitted(actor, 'keys.create');
  const created = await createApiKey(tx, actor.workspaceId, input);
  await auditKeyChange(tx, actor, context, 'key.create', created.key);
  return created;
}

/** Revokes a key (keys.revoke), never the workspace's last admin key (409 LAST_ADMIN_KEY); audited. */
export async function revokeKeyGoverned(
  tx: Tx,
  actor: Actor,
  keyId: string,
  context: KeyChangeContext,
): Promise<ApiKeyInfo> {
  assertPermitted(actor, 'keys.revoke');
  const revoked = await revokeApiKey(tx, actor.workspaceId, keyId);
  await auditKeyChange(tx, actor, context, 'key.revoke', revoked);
  return revoked;
}
