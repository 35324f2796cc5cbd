import { type RawBuilder, type Selectable, sql } from 'kysely';
import type { Tx } from '../db/index.ts';
import type { CustomersTable } from '../db/schema.ts';
import { parsePostalAddress } from './contact.ts';
import type {
  ContactKind,
  ContactPoint,
  ContactToAdd,
  Customer,
  FieldProvenance,
  GoldenField,
  GoldenValues,
  Identity,
  ListPosition,
} from './customer.ts';
import { FIELD_COLUMNS, GOLDEN_FIELDS, identityKey } from './customer.ts';

/**
 * All SQL of customers, identities, contact points and field provenance. Batches travel as array
 * parameters (`unnest`), never one parameter per row, so a statement's size does not grow with the batch.
 */

/** A customer's creation time as the database keeps it, to the microsecond, for keyset cursors. */
const CREATED_AT_KEY = sql<string>`to_char(c.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`;

// ---------------------------------------------------------------------------------------------------------
// Lookups by reference (the resolver's reads)
// ---------------------------------------------------------------------------------------------------------

/**
 * The customers the given ids stand for: each id that is a customer of the workspace, mapped to itself,
 * or, for a customer merged into another, to the customer that absorbed it (following later merges).
 */
export async function findExistingCustomerIds(
  tx: Tx,
  workspaceId: string,
  ids: readonly string[],
): Promise<Map<string, string>> {
  if (ids.length === 0) return new Map();
  const { rows } = await sql<{ id: string; current: string }>`
    WITH RECURSIVE chain (id, current, merged_into, depth) AS (
      SELECT c.id, c.id, c.merged_into, 0 FROM customers c
      WHERE c.workspace_id = ${workspaceId} AND c.id = ANY(${ids}::uuid[])
      UNION ALL
      SELECT chain.id, c.id, c.merged_into, chain.depth + 1
      FROM chain JOIN customers c ON c.workspace_id = ${workspaceId} AND c.id = chain.merged_into
      WHERE chain.depth < 32
    )
    SELECT id, current FROM chain WHERE merged_into IS NULL`.execute(tx);
  return new Map(rows.map((r) => [r.id, r.current]));
}

/** The owners of the given identities, keyed by `identityKey`. */
export async function findIdentityOwners(
  tx: Tx,
  workspaceId: string,
  identities: readonly Identity[],
): Promise<Map<string, string>> {
  if (identities.length === 0) return new Map();
  const { rows } = await sql<{ source: string; external_id: string; customer_id: string }>`
    SELECT i.source, i.external_id, i.customer_id
    FROM unnest(${identities.map((i) => i.source)}::text[], ${identities.map((i) => i.externalId)}::text[])
      AS r(source, external_id)
    JOIN customer_identities i
      ON i.workspace_id = ${workspaceId} AND i.source = r.source AND i.external_id = r.external_id`.execute(
    tx,
  );
  return new Map(
    rows.map((r) => [identityKey({ source: r.source, externalId: r.external_id }), r.customer_id]),
  );
}

/** A map key for a contact point. */
export function contactKey(kind: ContactKind, value: string): string {
  return `${kind}:${value}`;
}

/**
 * The customer each contact point belongs to, keyed by `contactKey`; a value several customers share
 * goes to the oldest of them (with `preferVerified`, to the oldest holding it verified, if any).
 */
export async function findContactOwners(
  tx: Tx,
  workspaceId: string,
  contacts: readonly { kind: ContactKind; value: string }[],
  preferVerified = false,
): Promise<Map<string, string>> {
  if (contacts.length === 0) return new Map();
  const { rows } = await sql<{ kind: ContactKind; value: string; customer_id: string }>`
    SELECT DISTINCT ON (cp.kind, cp.value) cp.kind, cp.value, cp.customer_id
    FROM unnest(${contacts.map((c) => c.kind)}::text[], ${contacts.map((c) => c.value)}::text[]) AS r(kind, value)
    JOIN contact_points cp ON cp.workspace_id = ${workspaceId} AND cp.kind = r.kind AND cp.value = r.value
    JOIN customers c ON c.workspace_id = cp.workspace_id AND c.id = cp.customer_id
    ORDER BY cp.kind, cp.value, ${preferVerified ? sql`cp.verified DESC,` : sql``} c.created_at, c.id`.execute(
    tx,
  );
  return new Map(rows.map((r) => [contactKey(r.kind, r.value), r.customer_id]));
}

/**
 * Takes a transaction-level advisory lock per (workspace, contact point), in a fixed order so two
 * transactions never wait on each other in a cycle. Held until commit: whoever holds it may create the
 * customer for that value, and the next one in line sees that customer.
 */
export async function lockContactValues(
  tx: Tx,
  workspaceId: string,
  contacts: readonly { kind: ContactKind; value: string }[],
): Promise<void> {
  if (contacts.length === 0) return;
  const keys = [
    ...new Set(contacts.map((c) => `customer-contact:${workspaceId}:${c.kind}:${c.value}`)),
  ].sort();
  await sql`
    SELECT count(pg_advisory_xact_lock(hashtextextended(k, 0)))
    FROM (SELECT k FROM unnest(${keys}::text[]) WITH ORDINALITY AS t(k, n) ORDER BY n) AS ordered`.execute(
    tx,
  );
}

// ---------------------------------------------------------------------------------------------------------
// Writes
// ---------------------------------------------------------------------------------------------------------

/** Inserts customers with no golden-record fields yet (multi-row). */
export async function insertBareCustomers(
  tx: Tx,
  workspaceId: string,
  ids: readonly string[],
): Promise<void> {
  if (ids.length === 0) return;
  await sql`
    INSERT INTO customers (workspace_id, id)
    SELECT ${workspaceId}, id FROM unnest(${ids}::uuid[]) AS t(id)`.execute(tx);
}

/** Deletes customers that were created in this transaction and turned out not to be needed. */
export async function deleteBareCustomers(
  tx: Tx,
  workspaceId: string,
  ids: readonly string[],
): Promise<void> {
  if (ids.length === 0) return;
  await sql`DELETE FROM customers WHERE workspace_id = ${workspaceId} AND id = ANY(${ids}::uuid[])`.execute(
    tx,
  );
}

/** Inserts customers with their golden-record fields (multi-row). */
export async function insertCustomers(
  tx: Tx,
  workspaceId: string,
  rows: readonly { id: string; fields: GoldenValues }[],
): Promise<void> {
  if (rows.length === 0) return;
  const col = (field: GoldenField) => rows.map((r) => r.fields[field] ?? null);
  await sql`
    INSERT INTO customers (workspace_id, id, given_name, family_name, preferred_name, language, birth_date)
    SELECT ${workspaceId}, id, given_name, family_name, preferred_name, language, birth_date
    FROM unnest(
      ${rows.map((r) => r.id)}::uuid[], ${col('givenName')}::text[], ${col('familyName')}::text[],
      ${col('preferredName')}::text[], ${col('language')}::text[], ${col('birthDate')}::date[]
    ) AS t(id, given_name, family_name, preferred_name, language, birth_date)`.execute(tx);
}

/** A customer's golden-record fields, locked for update; undefined when there is no such customer. */
export async function findCustomerFieldsForUpdate(
  tx: Tx,
  workspaceId: string,
  id: string,
): Promise<Record<GoldenField, string | null> | undefined> {
  const row = await tx
    .selectFrom('customers')
    .select(['given_name', 'family_name', 'preferred_name', 'language', 'birth_date'])
    .where('workspace_id', '=', workspaceId)
    .where('id', '=', id)
    .forUpdate()
    .executeTakeFirst();
  return (
    row && {
      givenName: row.given_name,
      familyName: row.family_name,
      preferredName: row.preferred_name,
      language: row.language,
      birthDate: row.birth_date,
    }
  );
}

/** Sets golden-record fields (and always `updated_at`). */
export async function updateCustomerFields(
  tx: Tx,
  workspaceId: string,
  id: string,
  fields: GoldenValues,
): Promise<void> {
  const set: Partial<Record<(typeof FIELD_COLUMNS)[GoldenField], string | null>> = {};
  for (const field of GOLDEN_FIELDS) {
    const value = fields[field];
    if (value !== undefined) set[FIELD_COLUMNS[field]] = value;
  }
  await tx
    .updateTable('customers')
    .set({ ...set, updated_at: sql<Date>`now()` })
    .where('workspace_id', '=', workspaceId)
    .where('id', '=', id)
    .execute();
}

/** One golden-record field value with where it came from. */
export interface FieldValueRow {
  id: string;
  customerId: string;
  field: GoldenField;
  value: string | null;
  source: string;
  capturedBy: string;
  capturedAt: string;
  interactionId: string | null;
  confidence: number;
}

/** Records new current field values, superseding the current ones of the same customer and field. */
export async function recordFieldValues(
  tx: Tx,
  workspaceId: string,
  rows: readonly FieldValueRow[],
): Promise<void> {
  if (rows.length === 0) return;
  await sql`
    UPDATE customer_field_values f SET superseded_at = now()
    FROM unnest(${rows.map((r) => r.customerId)}::uuid[], ${rows.map((r) => r.field)}::text[]) AS r(customer_id, field)
    WHERE f.workspace_id = ${workspaceId} AND f.customer_id = r.customer_id AND f.field = r.field
      AND f.superseded_at IS NULL`.execute(tx);
  await insertFieldValues(tx, workspaceId, rows, null);
}

async function insertFieldValues(
  tx: Tx,
  workspaceId: string,
  rows: readonly FieldValueRow[],
  recordedAt: readonly string[] | null,
): Promise<void> {
  await sql`
    INSERT INTO customer_field_values
      (workspace_id, id, customer_id, field, value, source, captured_by, captured_at, interaction_id, confidence,
       recorded_at)
    SELECT ${workspaceId}, id, customer_id, field, to_jsonb(value), source, captured_by, captured_at, interaction_id,
      confidence, coalesce(recorded_at, now())
    FROM unnest(
      ${rows.map((r) => r.id)}::uuid[], ${rows.map((r) => r.customerId)}::uuid[], ${rows.map((r) => r.field)}::text[],
      ${rows.map((r) => r.value)}::text[], ${rows.map((r) => r.source)}::text[], ${rows.map((r) => r.capturedBy)}::text[],
      ${rows.map((r) => r.capturedAt)}::timestamptz[], ${rows.map((r) => r.interactionId)}::uuid[],
      ${rows.map((r) => r.confidence)}::real[], ${recordedAt ?? rows.map(() => null)}::timestamptz[]
    ) AS t(id, customer_id, field, value, source, captured_by, captured_at, interaction_id, confidence, recorded_at)`.execute(
    tx,
  );
}

/** A contact point to insert. */
export interface ContactPointRow extends ContactToAdd {
  id: string;
  customerId: string;
  source: string;
  /** Kept on restore; now() otherwise. */
  createdAt?: string | undefined;
  /** Validity kept on restore (addresses of a move); open otherwise. */
  validFrom?: string | undefined;
  validUntil?: string | undefined;
}

/**
 * Adds contact points (multi-row); one a customer already has keeps its source and becomes verified
 * when the new one is.
 */
export async function upsertContactPoints(
  tx: Tx,
  workspaceId: string,
  rows: readonly ContactPointRow[],
): Promise<void> {
  if (rows.length === 0) return;
  await sql`
    INSERT INTO contact_points (workspace_id, id, customer_id, kind, value, verified, source, created_at,
      valid_from, valid_until)
    SELECT ${workspaceId}, id, customer_id, kind, value, verified, source, coalesce(created_at, now()),
      valid_from, valid_until
    FROM unnest(
      ${rows.map((r) => r.id)}::uuid[], ${rows.map((r) => r.customerId)}::uuid[], ${rows.map((r) => r.kind)}::text[],
      ${rows.map((r) => r.value)}::text[], ${rows.map((r) => r.verified)}::boolean[], ${rows.map((r) => r.source)}::text[],
      ${rows.map((r) => r.createdAt ?? null)}::timestamptz[], ${rows.map((r) => r.validFrom ?? null)}::timestamptz[],
      ${rows.map((r) => r.validUntil ?? null)}::timestamptz[]
    ) AS t(id, customer_id, kind, value, verified, source, created_at, valid_from, valid_until)
    ON CONFLICT (workspace_id, customer_id, kind, value)
    DO UPDATE SET verified = contact_points.verified OR excluded.verified`.execute(tx);
}

/** Removes contact points from one customer. */
export async function deleteContactPoints(
  tx: Tx,
  workspaceId: string,
  customerId: string,
  contacts: readonly { kind: ContactKind; value: string }[],
): Promise<void> {
  if (contacts.length === 0) return;
  await sql`
    DELETE FROM contact_points cp
    USING unnest(${contacts.map((c) => c.kind)}::text[], ${contacts.map((c) => c.value)}::text[]) AS r(kind, value)
    WHERE cp.workspace_id = ${workspaceId} AND cp.customer_id = ${customerId}
      AND cp.kind = r.kind AND cp.value = r.value`.execute(tx);
}

/** An identity to attach to a customer. */
export interface IdentityRow extends Identity {
  customerId: string;
  /** Kept on restore; now() otherwise. */
  createdAt?: string | undefined;
}

/**
 * Attaches identities that no one holds yet (multi-row, `ON CONFLICT DO NOTHING`) and returns the keys
 * (`identityKey`) of those this statement attached; the others already belonged to someone, or were
 * attached by a concurrent transaction that committed first.
 */
export async function claimIdentities(
  tx: Tx,
  workspaceId: string,
  rows: readonly IdentityRow[],
): Promise<Set<string>> {
  if (rows.length === 0) return new Set();
  // Sorted, so concurrent claimers of overlapping sets take the unique-index locks in the same order.
  const sorted = [...rows].sort((a, b) => compare(a.source, b.source) || compare(a.externalId, b.externalId));
  const { rows: claimed } = await sql<{ source: string; external_id: string }>`
    INSERT INTO customer_identities (workspace_id, source, external_id, customer_id, created_at)
    SELECT ${workspaceId}, source, external_id, customer_id, coalesce(created_at, now())
    FROM unnest(
      ${sorted.map((r) => r.source)}::text[], ${sorted.map((r) => r.externalId)}::text[],
      ${sorted.map((r) => r.customerId)}::uuid[], ${sorted.map((r) => r.createdAt ?? null)}::timestamptz[]
    ) WITH ORDINALITY AS t(source, external_id, customer_id, created_at, n)
    ORDER BY n
    ON CONFLICT DO NOTHING
    RETURNING source, external_id`.execute(tx);
  return new Set(claimed.map((r) => identityKey({ source: r.source, externalId: r.external_id })));
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Detaches identities from one customer (never from anyone else). */
export async function deleteIdentities(
  tx: Tx,
  workspaceId: string,
  customerId: string,
  identities: readonly Identity[],
): Promise<void> {
  if (identities.length === 0) return;
  await sql`
    DELETE FROM customer_identities ci
    USING unnest(${identities.map((i) => i.source)}::text[], ${identities.map((i) => i.externalId)}::text[])
      AS r(source, external_id)
    WHERE ci.workspace_id = ${workspaceId} AND ci.customer_id = ${customerId}
      AND ci.source = r.source AND ci.external_id = r.external_id`.execute(tx);
}

// ---------------------------------------------------------------------------------------------------------
// Reads of whole customers
// ---------------------------------------------------------------------------------------------------------

function iso(value: Date | string): string {
  return (value instanceof Date ? value : new Date(value)).toISOString();
}

/** A field value with when it was superseded (null while current). */
export type HistoricFieldValue = StoredFieldValue & { supersededAt: string | null };

function selectFieldValues(tx: Tx, workspaceId: string) {
  return tx
    .selectFrom('customer_field_values')
    .select([
      'id',
      'customer_id',
      'field',
      sql<string | null>`value #>> '{}'`.as('value'),
      'source',
      'captured_by',
      'captured_at',
      'interaction_id',
      'confidence',
      'recorded_at',
      'superseded_at',
    ])
    .where('workspace_id', '=', workspaceId);
}

function toFieldValue(r: FieldValueSelection | ChildFieldValueRow): HistoricFieldValue {
  return {
    id: r.id,
    customerId: r.customer_id,
    field: r.field as GoldenField,
    value: r.value,
    source: r.source,
    capturedBy: r.captured_by,
    capturedAt: iso(r.captured_at),
    interactionId: r.interaction_id,
    confidence: r.confidence,
    recordedAt: iso(r.recorded_at),
    supersededAt: r.superseded_at === null ? null : iso(r.superseded_at),
  };
}

interface Children {
  contacts: Map<string, ContactPoint[]>;
  identities: Map<string, (Identity & { createdAt: string })[]>;
  provenance: Map<string, StoredFieldValue[]>;
}

/** A current field-value row as stored. */
export interface StoredFieldValue extends FieldValueRow {
  recordedAt: string;
}

function push<T>(map: Map<string, T[]>, key: string, value: T): void {
  const list = map.get(key);
  if (list) list.push(value);
  else map.set(key, [value]);
}

/** Children rows as the one statement of `loadChildren` returns them (times as JSON strings). */
interface ChildContactRow {
  id: string;
  customer_id: string;
  kind: ContactPoint['kind'];
  value: string;
  verified: boolean;
  source: string;
  created_at: string;
  valid_from: string | null;
  valid_until: string | null;
}
interface ChildIdentityRow {
  source: string;
  external_id: string;
  customer_id: string;
  created_at: string;
}
type FieldValueSelection = Awaited<ReturnType<ReturnType<typeof selectFieldValues>['execute']>>[number];
type ChildFieldValueRow = Omit<FieldValueSelection, 'captured_at' | 'recorded_at' | 'superseded_at'> & {
  captured_at: string;
  recorded_at: string;
  superseded_at: string | null;
};

async function loadChildren(
  tx: Tx,
  workspaceId: string,
  ids: readonly string[],
): Promise<Children & { contactIds: Map<string, string> }> {
  // One statement for the three kinds of children: every customer read (a search page, a 360) pays one
  // round trip and one plan for them, not three. Rows come back as JSON arrays in the order asked.
  const { rows } = await sql<{
    contacts: ChildContactRow[] | null;
    identities: ChildIdentityRow[] | null;
    field_values: ChildFieldValueRow[] | null;
  }>`
    SELECT
      (SELECT json_agg(c ORDER BY c.created_at, c.id) FROM (
         SELECT id, customer_id, kind, value, verified, source, created_at, valid_from, valid_until
         FROM contact_points WHERE workspace_id = ${workspaceId} AND customer_id = ANY(${ids}::uuid[])) c) AS contacts,
      (SELECT json_agg(i ORDER BY i.created_at, i.source, i.external_id) FROM (
         SELECT source, external_id, customer_id, created_at FROM customer_identities
         WHERE workspace_id = ${workspaceId} AND customer_id = ANY(${ids}::uuid[])) i) AS identities,
      (SELECT json_agg(v ORDER BY v.field) FROM (
         SELECT id, customer_id, field, value #>> '{}' AS value, source, captured_by, captured_at,
                interaction_id, confidence, recorded_at, superseded_at
         FROM customer_field_values
         WHERE workspace_id = ${workspaceId} AND customer_id = ANY(${ids}::uuid[]) AND superseded_at IS NULL) v)
        AS field_values`.execute(tx);
  const contacts = rows[0]?.contacts ?? [];
  const identities = rows[0]?.identities ?? [];
  const values = rows[0]?.field_values ?? [];
  const out: Children & { contactIds: Map<string, string> } = {
    contacts: new Map(),
    identities: new Map(),
    provenance: new Map(),
    contactIds: new Map(),
  };
  for (const r of contacts) {
    push(out.contacts, r.customer_id, {
      kind: r.kind,
      value: r.value,
      verified: r.verified,
      source: r.source,
      createdAt: iso(r.created_at),
      ...(r.valid_from === null ? {} : { validFrom: iso(r.valid_from) }),
      ...(r.valid_until === null ? {} : { validUntil: iso(r.valid_until) }),
    });
    out.contactIds.set(`${r.customer_id}:${contactKey(r.kind, r.value)}`, r.id);
  }
  for (const r of identities) {
    push(out.identities, r.customer_id, {
      source: r.source,
      externalId: r.external_id,
      createdAt: iso(r.created_at),
    });
  }
  for (const r of values) push(out.provenance, r.customer_id, toFieldValue(r));
  return out;
}

/** The address contact points valid at `at`, the most recent `validFrom` first. */
export function currentAddresses(points: readonly ContactPoint[], at: Date): ContactPoint[] {
  const t = at.getTime();
  return points
    .filter(
      (c) =>
        c.kind === 'address' &&
        (c.validFrom === undefined || Date.parse(c.validFrom) <= t) &&
        (c.validUntil === undefined || Date.parse(c.validUntil) > t),
    )
    .map((c, i) => ({ c, i }))
    .sort((a, b) => (b.c.validFrom ?? '').localeCompare(a.c.validFrom ?? '') || a.i - b.i)
    .map(({ c }) => c);
}

function toCustomer(row: Selectable<CustomersTable>, children: Children): Customer {
  const contactPoints = children.contacts.get(row.id) ?? [];
  const provenance: Partial<Record<GoldenField, FieldProvenance>> = {};
  for (const v of children.provenance.get(row.id) ?? []) {
    provenance[v.field] = {
      source: v.source,
      capturedAt: v.capturedAt,
      capturedBy: v.capturedBy,
      interactionId: v.interactionId,
      confidence: v.confidence,
    };
  }
  return {
    id: row.id,
    givenName: row.given_name,
    familyName: row.family_name,
    preferredName: row.preferred_name,
    language: row.language,
    birthDate: row.birth_date,
    emails: contactPoints.filter((c) => c.kind === 'email').map((c) => c.value),
    phones: contactPoints.filter((c) => c.kind === 'phone').map((c) => c.value),
    // The addresses valid now, the newest move first: a past address (or one not moved into yet) stays
    // in `contactPoints` with its validity, never in what a form is prefilled with.
    addresses: currentAddresses(contactPoints, new Date()).map((c) => parsePostalAddress(c.value)),
    identities: (children.identities.get(row.id) ?? []).map((i) => ({
      source: i.source,
      externalId: i.externalId,
    })),
    contactPoints,
    provenance,
    createdAt: iso(row.created_at),
    updatedAt: iso(row.updated_at),
  };
}

/** Whole customers (fields, contact points, identities, current provenance), in the order of `ids`. */
export async function loadCustomers(
  tx: Tx,
  workspaceId: string,
  ids: readonly string[],
): Promise<Customer[]> {
  if (ids.length === 0) return [];
  const rows = await tx
    .selectFrom('customers')
    .selectAll()
    .where('workspace_id', '=', workspaceId)
    .where(sql<boolean>`id = ANY(${ids}::uuid[])`)
    .where(sql<boolean>`merged_into IS NULL`)
    .execute();
  const children = await loadChildren(tx, workspaceId, ids);
  const byId = new Map(rows.map((r) => [r.id, toCustomer(r, children)]));
  return ids.flatMap((id) => byId.get(id) ?? []);
}

/** Field-value history of one customer, newest first (current and superseded rows). */
export async function listFieldHistory(
  tx: Tx,
  workspaceId: string,
  customerId: string,
): Promise<HistoricFieldValue[]> {
  const rows = await selectFieldValues(tx, workspaceId)
    .where('customer_id', '=', customerId)
    .orderBy('recorded_at', 'desc')
    .orderBy('id', 'desc')
    .execute();
  return rows.map(toFieldValue);
}

// ---------------------------------------------------------------------------------------------------------
// Listing and search
// ---------------------------------------------------------------------------------------------------------

/** Exact filters of the list and search. */
export interface CustomerFilters {
  email?: string | undefined;
  phone?: string | undefined;
  identitySource?: string | undefined;
  externalId?: string | undefined;
  /**
   * Conditions on `c` (the customers row) from the caller: the compiled access decision, so a list never
   * holds a customer the purpose may not process.
   */
  where?: readonly RawBuilder<unknown>[] | undefined;
}

function filterConditions(workspaceId: string, filters: CustomerFilters): RawBuilder<unknown>[] {
  // A customer merged into another reads as not found, so lists and searches never count it: a page
  // holds `limit` readable customers whenever that many are left.
  const conditions: RawBuilder<unknown>[] = [
    sql`c.workspace_id = ${workspaceId}`,
    sql`c.merged_into IS NULL`,
    ...(filters.where ?? []),
  ];
  for (const [kind, value] of [
    ['email', filters.email],
    ['phone', filters.phone],
  ] as const) {
    if (value === undefined) continue;
    conditions.push(sql`EXISTS (
      SELECT 1 FROM contact_points cp
      WHERE cp.workspace_id = c.workspace_id AND cp.customer_id = c.id AND cp.kind = ${kind} AND cp.value = ${value})`);
  }
  if (filters.identitySource !== undefined || filters.externalId !== undefined) {
    conditions.push(sql`EXISTS (
      SELECT 1 FROM customer_identities ci
      WHERE ci.workspace_id = c.workspace_id AND ci.customer_id = c.id
        ${filters.identitySource === undefined ? sql`` : sql`AND ci.source = ${filters.identitySource}`}
        ${filters.externalId === undefined ? sql`` : sql`AND ci.external_id = ${filters.externalId}`})`);
  }
  return conditions;
}

/** One page of customer ids in creation order, after `after`, with the position of each. */
export async function listCustomerIds(
  tx: Tx,
  workspaceId: string,
  options: { after: ListPosition | null; limit: number; filters: CustomerFilters },
): Promise<{ id: string; createdAt: string }[]> {
  const conditions = filterConditions(workspaceId, options.filters);
  if (options.after) {
    conditions.push(
      sql`(c.created_at, c.id) > (${options.after.createdAt}::timestamptz, ${options.after.id}::uuid)`,
    );
  }
  const { rows } = await sql<{ id: string; created_at_key: string }>`
    SELECT c.id, ${CREATED_AT_KEY} AS created_at_key
    FROM customers c
    WHERE ${sql.join(conditions, sql` AND `)}
    ORDER BY c.created_at, c.id
    LIMIT ${options.limit}`.execute(tx);
  return rows.map((r) => ({ id: r.id, createdAt: r.created_at_key }));
}

/** What a search matches on: the name (typo-tolerant), and exact emails, phones and external ids. */
export interface SearchTerms {
  name: string;
  email?: string | undefined;
  phone?: string | undefined;
  externalId?: string | undefined;
}

/** The lowest name similarity a search still shows ("Jonh Smiht" is 0.29 from "John Smith"). */
const NAME_SIMILARITY_THRESHOLD = '0.2';
/** Exact matches on an email, phone or external id rank above any name match. */
const EXACT_MATCH_SCORE = 2;

/**
 * One page of customer ids ranked by how well they match: exact email, phone or external-id matches
 * first, then by trigram similarity of the name; ties in creation order.
 */
export async function searchCustomerIds(
  tx: Tx,
  workspaceId: string,
  options: { terms: SearchTerms; filters: CustomerFilters; offset: number; limit: number },
): Promise<{ id: string; score: number }[]> {
  const { terms } = options;
  // Read by the trigram index's `%` operator; LOCAL, so it ends with this transaction.
  await sql`SELECT set_config('pg_trgm.similarity_threshold', ${NAME_SIMILARITY_THRESHOLD}, true)`.execute(
    tx,
  );
  const branches: RawBuilder<unknown>[] = [];
  if (terms.name.length > 0) {
    branches.push(sql`
      SELECT id AS customer_id, similarity(search_name, ${terms.name}) AS score
      FROM customers WHERE workspace_id = ${workspaceId} AND search_name % ${terms.name}`);
  }
  for (const [kind, value] of [
    ['email', terms.email],
    ['phone', terms.phone],
  ] as const) {
    if (value === undefined) continue;
    branches.push(sql`
      SELECT customer_id, ${EXACT_MATCH_SCORE}::real AS score FROM contact_points
      WHERE workspace_id = ${workspaceId} AND kind = ${kind} AND value = ${value}`);
  }
  if (terms.externalId !== undefined && terms.externalId.length > 0) {
    branches.push(sql`
      SELECT customer_id, ${EXACT_MATCH_SCORE}::real AS score FROM customer_identities
      WHERE workspace_id = ${workspaceId} AND external_id = ${terms.externalId}`);
  }
  if (branches.length === 0) return [];
  const conditions = filterConditions(workspaceId, options.filters);
  const { rows } = await sql<{ id: string; score: number }>`
    WITH candidates AS (${sql.join(branches, sql` UNION ALL `)}),
    ranked AS (SELECT customer_id, max(score) AS score FROM candidates GROUP BY customer_id)
    SELECT c.id, r.score
    FROM ranked r JOIN customers c ON c.workspace_id = ${workspaceId} AND c.id = r.customer_id
    WHERE ${sql.join(conditions, sql` AND `)}
    ORDER BY r.score DESC, c.created_at, c.id
    OFFSET ${options.offset} LIMIT ${options.limit}`.execute(tx);
  return rows.map((r) => ({ id: r.id, score: Number(r.score) }));
}

// ---------------------------------------------------------------------------------------------------------
// Export and restore
// ---------------------------------------------------------------------------------------------------------

/** A customer row as exported: fields and times, with its children. */
export interface ExportRow {
  row: Selectable<CustomersTable>;
  contactPoints: (ContactPoint & { id: string })[];
  identities: (Identity & { createdAt: string })[];
  provenance: StoredFieldValue[];
}

/**
 * The next customers of the transaction's workspace after `afterId`, by id, with everything about them;
 * `where` holds the caller's conditions on `c` (the compiled access decision).
 */
export async function listExportRows(
  tx: Tx,
  afterId: string | null,
  limit: number,
  where: readonly RawBuilder<unknown>[] = [],
): Promise<ExportRow[]> {
  let query = tx
    .selectFrom('customers as c')
    .selectAll('c')
    .where(sql<boolean>`c.workspace_id = cornerstore_workspace()`)
    .orderBy('c.id')
    .limit(limit);
  for (const condition of where) query = query.where(sql<boolean>`${condition}`);
  if (afterId !== null) query = query.where('c.id', '>', afterId);
  const rows = await query.execute();
  const workspaceId = rows[0]?.workspace_id;
  if (workspaceId === undefined) return [];
  const children = await loadChildren(
    tx,
    workspaceId,
    rows.map((r) => r.id),
  );
  return rows.map((row) => ({
    row,
    contactPoints: (children.contacts.get(row.id) ?? []).map((c) => ({
      ...c,
      id: children.contactIds.get(`${row.id}:${contactKey(c.kind, c.value)}`) ?? '',
    })),
    identities: children.identities.get(row.id) ?? [],
    provenance: children.provenance.get(row.id) ?? [],
  }));
}

/** A customer to restore with its id and times. */
export interface RestoreCustomerRow {
  id: string;
  fields: Record<GoldenField, string | null>;
  createdAt: string;
  updatedAt: string;
}

/** Inserts customers with their ids and times, skipping ids the workspace already has; returns those inserted. */
export async function insertRestoredCustomers(
  tx: Tx,
  workspaceId: string,
  rows: readonly RestoreCustomerRow[],
): Promise<Set<string>> {
  if (rows.length === 0) return new Set();
  const { rows: inserted } = await sql<{ id: string }>`
    INSERT INTO customers
      (workspace_id, id, given_name, family_name, preferred_name, language, birth_date, created_at, updated_at)
    SELECT ${workspaceId}, id, given_name, family_name, preferred_name, language, birth_date, created_at, updated_at
    FROM unnest(
      ${rows.map((r) => r.id)}::uuid[], ${rows.map((r) => r.fields.givenName)}::text[],
      ${rows.map((r) => r.fields.familyName)}::text[], ${rows.map((r) => r.fields.preferredName)}::text[],
      ${rows.map((r) => r.fields.language)}::text[], ${rows.map((r) => r.fields.birthDate)}::date[],
      ${rows.map((r) => r.createdAt)}::timestamptz[], ${rows.map((r) => r.updatedAt)}::timestamptz[]
    ) AS t(id, given_name, family_name, preferred_name, language, birth_date, created_at, updated_at)
    ON CONFLICT (workspace_id, id) DO NOTHING
    RETURNING id`.execute(tx);
  return new Set(inserted.map((r) => r.id));
}

/** Inserts restored current field values as they were recorded. */
export async function insertRestoredFieldValues(
  tx: Tx,
  workspaceId: string,
  rows: readonly StoredFieldValue[],
): Promise<void> {
  if (rows.length === 0) return;
  await insertFieldValues(
    tx,
    workspaceId,
    rows,
    rows.map((r) => r.recordedAt),
  );
}

/**
 * A move: the customer's addresses holding at `movedAt` end then, and `value` (canonical JSON) holds
 * from then on — added, or reopened when the customer lived there before. One statement each.
 */
export async function recordAddressMove(
  tx: Tx,
  workspaceId: string,
  customerId: string,
  move: { id: string; value: string; movedAt: string; source: string; verified: boolean },
): Promise<void> {
  await sql`
    UPDATE contact_points SET valid_until = ${move.movedAt}::timestamptz
    WHERE workspace_id = ${workspaceId} AND customer_id = ${customerId} AND kind = 'address'
      AND value <> ${move.value}
      AND (valid_until IS NULL OR valid_until > ${move.movedAt}::timestamptz)
      AND (valid_from IS NULL OR valid_from < ${move.movedAt}::timestamptz)`.execute(tx);
  await sql`
    INSERT INTO contact_points (workspace_id, id, customer_id, kind, value, verified, source, valid_from)
    VALUES (${workspaceId}, ${move.id}, ${customerId}, 'address', ${move.value}, ${move.verified}, ${move.source},
            ${move.movedAt}::timestamptz)
    ON CONFLICT (workspace_id, customer_id, kind, value) DO UPDATE
    SET valid_from = excluded.valid_from, valid_until = NULL,
        verified = contact_points.verified OR excluded.verified`.execute(tx);
}
