import { sql } from 'kysely';
import type { Tx } from '../db/index.ts';
import { keyedHash } from '../policy/index.ts';
import { conflict } from '../shared/errors.ts';
import { getWorkspaceSecret } from '../workspaces/index.ts';

/**
 * Erasure of the golden record (SPEC §5.4) and the suppression list. The customer's row stays as a
 * tombstone — the append-only ledgers (consents, disclosures, audit) name its id — with every personal
 * column cleared (the search index is generated from them); its contact points, identities and field
 * values with their provenance are deleted. Before that, a keyed hash (HMAC under the workspace's secret)
 * of each identifier is kept in `suppressed_identities`, and every creation of a customer checks it: a
 * later import naming an erased email, phone or external id is refused with CUSTOMER_SUPPRESSED instead
 * of silently re-creating the person. They come back by their own choice when the suppression is lifted.
 */

/** An identifier as suppression hashes it: its kind (`email`, `phone`, `identity.<source>`) and value. */
export interface SuppressibleIdentifier {
  kind: string;
  value: string;
}

/** The identifiers of the customers: contact points (email, phone, address) and external identities. */
export async function listCustomerIdentifiers(
  tx: Tx,
  workspaceId: string,
  customerIds: readonly string[],
): Promise<SuppressibleIdentifier[]> {
  if (customerIds.length === 0) return [];
  const ids = customerIds as string[];
  const { rows } = await sql<{ kind: string; value: string }>`
    SELECT kind::text AS kind, value FROM contact_points
    WHERE workspace_id = ${workspaceId} AND customer_id = ANY(${ids}::uuid[])
    UNION
    SELECT 'identity.' || source, external_id FROM customer_identities
    WHERE workspace_id = ${workspaceId} AND customer_id = ANY(${ids}::uuid[])
    ORDER BY 1, 2`.execute(tx);
  return rows;
}

/** Clears the customers' golden records and deletes their contact points, identities and field values. */
export async function eraseCustomerRecords(
  tx: Tx,
  workspaceId: string,
  customerIds: readonly string[],
): Promise<{ contactPoints: number; identities: number; fieldValues: number }> {
  if (customerIds.length === 0) return { contactPoints: 0, identities: 0, fieldValues: 0 };
  const ids = customerIds as string[];
  const contacts = await sql`
    DELETE FROM contact_points WHERE workspace_id = ${workspaceId} AND customer_id = ANY(${ids}::uuid[])`.execute(
    tx,
  );
  const identities = await sql`
    DELETE FROM customer_identities WHERE workspace_id = ${workspaceId} AND customer_id = ANY(${ids}::uuid[])`.execute(
    tx,
  );
  const values = await sql`
    DELETE FROM customer_field_values WHERE workspace_id = ${workspaceId} AND customer_id = ANY(${ids}::uuid[])`.execute(
    tx,
  );
  await sql`
    UPDATE customers SET given_name = NULL, family_name = NULL, preferred_name = NULL, language = NULL,
      birth_date = NULL, updated_at = now()
    WHERE workspace_id = ${workspaceId} AND id = ANY(${ids}::uuid[])`.execute(tx);
  return {
    contactPoints: Number(contacts.numAffectedRows ?? 0n),
    identities: Number(identities.numAffectedRows ?? 0n),
    fieldValues: Number(values.numAffectedRows ?? 0n),
  };
}

async function hashesOf(
  tx: Tx,
  workspaceId: string,
  identifiers: readonly SuppressibleIdentifier[],
): Promise<{ kind: string; hash: string }[]> {
  if (identifiers.length === 0) return [];
  const secret = await getWorkspaceSecret(tx, workspaceId, 'identity_hash');
  return identifiers.map((i) => ({ kind: i.kind, hash: keyedHash(secret, `suppressed.${i.kind}`, i.value) }));
}

/** Adds identifiers to the suppression list (keyed hashes only); answers how many were new. */
export async function suppressIdentifiers(
  tx: Tx,
  workspaceId: string,
  identifiers: readonly SuppressibleIdentifier[],
  options: { requestId: string | null; now: Date },
): Promise<number> {
  const hashed = await hashesOf(tx, workspaceId, identifiers);
  if (hashed.length === 0) return 0;
  const rows = await tx
    .insertInto('suppressed_identities')
    .values(
      hashed.map((h) => ({
        workspace_id: workspaceId,
        hash: h.hash,
        kind: h.kind,
        request_id: options.requestId,
        suppressed_at: options.now,
      })),
    )
    .onConflict((oc) => oc.columns(['workspace_id', 'hash']).doNothing())
    .returning('hash')
    .execute();
  return rows.length;
}

/**
 * Lifts the suppression of identifiers (the person returns by their own choice); answers how many
 * were lifted.
 */
export async function liftSuppression(
  tx: Tx,
  workspaceId: string,
  identifiers: readonly SuppressibleIdentifier[],
): Promise<number> {
  const hashed = await hashesOf(tx, workspaceId, identifiers);
  if (hashed.length === 0) return 0;
  const result = await tx
    .deleteFrom('suppressed_identities')
    .where('workspace_id', '=', workspaceId)
    .where(
      'hash',
      'in',
      hashed.map((h) => h.hash),
    )
    .executeTakeFirst();
  return Number(result.numDeletedRows);
}

/**
 * Refuses to create customers naming a suppressed identifier (CUSTOMER_SUPPRESSED, naming the kinds and
 * the inputs' positions, never the values). A workspace without suppressions pays one indexed lookup.
 */
export async function assertNotSuppressed(
  tx: Tx,
  workspaceId: string,
  inputs: readonly (readonly SuppressibleIdentifier[])[],
): Promise<void> {
  if (inputs.every((identifiers) => identifiers.length === 0)) return;
  const any = await tx
    .selectFrom('suppressed_identities')
    .select('hash')
    .where('workspace_id', '=', workspaceId)
    .limit(1)
    .executeTakeFirst();
  if (!any) return;
  const hashed = await Promise.all(inputs.map((identifiers) => hashesOf(tx, workspaceId, identifiers)));
  const all = [...new Set(hashed.flat().map((h) => h.hash))];
  if (all.length === 0) return;
  const found = new Set(
    (
      await tx
        .selectFrom('suppressed_identities')
        .select('hash')
        .where('workspace_id', '=', workspaceId)
        .where('hash', 'in', all)
        .execute()
    ).map((r) => r.hash),
  );
  if (found.size === 0) return;
  const hits = hashed.flatMap((list, index) =>
    list.filter((h) => found.has(h.hash)).map((h) => ({ index, kind: h.kind, hash: h.hash })),
  );
  throw conflict(
    'CUSTOMER_SUPPRESSED',
    'This person was erased at their request: an identifier given matches the suppression list, so the ' +
      'customer is not created again. If they return by their own choice, lift the suppression ' +
      '(`cornerstore privacy unsuppress`) and create them anew.',
    { suppressed: hits },
  );
}
