import type { RawBuilder } from 'kysely';
import type { Tx } from '../db/index.ts';
import { conflict } from '../shared/errors.ts';
import type { Actor } from '../workspaces/index.ts';
import { assertNotSuppressed } from './customer.erasure.ts';
import * as repo from './customer.repository.ts';
import type { ExportedCustomer } from './customer.schema.ts';
import { type GoldenField, identityKey } from './customer.ts';

/** Export of a workspace's customers for backup, and their restore. */

/**
 * The next `limit` customers of the transaction's workspace with ids after `afterId` (null: from the
 * start), ordered by id, each with everything needed to restore it.
 */
export async function listCustomersForExport(
  tx: Tx,
  afterId: string | null,
  limit: number,
  where: readonly RawBuilder<unknown>[] = [],
): Promise<ExportedCustomer[]> {
  const rows = await repo.listExportRows(tx, afterId, limit, where);
  return rows.map(({ row, contactPoints, identities, provenance }) => ({
    id: row.id,
    givenName: row.given_name,
    familyName: row.family_name,
    preferredName: row.preferred_name,
    language: row.language,
    birthDate: row.birth_date,
    createdAt: row.created_at.toISOString(),
    updatedAt: row.updated_at.toISOString(),
    identities: identities.map((i) => ({
      source: i.source,
      externalId: i.externalId,
      createdAt: i.createdAt,
    })),
    contactPoints: contactPoints.map((c) => ({
      id: c.id,
      kind: c.kind,
      value: c.value,
      verified: c.verified,
      source: c.source,
      createdAt: c.createdAt,
      ...(c.validFrom === undefined ? {} : { validFrom: c.validFrom }),
      ...(c.validUntil === undefined ? {} : { validUntil: c.validUntil }),
    })),
    provenance: provenance.map((p) => ({
      id: p.id,
      field: p.field,
      value: p.value,
      source: p.source,
      capturedAt: p.capturedAt,
      capturedBy: p.capturedBy,
      interactionId: p.interactionId,
      confidence: p.confidence,
      recordedAt: p.recordedAt,
    })),
  }));
}

/**
 * Restores exported customers into the actor's workspace with their ids, identities, contact points and
 * provenance, in a few multi-row statements. A customer whose id the workspace already has is skipped
 * whole, so restoring the same export twice changes nothing. An identity held by another customer of
 * the workspace is IDENTITY_TAKEN (the caller's transaction then stores nothing).
 */
export async function restoreCustomers(
  tx: Tx,
  actor: Actor,
  customers: readonly ExportedCustomer[],
): Promise<{ restored: number; skipped: number }> {
  const workspaceId = actor.workspaceId;
  const unique = [...new Map(customers.map((c) => [c.id.toLowerCase(), c])).values()];
  const inserted = await repo.insertRestoredCustomers(
    tx,
    workspaceId,
    unique.map((c) => ({
      id: c.id.toLowerCase(),
      fields: {
        givenName: c.givenName,
        familyName: c.familyName,
        preferredName: c.preferredName,
        language: c.language,
        birthDate: c.birthDate,
      },
      createdAt: c.createdAt,
      updatedAt: c.updatedAt,
    })),
  );
  const restored = unique.filter((c) => inserted.has(c.id.toLowerCase()));
  // An erased person is not re-created by importing an old export under a new id.
  await assertNotSuppressed(
    tx,
    workspaceId,
    restored.map((c) => [
      ...c.contactPoints.map((p) => ({ kind: p.kind, value: p.value })),
      ...c.identities.map((i) => ({ kind: `identity.${i.source}`, value: i.externalId })),
    ]),
  );

  const identities = restored.flatMap((c) =>
    c.identities.map((i) => ({ ...i, customerId: c.id.toLowerCase() })),
  );
  const claimed = await repo.claimIdentities(tx, workspaceId, identities);
  const taken = identities.filter((i) => !claimed.has(identityKey(i)));
  if (taken.length > 0) {
    const first = taken[0];
    throw conflict(
      'IDENTITY_TAKEN',
      `Identity ${first?.source}/${first?.externalId} of customer ${first?.customerId} already belongs to another customer of this workspace.`,
      {
        identities: taken.map((i) => ({
          source: i.source,
          externalId: i.externalId,
          customerId: i.customerId,
        })),
      },
    );
  }

  await repo.upsertContactPoints(
    tx,
    workspaceId,
    restored.flatMap((c) =>
      uniqueContacts(c.contactPoints).map((p) => ({
        id: p.id,
        customerId: c.id.toLowerCase(),
        kind: p.kind,
        value: p.value,
        verified: p.verified,
        source: p.source,
        createdAt: p.createdAt,
        validFrom: p.validFrom,
        validUntil: p.validUntil,
      })),
    ),
  );
  await repo.insertRestoredFieldValues(
    tx,
    workspaceId,
    restored.flatMap((c) =>
      c.provenance.map((p) => ({
        id: p.id,
        customerId: c.id.toLowerCase(),
        field: p.field as GoldenField,
        value: p.value,
        source: p.source,
        capturedBy: p.capturedBy,
        capturedAt: p.capturedAt,
        interactionId: p.interactionId,
        confidence: p.confidence,
        recordedAt: p.recordedAt,
      })),
    ),
  );
  return { restored: restored.length, skipped: customers.length - restored.length };
}

/** An export file edited by hand may repeat a contact point; one row per (kind, value) is kept. */
function uniqueContacts(points: ExportedCustomer['contactPoints']): ExportedCustomer['contactPoints'] {
  return [...new Map(points.map((p) => [`${p.kind}:${p.value}`, p])).values()];
}
