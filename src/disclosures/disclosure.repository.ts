import { sql } from 'kysely';
import type { Tx } from '../db/index.ts';
import type { Disclosure, DisclosureEntry, Recipient, RecipientKind } from './disclosure.ts';

/** SQL of recipients and the disclosure ledger. */

interface RecipientRow {
  id: string;
  name: string;
  kind: RecipientKind;
  purposes: string[];
  description: string | null;
  api_key_id: string | null;
  created_at: Date;
}

function toRecipient(row: RecipientRow): Recipient {
  return {
    id: row.id,
    name: row.name,
    kind: row.kind,
    purposes: row.purposes,
    description: row.description,
    apiKeyId: row.api_key_id,
    createdAt: new Date(row.created_at).toISOString(),
  };
}

/** Inserts a recipient; undefined when the name is taken. */
export async function insertRecipient(
  tx: Tx,
  workspaceId: string,
  recipient: Omit<Recipient, 'createdAt'>,
): Promise<Recipient | undefined> {
  const row = await tx
    .insertInto('recipients')
    .values({
      workspace_id: workspaceId,
      id: recipient.id,
      name: recipient.name,
      kind: recipient.kind,
      purposes: recipient.purposes,
      description: recipient.description,
      api_key_id: recipient.apiKeyId,
    })
    .onConflict((oc) => oc.doNothing())
    .returningAll()
    .executeTakeFirst();
  return row ? toRecipient(row) : undefined;
}

/** A recipient by id or name. */
export async function findRecipient(
  tx: Tx,
  workspaceId: string,
  by: { id: string } | { name: string } | { apiKeyId: string },
): Promise<Recipient | undefined> {
  let query = tx.selectFrom('recipients').selectAll().where('workspace_id', '=', workspaceId);
  if ('id' in by) query = query.where('id', '=', by.id);
  else if ('name' in by) query = query.where('name', '=', by.name);
  else query = query.where('api_key_id', '=', by.apiKeyId);
  const row = await query.executeTakeFirst();
  return row ? toRecipient(row) : undefined;
}

/** Every recipient of the workspace, by name. */
export async function listRecipients(tx: Tx, workspaceId: string): Promise<Recipient[]> {
  const rows = await tx
    .selectFrom('recipients')
    .selectAll()
    .where('workspace_id', '=', workspaceId)
    .orderBy('name')
    .execute();
  return rows.map(toRecipient);
}

/** Appends disclosures in one statement. */
export async function insertDisclosures(
  tx: Tx,
  workspaceId: string,
  entries: readonly (DisclosureEntry & { id: string })[],
): Promise<void> {
  if (entries.length === 0) return;
  const rows = JSON.stringify(
    entries.map((e) => ({
      id: e.id,
      customer_id: e.customerId,
      recipient_id: e.recipientId,
      fields: [...new Set(e.fields)].sort(),
      purpose: e.purpose,
      lawful_basis: e.lawfulBasis,
      request_id: e.requestId,
    })),
  );
  await sql`
    INSERT INTO disclosures (workspace_id, id, customer_id, recipient_id, fields, purpose, lawful_basis, request_id)
    SELECT ${workspaceId}::uuid, r.id, r.customer_id, r.recipient_id, r.fields, r.purpose, r.lawful_basis, r.request_id
    FROM jsonb_to_recordset(${rows}::jsonb) AS r(id uuid, customer_id uuid, recipient_id uuid, fields text[],
         purpose text, lawful_basis text, request_id text)`.execute(tx);
}

/** A customer's disclosures, newest first. */
export async function listCustomerDisclosures(
  tx: Tx,
  workspaceId: string,
  customerId: string,
  limit: number,
): Promise<Disclosure[]> {
  const rows = await tx
    .selectFrom('disclosures as d')
    .innerJoin('recipients as r', (join) =>
      join.onRef('r.workspace_id', '=', 'd.workspace_id').onRef('r.id', '=', 'd.recipient_id'),
    )
    .select([
      'd.id',
      'd.fields',
      'd.purpose',
      'd.lawful_basis',
      'd.request_id',
      'd.disclosed_at',
      'r.id as recipient_id',
      'r.name as recipient_name',
      'r.kind as recipient_kind',
    ])
    .where('d.workspace_id', '=', workspaceId)
    .where('d.customer_id', '=', customerId)
    .orderBy('d.disclosed_at', 'desc')
    .orderBy('d.id', 'desc')
    .limit(limit)
    .execute();
  return rows.map((r) => ({
    id: r.id,
    recipient: { id: r.recipient_id, name: r.recipient_name, kind: r.recipient_kind },
    fields: r.fields,
    purpose: r.purpose,
    lawfulBasis: r.lawful_basis,
    requestId: r.request_id,
    at: new Date(r.disclosed_at).toISOString(),
  }));
}
