import type { Static } from '@sinclair/typebox';
import type { Tx } from '../db/index.ts';
import { conflict, invalid, notFound } from '../shared/errors.ts';
import { isUuid, newId } from '../shared/ids.ts';
import type { Actor } from '../workspaces/index.ts';
import * as repo from './disclosure.repository.ts';
import type { CreateRecipientBody } from './disclosure.schema.ts';
import type { Disclosure, DisclosureEntry, Recipient } from './disclosure.ts';

/** Use-cases of recipients and disclosures. The caller owns the transaction. */

export type CreateRecipientInput = Static<typeof CreateRecipientBody>;

/** Registers a recipient; its purposes must be purposes of the workspace (`isPurpose`). */
export async function createRecipient(
  tx: Tx,
  actor: Actor,
  input: CreateRecipientInput,
  isPurpose: (purpose: string) => boolean,
): Promise<Recipient> {
  const unknown = input.purposes.filter((p) => !isPurpose(p));
  if (unknown.length > 0) {
    throw invalid('PURPOSE_UNKNOWN', `Not purposes of this workspace: ${unknown.join(', ')}.`, {
      errors: unknown.map((p) => ({
        path: `purposes[${input.purposes.indexOf(p)}]`,
        message: 'is not a purpose',
      })),
    });
  }
  const created = await repo.insertRecipient(tx, actor.workspaceId, {
    id: newId(),
    name: input.name,
    kind: input.kind,
    purposes: [...input.purposes].sort(),
    description: input.description ?? null,
    apiKeyId: null,
  });
  if (!created) {
    throw conflict('RECIPIENT_NAME_TAKEN', `A recipient named "${input.name}" exists: choose another name.`, {
      name: input.name,
    });
  }
  return created;
}

/** Every recipient of the workspace. */
export function listRecipients(tx: Tx, workspaceId: string): Promise<Recipient[]> {
  return repo.listRecipients(tx, workspaceId);
}

/** A recipient by id or name, or RECIPIENT_NOT_FOUND. */
export async function getRecipient(tx: Tx, workspaceId: string, ref: string): Promise<Recipient> {
  const found = isUuid(ref)
    ? await repo.findRecipient(tx, workspaceId, { id: ref.toLowerCase() })
    : await repo.findRecipient(tx, workspaceId, { name: ref });
  if (!found)
    throw notFound('RECIPIENT_NOT_FOUND', `No recipient "${ref}" in this workspace: register it first.`, {
      ref,
    });
  return found;
}

/**
 * The recipient standing for an integration key: what the key reads leaves Cornerstore to the system
 * holding it. Registered on the key's first read of personal data.
 */
export async function recipientForKey(tx: Tx, actor: Actor): Promise<Recipient> {
  if (actor.keyId === null) throw new Error('recipientForKey needs an API key actor');
  const existing = await repo.findRecipient(tx, actor.workspaceId, { apiKeyId: actor.keyId });
  if (existing) return existing;
  const created = await repo.insertRecipient(tx, actor.workspaceId, {
    id: newId(),
    name: `key:${actor.keyId}`,
    kind: 'integration_key',
    purposes: [...actor.purposes].sort(),
    description: `The system holding the API key "${actor.label}".`,
    apiKeyId: actor.keyId,
  });
  // A concurrent first read registered it: read theirs.
  return created ?? (await getRecipient(tx, actor.workspaceId, `key:${actor.keyId}`));
}

/** Appends disclosures to the ledger. */
export function recordDisclosures(
  tx: Tx,
  workspaceId: string,
  entries: readonly DisclosureEntry[],
): Promise<void> {
  const now = Date.now();
  return repo.insertDisclosures(
    tx,
    workspaceId,
    entries.filter((e) => e.fields.length > 0).map((e) => ({ ...e, id: newId(now) })),
  );
}

/** A customer's disclosures, newest first: every party that received their data, what and why. */
export function listDisclosures(
  tx: Tx,
  workspaceId: string,
  customerId: string,
  limit = 500,
): Promise<Disclosure[]> {
  return repo.listCustomerDisclosures(tx, workspaceId, customerId, limit);
}
