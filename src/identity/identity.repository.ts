import { sql } from 'kysely';
import type { Tx } from '../db/index.ts';
import type { MatchExplanation } from './matcher.ts';
import type { ConsentStateImage, DecisionLabel, MergedField } from './merge.ts';

/**
 * All SQL of identity resolution in the database: the records the engine compares, merges and their
 * before-images, unmerges, the review queue, decisions. Merges write the tables of
 * customers (golden fields, provenance, identities, contact points), interactions and the consent
 * projection, because moving a person's data between customers is what a merge is; the ledgers
 * (consent records, intimacy and privacy-flag changes, disclosures, audit) are never rewritten.
 * Times travel as text with microseconds, so a restored row is the row that was there.
 */

/** A timestamp as text to the microsecond (UTC), which restores exactly through `::timestamptz`. */
const micro = (column: string) =>
  sql<string>`to_char(${sql.ref(column)} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`;
const microOrNull = (column: string) =>
  sql<
    string | null
  >`CASE WHEN ${sql.ref(column)} IS NULL THEN NULL ELSE to_char(${sql.ref(column)} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') END`;

const FIELD_COLUMN: Record<MergedField, string> = {
  givenName: 'given_name',
  familyName: 'family_name',
  preferredName: 'preferred_name',
  language: 'language',
  birthDate: 'birth_date',
};

// ---------------------------------------------------------------------------------------------------------
// Records for the engine
// ---------------------------------------------------------------------------------------------------------

/** What the engine compares of one active (not merged) customer. */
export interface CustomerForMatching {
  id: string;
  givenName: string | null;
  familyName: string | null;
  birthDate: string | null;
  birthDateSource: string | null;
  createdAt: string;
  /** When the customer last changed (a merge, a patch, a new contact point). */
  updatedAt: string;
  /** Verified first, then oldest. */
  emails: string[];
  phones: string[];
  /** `government_id.<kind>` identities: kind and keyed hash. */
  governmentIds: { kind: string; hash: string }[];
}

/** Every active customer of the workspace with what the engine compares, oldest first. */
export async function listCustomersForMatching(
  tx: Tx,
  workspaceId: string,
  governmentIdPrefix: string,
): Promise<CustomerForMatching[]> {
  const { rows: customers } = await sql<{
    id: string;
    given_name: string | null;
    family_name: string | null;
    birth_date: string | null;
    created_at: string;
    updated_at: string;
  }>`
    SELECT id, given_name, family_name, birth_date::text AS birth_date, ${micro('created_at')} AS created_at,
      ${micro('updated_at')} AS updated_at
    FROM customers WHERE workspace_id = ${workspaceId} AND merged_into IS NULL
    ORDER BY created_at, id`.execute(tx);
  const { rows: contacts } = await sql<{ customer_id: string; kind: 'email' | 'phone'; value: string }>`
    SELECT cp.customer_id, cp.kind, cp.value FROM contact_points cp
    WHERE cp.workspace_id = ${workspaceId}
    ORDER BY cp.customer_id, cp.verified DESC, cp.created_at, cp.id`.execute(tx);
  const { rows: identities } = await sql<{ customer_id: string; source: string; external_id: string }>`
    SELECT customer_id, source, external_id FROM customer_identities
    WHERE workspace_id = ${workspaceId} AND starts_with(source, ${governmentIdPrefix})
    ORDER BY customer_id, source, external_id`.execute(tx);
  const { rows: births } = await sql<{ customer_id: string; source: string }>`
    SELECT customer_id, source FROM customer_field_values
    WHERE workspace_id = ${workspaceId} AND field = 'birthDate' AND superseded_at IS NULL`.execute(tx);
  const byId = new Map<string, CustomerForMatching>();
  for (const c of customers) {
    byId.set(c.id, {
      id: c.id,
      givenName: c.given_name,
      familyName: c.family_name,
      birthDate: c.birth_date,
      birthDateSource: null,
      createdAt: c.created_at,
      updatedAt: c.updated_at,
      emails: [],
      phones: [],
      governmentIds: [],
    });
  }
  for (const cp of contacts) {
    const c = byId.get(cp.customer_id);
    if (c) (cp.kind === 'email' ? c.emails : c.phones).push(cp.value);
  }
  for (const i of identities) {
    byId.get(i.customer_id)?.governmentIds.push({
      kind: i.source.slice(governmentIdPrefix.length),
      hash: i.external_id,
    });
  }
  for (const b of births) {
    const c = byId.get(b.customer_id);
    if (c) c.birthDateSource = b.source;
  }
  return [...byId.values()];
}

/**
 * What one source system says about one active customer: the engine's unit of comparison in a workspace.
 * A customer made of several systems' records is several of these, so a resolution compares what each
 * system holds (as the offline engine compares records), and a rerun over merged customers sees the same
 * records as the run that merged them.
 */
export interface SourceRecordForMatching {
  customerId: string;
  source: string;
  givenName: string | null;
  familyName: string | null;
  birthDate: string | null;
  /** Newest first. */
  emails: string[];
  phones: string[];
  /** Canonical JSON of each postal address, newest first. */
  addresses: string[];
}

/**
 * Every (active customer, source) pair with that source's latest value of each compared field (a value
 * a merge's survivorship superseded still says what its source holds) and its contact points; ordered by
 * customer age, then source.
 */
export async function listSourceRecordsForMatching(
  tx: Tx,
  workspaceId: string,
): Promise<SourceRecordForMatching[]> {
  const { rows: values } = await sql<{
    customer_id: string;
    source: string;
    field: string;
    value: string | null;
  }>`
    SELECT DISTINCT ON (v.customer_id, v.source, v.field) v.customer_id, v.source, v.field, v.value #>> '{}' AS value
    FROM customer_field_values v
    JOIN customers c ON c.workspace_id = v.workspace_id AND c.id = v.customer_id AND c.merged_into IS NULL
    WHERE v.workspace_id = ${workspaceId} AND v.field IN ('givenName', 'familyName', 'birthDate')
    ORDER BY v.customer_id, v.source, v.field, v.recorded_at DESC, v.id DESC`.execute(tx);
  const { rows: contacts } = await sql<{
    customer_id: string;
    source: string;
    kind: 'email' | 'phone' | 'address';
    value: string;
  }>`
    SELECT cp.customer_id, cp.source, cp.kind, cp.value FROM contact_points cp
    JOIN customers c ON c.workspace_id = cp.workspace_id AND c.id = cp.customer_id AND c.merged_into IS NULL
    WHERE cp.workspace_id = ${workspaceId}
    ORDER BY cp.customer_id, cp.source, cp.verified DESC, cp.created_at DESC, cp.id`.execute(tx);
  const { rows: created } = await sql<{ id: string }>`
    SELECT id FROM customers WHERE workspace_id = ${workspaceId} AND merged_into IS NULL
    ORDER BY created_at, id`.execute(tx);
  const records = new Map<string, SourceRecordForMatching>();
  const recordOf = (customerId: string, source: string): SourceRecordForMatching => {
    const key = `${customerId}\u0000${source}`;
    let record = records.get(key);
    if (record === undefined) {
      record = {
        customerId,
        source,
        givenName: null,
        familyName: null,
        birthDate: null,
        emails: [],
        phones: [],
        addresses: [],
      };
      records.set(key, record);
    }
    return record;
  };
  for (const v of values) {
    const record = recordOf(v.customer_id, v.source);
    if (v.field === 'givenName') record.givenName = v.value;
    else if (v.field === 'familyName') record.familyName = v.value;
    else record.birthDate = v.value;
  }
  for (const cp of contacts) {
    const record = recordOf(cp.customer_id, cp.source);
    (cp.kind === 'email' ? record.emails : cp.kind === 'phone' ? record.phones : record.addresses).push(
      cp.value,
    );
  }
  const order = new Map(created.map((c, i) => [c.id, i]));
  return [...records.values()].sort(
    (x, y) =>
      (order.get(x.customerId) ?? 0) - (order.get(y.customerId) ?? 0) ||
      (x.source < y.source ? -1 : x.source > y.source ? 1 : 0),
  );
}

/** Property prefixes by which an interaction names another: `<prefix>ExternalId` and `<prefix>Source`. */
export const REFERENCE_PREFIXES = ['related', 'order', 'shipment', 'original'] as const;

/**
 * Pairs of active customers one of whose interactions names, in its properties, an interaction or an
 * account of the other:
 * - an interaction by `<prefix>ExternalId` with `<prefix>Source` (prefixes `related`, `order`,
 *   `shipment`, `original`): the shipment of an order, the pickup of a web order in a store, the return
 *   of a purchase, the complaint about it. Without the source, the external id must name exactly one
 *   interaction of the workspace;
 * - an account by `accountId` (with `accountSource` when given): the external id of exactly one
 *   customer identity, as a membership cancelled by telephone names the billing account.
 */
export async function listInteractionLinks(tx: Tx, workspaceId: string): Promise<[string, string][]> {
  const { rows } = await sql<{ a: string; b: string }>`
    WITH refs AS (
      SELECT i.customer_id, i.properties ->> (p || 'ExternalId') AS ext, i.properties ->> (p || 'Source') AS src
      FROM interactions i, unnest(${[...REFERENCE_PREFIXES]}::text[]) AS p
      WHERE i.workspace_id = ${workspaceId} AND i.properties ? (p || 'ExternalId')
    ), accounts AS (
      SELECT DISTINCT i.customer_id, i.properties ->> 'accountId' AS ext, i.properties ->> 'accountSource' AS src
      FROM interactions i
      WHERE i.workspace_id = ${workspaceId} AND i.properties ? 'accountId'
    )
    SELECT DISTINCT r.customer_id AS a, t.customer_id AS b
    FROM refs r
    JOIN interactions t ON t.workspace_id = ${workspaceId} AND t.external_id = r.ext
      AND (r.src IS NULL OR t.source = r.src)
    WHERE t.customer_id <> r.customer_id
      AND (r.src IS NOT NULL OR NOT EXISTS (
        SELECT 1 FROM interactions o
        WHERE o.workspace_id = ${workspaceId} AND o.external_id = r.ext AND o.id <> t.id))
    UNION
    SELECT r.customer_id AS a, ci.customer_id AS b
    FROM accounts r
    JOIN customer_identities ci ON ci.workspace_id = ${workspaceId} AND ci.external_id = r.ext
      AND (r.src IS NULL OR ci.source = r.src)
    WHERE ci.customer_id <> r.customer_id
      AND (r.src IS NOT NULL OR NOT EXISTS (
        SELECT 1 FROM customer_identities o
        WHERE o.workspace_id = ${workspaceId} AND o.external_id = r.ext AND o.source <> ci.source))`.execute(
    tx,
  );
  return rows.map((r) => [r.a, r.b]);
}

/** The last workspace resolution: as of when it ran and with which thresholds. */
export async function findLastResolution(
  tx: Tx,
  workspaceId: string,
): Promise<{ asOf: string; autoThreshold: number; reviewThreshold: number } | undefined> {
  const { rows } = await sql<{ as_of: string; auto_threshold: number; review_threshold: number }>`
    SELECT ${micro('as_of')} AS as_of, auto_threshold, review_threshold FROM identity_resolutions
    WHERE workspace_id = ${workspaceId} ORDER BY as_of DESC, id DESC LIMIT 1`.execute(tx);
  const row = rows[0];
  return row && { asOf: row.as_of, autoThreshold: row.auto_threshold, reviewThreshold: row.review_threshold };
}

/** Records a workspace resolution. */
export async function insertResolution(
  tx: Tx,
  workspaceId: string,
  run: {
    id: string;
    asOf: string;
    autoThreshold: number;
    reviewThreshold: number;
    customers: number;
    merges: number;
    queued: number;
    resolvedBy: string;
  },
): Promise<void> {
  await sql`
    INSERT INTO identity_resolutions
      (workspace_id, id, as_of, auto_threshold, review_threshold, customers, merges, queued, resolved_by)
    VALUES (${workspaceId}, ${run.id}, ${run.asOf}::timestamptz, ${run.autoThreshold}, ${run.reviewThreshold},
      ${run.customers}, ${run.merges}, ${run.queued}, ${run.resolvedBy})`.execute(tx);
}

// ---------------------------------------------------------------------------------------------------------
// Before-images
// ---------------------------------------------------------------------------------------------------------

/** A customer's own columns, as a merge changes and an unmerge restores them. */
export interface CustomerImage {
  id: string;
  givenName: string | null;
  familyName: string | null;
  preferredName: string | null;
  language: string | null;
  birthDate: string | null;
  intimacyLevel: number;
  restricted: boolean;
  objections: string[];
  createdAt: string;
  updatedAt: string;
  mergedInto: string | null;
}

/** Locks customers (in id order, so two merges never wait on each other in a cycle) and reads them. */
export async function lockCustomerImages(
  tx: Tx,
  workspaceId: string,
  ids: readonly string[],
): Promise<Map<string, CustomerImage>> {
  const sorted = [...new Set(ids)].sort();
  const { rows } = await sql<{
    id: string;
    given_name: string | null;
    family_name: string | null;
    preferred_name: string | null;
    language: string | null;
    birth_date: string | null;
    intimacy_level: number;
    processing_restricted: boolean;
    objections: string[];
    created_at: string;
    updated_at: string;
    merged_into: string | null;
  }>`
    SELECT id, given_name, family_name, preferred_name, language, birth_date::text AS birth_date, intimacy_level,
      processing_restricted, objections, ${micro('created_at')} AS created_at, ${micro('updated_at')} AS updated_at,
      merged_into
    FROM customers WHERE workspace_id = ${workspaceId} AND id = ANY(${sorted}::uuid[])
    ORDER BY id
    FOR UPDATE`.execute(tx);
  return new Map(
    rows.map((r) => [
      r.id,
      {
        id: r.id,
        givenName: r.given_name,
        familyName: r.family_name,
        preferredName: r.preferred_name,
        language: r.language,
        birthDate: r.birth_date,
        intimacyLevel: r.intimacy_level,
        restricted: r.processing_restricted,
        objections: r.objections,
        createdAt: r.created_at,
        updatedAt: r.updated_at,
        mergedInto: r.merged_into,
      },
    ]),
  );
}

/** A field value row as merges see it. */
export interface FieldValueImage {
  id: string;
  customerId: string;
  field: string;
  value: string | null;
  source: string;
  capturedAt: string;
  recordedAt: string;
  supersededAt: string | null;
}

/** Every field value row (current and superseded) of the customers. */
export async function listFieldValueImages(
  tx: Tx,
  workspaceId: string,
  customerIds: readonly string[],
): Promise<FieldValueImage[]> {
  const { rows } = await sql<{
    id: string;
    customer_id: string;
    field: string;
    value: string | null;
    source: string;
    captured_at: string;
    recorded_at: string;
    superseded_at: string | null;
  }>`
    SELECT id, customer_id, field, value #>> '{}' AS value, source, ${micro('captured_at')} AS captured_at,
      ${micro('recorded_at')} AS recorded_at, ${microOrNull('superseded_at')} AS superseded_at
    FROM customer_field_values
    WHERE workspace_id = ${workspaceId} AND customer_id = ANY(${customerIds}::uuid[])
    ORDER BY id`.execute(tx);
  return rows.map((r) => ({
    id: r.id,
    customerId: r.customer_id,
    field: r.field,
    value: r.value,
    source: r.source,
    capturedAt: r.captured_at,
    recordedAt: r.recorded_at,
    supersededAt: r.superseded_at,
  }));
}

/** An identity with its owner. */
export interface IdentityImage {
  customerId: string;
  source: string;
  externalId: string;
}

/** The identities of the customers. */
export async function listIdentityImages(
  tx: Tx,
  workspaceId: string,
  customerIds: readonly string[],
): Promise<IdentityImage[]> {
  const { rows } = await sql<{ customer_id: string; source: string; external_id: string }>`
    SELECT customer_id, source, external_id FROM customer_identities
    WHERE workspace_id = ${workspaceId} AND customer_id = ANY(${customerIds}::uuid[])
    ORDER BY source, external_id`.execute(tx);
  return rows.map((r) => ({ customerId: r.customer_id, source: r.source, externalId: r.external_id }));
}

/** A contact point row. */
export interface ContactPointImage {
  id: string;
  customerId: string;
  kind: 'email' | 'phone';
  value: string;
  verified: boolean;
  source: string;
  createdAt: string;
  /** An address's validity (a move); absent in images recorded before addresses had one. */
  validFrom?: string | null;
  validUntil?: string | null;
}

/** The contact points of the customers. */
export async function listContactPointImages(
  tx: Tx,
  workspaceId: string,
  customerIds: readonly string[],
): Promise<ContactPointImage[]> {
  const { rows } = await sql<{
    id: string;
    customer_id: string;
    kind: 'email' | 'phone';
    value: string;
    verified: boolean;
    source: string;
    created_at: string;
    valid_from: string | null;
    valid_until: string | null;
  }>`
    SELECT id, customer_id, kind, value, verified, source, ${micro('created_at')} AS created_at,
           ${microOrNull('valid_from')} AS valid_from, ${microOrNull('valid_until')} AS valid_until
    FROM contact_points WHERE workspace_id = ${workspaceId} AND customer_id = ANY(${customerIds}::uuid[])
    ORDER BY id`.execute(tx);
  return rows.map((r) => ({
    id: r.id,
    customerId: r.customer_id,
    kind: r.kind,
    value: r.value,
    verified: r.verified,
    source: r.source,
    createdAt: r.created_at,
    validFrom: r.valid_from,
    validUntil: r.valid_until,
  }));
}

/** The consent projections of customers, by customer (one statement). */
export async function listConsentStateImagesOf(
  tx: Tx,
  workspaceId: string,
  customerIds: readonly string[],
): Promise<Map<string, ConsentStateImage[]>> {
  const { rows } = await sql<{
    customer_id: string;
    purpose: string;
    channel: string;
    status: ConsentStateImage['status'];
    explicit: boolean;
    expires_at: string | null;
    effective_from: string;
    record_id: string;
  }>`
    SELECT customer_id, purpose, channel, status, explicit, ${microOrNull('expires_at')} AS expires_at,
      ${micro('effective_from')} AS effective_from, record_id
    FROM consent_state WHERE workspace_id = ${workspaceId} AND customer_id = ANY(${customerIds}::uuid[])
    ORDER BY customer_id, purpose, channel`.execute(tx);
  const out = new Map<string, ConsentStateImage[]>(customerIds.map((id) => [id, []]));
  for (const r of rows) {
    out.get(r.customer_id)?.push({
      purpose: r.purpose,
      channel: r.channel,
      status: r.status,
      explicit: r.explicit,
      expiresAt: r.expires_at,
      effectiveFrom: r.effective_from,
      recordId: r.record_id,
    });
  }
  return out;
}

// ---------------------------------------------------------------------------------------------------------
// The writes of a merge and an unmerge
// ---------------------------------------------------------------------------------------------------------

/**
 * Moves everything that hangs off one customer by its id to another, in one statement: interactions,
 * field value rows and identities. Returns the ids of the interactions moved.
 */
export async function moveCustomerRows(
  tx: Tx,
  workspaceId: string,
  fromId: string,
  toId: string,
): Promise<string[]> {
  const { rows } = await sql<{ id: string }>`
    WITH moved AS (
      UPDATE interactions SET customer_id = ${toId}
      WHERE workspace_id = ${workspaceId} AND customer_id = ${fromId}
      RETURNING id
    ), field_values AS (
      UPDATE customer_field_values SET customer_id = ${toId}
      WHERE workspace_id = ${workspaceId} AND customer_id = ${fromId}
    ), identities AS (
      UPDATE customer_identities SET customer_id = ${toId}
      WHERE workspace_id = ${workspaceId} AND customer_id = ${fromId}
    )
    SELECT id FROM moved`.execute(tx);
  return rows.map((r) => r.id).sort();
}

/** Moves the given interactions (those still on `fromId`) to `toId`; returns how many moved. */
export async function moveInteractions(
  tx: Tx,
  workspaceId: string,
  ids: readonly string[],
  fromId: string,
  toId: string,
): Promise<number> {
  if (ids.length === 0) return 0;
  const result = await sql`
    UPDATE interactions SET customer_id = ${toId}
    WHERE workspace_id = ${workspaceId} AND customer_id = ${fromId} AND id = ANY(${ids}::uuid[])`.execute(tx);
  return Number(result.numAffectedRows ?? 0);
}

/** Interactions of a customer received after a time that are not in `except`: id and source system. */
export async function listInteractionsReceivedAfter(
  tx: Tx,
  workspaceId: string,
  customerId: string,
  after: string,
  except: readonly string[],
): Promise<{ id: string; source: string }[]> {
  const { rows } = await sql<{ id: string; source: string }>`
    SELECT id, source FROM interactions
    WHERE workspace_id = ${workspaceId} AND customer_id = ${customerId} AND received_at > ${after}::timestamptz
      AND NOT (id = ANY(${except}::uuid[]))
    ORDER BY id`.execute(tx);
  return rows;
}

/** Marks field value rows superseded now. */
export async function supersedeFieldValues(tx: Tx, workspaceId: string, ids: readonly string[]) {
  if (ids.length === 0) return;
  await sql`
    UPDATE customer_field_values SET superseded_at = now()
    WHERE workspace_id = ${workspaceId} AND id = ANY(${ids}::uuid[])`.execute(tx);
}

/** Puts field value rows back on a customer with the superseded time they had. */
export async function restoreFieldValues(
  tx: Tx,
  workspaceId: string,
  customerId: string,
  rows: readonly { id: string; supersededAt: string | null }[],
) {
  if (rows.length === 0) return;
  await sql`
    UPDATE customer_field_values f SET customer_id = ${customerId}, superseded_at = r.superseded_at
    FROM unnest(${rows.map((r) => r.id)}::uuid[], ${rows.map((r) => r.supersededAt)}::timestamptz[])
      AS r(id, superseded_at)
    WHERE f.workspace_id = ${workspaceId} AND f.id = r.id`.execute(tx);
}

/**
 * Writes customers' golden fields, privacy columns, merge pointers and update times as given, in one
 * statement.
 */
export async function writeCustomerImages(tx: Tx, workspaceId: string, images: readonly CustomerImage[]) {
  if (images.length === 0) return;
  const rows = images.map((i) => ({
    id: i.id,
    given_name: i.givenName,
    family_name: i.familyName,
    preferred_name: i.preferredName,
    language: i.language,
    birth_date: i.birthDate,
    intimacy_level: i.intimacyLevel,
    processing_restricted: i.restricted,
    objections: i.objections,
    updated_at: i.updatedAt,
    merged_into: i.mergedInto,
  }));
  await sql`
    UPDATE customers c SET
      given_name = r.given_name, family_name = r.family_name,
      preferred_name = r.preferred_name, language = r.language,
      birth_date = r.birth_date, intimacy_level = r.intimacy_level,
      processing_restricted = r.processing_restricted,
      objections = ARRAY(SELECT jsonb_array_elements_text(r.objections)),
      updated_at = r.updated_at, merged_into = r.merged_into
    FROM jsonb_to_recordset(${JSON.stringify(rows)}::jsonb) AS r(
      id uuid, given_name text, family_name text, preferred_name text, language text, birth_date date,
      intimacy_level integer, processing_restricted boolean, objections jsonb, updated_at timestamptz,
      merged_into uuid)
    WHERE c.workspace_id = ${workspaceId} AND c.id = r.id`.execute(tx);
}

/** Sets golden fields of a customer (columns named by field). */
export async function setGoldenFields(
  tx: Tx,
  workspaceId: string,
  customerId: string,
  fields: Partial<Record<MergedField, string | null>>,
) {
  const sets = Object.entries(fields).map(([field, value]) => {
    const column = sql.ref(FIELD_COLUMN[field as MergedField]);
    return field === 'birthDate' ? sql`${column} = ${value}::date` : sql`${column} = ${value}`;
  });
  if (sets.length === 0) return;
  await sql`
    UPDATE customers SET ${sql.join(sets, sql`, `)}
    WHERE workspace_id = ${workspaceId} AND id = ${customerId}`.execute(tx);
}

/** Moves the given identities (those still on `fromId`) back to `toId`; returns how many moved. */
export async function moveIdentities(
  tx: Tx,
  workspaceId: string,
  identities: readonly { source: string; externalId: string }[],
  fromId: string,
  toId: string,
): Promise<number> {
  if (identities.length === 0) return 0;
  const result = await sql`
    UPDATE customer_identities ci SET customer_id = ${toId}
    FROM unnest(${identities.map((i) => i.source)}::text[], ${identities.map((i) => i.externalId)}::text[])
      AS r(source, external_id)
    WHERE ci.workspace_id = ${workspaceId} AND ci.customer_id = ${fromId}
      AND ci.source = r.source AND ci.external_id = r.external_id`.execute(tx);
  return Number(result.numAffectedRows ?? 0);
}

/** Moves contact points (by id) to a customer. */
export async function moveContactPoints(tx: Tx, workspaceId: string, ids: readonly string[], toId: string) {
  if (ids.length === 0) return;
  await sql`
    UPDATE contact_points SET customer_id = ${toId}
    WHERE workspace_id = ${workspaceId} AND id = ANY(${ids}::uuid[])`.execute(tx);
}

/** Deletes contact points by id. */
export async function deleteContactPointsById(tx: Tx, workspaceId: string, ids: readonly string[]) {
  if (ids.length === 0) return;
  await sql`DELETE FROM contact_points WHERE workspace_id = ${workspaceId} AND id = ANY(${ids}::uuid[])`.execute(
    tx,
  );
}

/** Sets the verified flag of contact points by id. */
export async function setContactPointsVerified(
  tx: Tx,
  workspaceId: string,
  rows: readonly { id: string; verified: boolean }[],
) {
  if (rows.length === 0) return;
  await sql`
    UPDATE contact_points cp SET verified = r.verified
    FROM unnest(${rows.map((r) => r.id)}::uuid[], ${rows.map((r) => r.verified)}::boolean[]) AS r(id, verified)
    WHERE cp.workspace_id = ${workspaceId} AND cp.id = r.id`.execute(tx);
}

/** Inserts contact points exactly as they were (ids, sources and times). */
export async function insertContactPointImages(
  tx: Tx,
  workspaceId: string,
  rows: readonly ContactPointImage[],
) {
  if (rows.length === 0) return;
  await sql`
    INSERT INTO contact_points (workspace_id, id, customer_id, kind, value, verified, source, created_at,
      valid_from, valid_until)
    SELECT ${workspaceId}, id, customer_id, kind, value, verified, source, created_at, valid_from, valid_until
    FROM unnest(
      ${rows.map((r) => r.id)}::uuid[], ${rows.map((r) => r.customerId)}::uuid[], ${rows.map((r) => r.kind)}::text[],
      ${rows.map((r) => r.value)}::text[], ${rows.map((r) => r.verified)}::boolean[], ${rows.map((r) => r.source)}::text[],
      ${rows.map((r) => r.createdAt)}::timestamptz[], ${rows.map((r) => r.validFrom ?? null)}::timestamptz[],
      ${rows.map((r) => r.validUntil ?? null)}::timestamptz[]
    ) AS t(id, customer_id, kind, value, verified, source, created_at, valid_from, valid_until)`.execute(tx);
}

/** Writes consent projection rows of a customer (insert or replace per purpose and channel). */
export async function upsertConsentStates(
  tx: Tx,
  workspaceId: string,
  customerId: string,
  rows: readonly ConsentStateImage[],
) {
  if (rows.length === 0) return;
  await sql`
    INSERT INTO consent_state
      (workspace_id, customer_id, purpose, channel, status, explicit, expires_at, effective_from, record_id)
    SELECT ${workspaceId}, ${customerId}, purpose, channel, status, explicit, expires_at, effective_from, record_id
    FROM unnest(
      ${rows.map((r) => r.purpose)}::text[], ${rows.map((r) => r.channel)}::text[], ${rows.map((r) => r.status)}::text[],
      ${rows.map((r) => r.explicit)}::boolean[], ${rows.map((r) => r.expiresAt)}::timestamptz[],
      ${rows.map((r) => r.effectiveFrom)}::timestamptz[], ${rows.map((r) => r.recordId)}::uuid[]
    ) AS t(purpose, channel, status, explicit, expires_at, effective_from, record_id)
    ON CONFLICT (workspace_id, customer_id, purpose, channel) DO UPDATE SET
      status = excluded.status, explicit = excluded.explicit, expires_at = excluded.expires_at,
      effective_from = excluded.effective_from, record_id = excluded.record_id`.execute(tx);
}

/** Replaces a customer's whole consent projection. */
export async function replaceConsentStates(
  tx: Tx,
  workspaceId: string,
  customerId: string,
  rows: readonly ConsentStateImage[],
) {
  await sql`DELETE FROM consent_state WHERE workspace_id = ${workspaceId} AND customer_id = ${customerId}`.execute(
    tx,
  );
  await upsertConsentStates(tx, workspaceId, customerId, rows);
}

/**
 * Applies a customer's consent records recorded after a time to its projection, as the ledger does on
 * append: a record moves the state of its purpose and channel when it is effective no earlier.
 */
export async function applyConsentRecordsAfter(
  tx: Tx,
  workspaceId: string,
  customerId: string,
  after: string,
): Promise<number> {
  const { rows } = await sql<{
    id: string;
    purpose: string;
    channel: string;
    status: ConsentStateImage['status'];
    explicit: boolean;
    expires_at: string | null;
    effective_from: string;
  }>`
    SELECT id, purpose, channel, status, explicit, ${microOrNull('expires_at')} AS expires_at,
      ${micro('effective_from')} AS effective_from
    FROM consent_records
    WHERE workspace_id = ${workspaceId} AND customer_id = ${customerId} AND recorded_at > ${after}::timestamptz
    ORDER BY recorded_at, id`.execute(tx);
  for (const r of rows) {
    await sql`
      INSERT INTO consent_state
        (workspace_id, customer_id, purpose, channel, status, explicit, expires_at, effective_from, record_id)
      VALUES (${workspaceId}, ${customerId}, ${r.purpose}, ${r.channel}, ${r.status}, ${r.explicit},
        ${r.expires_at}::timestamptz, ${r.effective_from}::timestamptz, ${r.id})
      ON CONFLICT (workspace_id, customer_id, purpose, channel) DO UPDATE SET
        status = excluded.status, explicit = excluded.explicit, expires_at = excluded.expires_at,
        effective_from = excluded.effective_from, record_id = excluded.record_id
      WHERE consent_state.effective_from <= excluded.effective_from`.execute(tx);
  }
  return rows.length;
}

/** Whether a customer's intimacy, restriction or objections changed after a time (their own choice). */
export async function hasPrivacyChangesAfter(
  tx: Tx,
  workspaceId: string,
  customerId: string,
  after: string,
): Promise<boolean> {
  const { rows } = await sql<{ changed: boolean }>`
    SELECT EXISTS (
      SELECT 1 FROM intimacy_changes
      WHERE workspace_id = ${workspaceId} AND customer_id = ${customerId} AND recorded_at > ${after}::timestamptz
    ) OR EXISTS (
      SELECT 1 FROM privacy_flag_changes
      WHERE workspace_id = ${workspaceId} AND customer_id = ${customerId} AND recorded_at > ${after}::timestamptz
    ) AS changed`.execute(tx);
  return rows[0]?.changed ?? false;
}

// ---------------------------------------------------------------------------------------------------------
// Merge operations
// ---------------------------------------------------------------------------------------------------------

/** A merge as stored. */
export interface MergeRow {
  id: string;
  survivorId: string;
  absorbedId: string;
  origin: 'manual' | 'automatic' | 'review';
  reason: string | null;
  reviewId: string | null;
  probability: number | null;
  beforeImage: Record<string, unknown>;
  mergedBy: string;
  mergedAt: string;
  unmergedBy: string | null;
  unmergedAt: string | null;
}

/** Records a merge; `merged_at` is the transaction's time. Returns that time (microseconds). */
export async function insertMerge(
  tx: Tx,
  workspaceId: string,
  row: Omit<MergeRow, 'mergedAt' | 'unmergedBy' | 'unmergedAt'>,
): Promise<string> {
  const { rows } = await sql<{ merged_at: string }>`
    INSERT INTO identity_merges
      (workspace_id, id, survivor_id, absorbed_id, origin, reason, review_id, probability, before_image, merged_by,
       merged_at)
    VALUES (${workspaceId}, ${row.id}, ${row.survivorId}, ${row.absorbedId}, ${row.origin}, ${row.reason},
      ${row.reviewId}, ${row.probability}, ${JSON.stringify(row.beforeImage)}::jsonb, ${row.mergedBy}, now())
    RETURNING ${micro('merged_at')} AS merged_at`.execute(tx);
  return rows[0]?.merged_at ?? '';
}

const MERGE_COLUMNS = sql`id, survivor_id, absorbed_id, origin, reason, review_id, probability, before_image,
  merged_by, ${micro('merged_at')} AS merged_at, unmerged_by, ${microOrNull('unmerged_at')} AS unmerged_at`;

interface MergeDbRow {
  id: string;
  survivor_id: string;
  absorbed_id: string;
  origin: MergeRow['origin'];
  reason: string | null;
  review_id: string | null;
  probability: number | null;
  before_image: Record<string, unknown>;
  merged_by: string;
  merged_at: string;
  unmerged_by: string | null;
  unmerged_at: string | null;
}

function toMerge(r: MergeDbRow): MergeRow {
  return {
    id: r.id,
    survivorId: r.survivor_id,
    absorbedId: r.absorbed_id,
    origin: r.origin,
    reason: r.reason,
    reviewId: r.review_id,
    probability: r.probability,
    beforeImage: r.before_image,
    mergedBy: r.merged_by,
    mergedAt: r.merged_at,
    unmergedBy: r.unmerged_by,
    unmergedAt: r.unmerged_at,
  };
}

/** A merge, locked for its unmerge. */
export async function findMergeForUpdate(
  tx: Tx,
  workspaceId: string,
  id: string,
): Promise<MergeRow | undefined> {
  const { rows } = await sql<MergeDbRow>`
    SELECT ${MERGE_COLUMNS} FROM identity_merges WHERE workspace_id = ${workspaceId} AND id = ${id}
    FOR UPDATE`.execute(tx);
  const row = rows[0];
  return row && toMerge(row);
}

/** Active (not unmerged) merges involving a customer recorded after a given merge, newest first. */
export async function listLaterActiveMerges(
  tx: Tx,
  workspaceId: string,
  customerIds: readonly string[],
  afterMergeId: string,
  mergedAt: string,
): Promise<{ id: string; survivorId: string; absorbedId: string }[]> {
  const { rows } = await sql<{ id: string; survivor_id: string; absorbed_id: string }>`
    SELECT id, survivor_id, absorbed_id FROM identity_merges
    WHERE workspace_id = ${workspaceId} AND unmerged_at IS NULL AND id <> ${afterMergeId}
      AND (survivor_id = ANY(${customerIds}::uuid[]) OR absorbed_id = ANY(${customerIds}::uuid[]))
      AND (merged_at, id) > (${mergedAt}::timestamptz, ${afterMergeId}::uuid)
    ORDER BY merged_at DESC, id DESC`.execute(tx);
  return rows.map((r) => ({ id: r.id, survivorId: r.survivor_id, absorbedId: r.absorbed_id }));
}

/** Marks a merge undone. */
export async function markUnmerged(
  tx: Tx,
  workspaceId: string,
  id: string,
  by: string,
  report: Record<string, unknown>,
): Promise<string> {
  const { rows } = await sql<{ unmerged_at: string }>`
    UPDATE identity_merges SET unmerged_by = ${by}, unmerged_at = now(), unmerge_report = ${JSON.stringify(report)}::jsonb
    WHERE workspace_id = ${workspaceId} AND id = ${id}
    RETURNING ${micro('unmerged_at')} AS unmerged_at`.execute(tx);
  return rows[0]?.unmerged_at ?? '';
}

/** The customer an id stands for now: itself, or the end of its chain of merges. */
export async function findSurvivors(
  tx: Tx,
  workspaceId: string,
  ids: readonly string[],
): Promise<Map<string, string>> {
  if (ids.length === 0) return new Map();
  const { rows } = await sql<{ start: string; id: string }>`
    WITH RECURSIVE chain(start, id, merged_into, depth) AS (
      SELECT c.id, c.id, c.merged_into, 0 FROM customers c
      WHERE c.workspace_id = ${workspaceId} AND c.id = ANY(${[...new Set(ids)]}::uuid[])
      UNION ALL
      SELECT chain.start, c.id, c.merged_into, chain.depth + 1
      FROM chain JOIN customers c ON c.workspace_id = ${workspaceId} AND c.id = chain.merged_into
      WHERE chain.depth < 1000
    )
    SELECT start, id FROM chain WHERE merged_into IS NULL`.execute(tx);
  return new Map(rows.map((r) => [r.start, r.id]));
}

// ---------------------------------------------------------------------------------------------------------
// Review queue and decisions
// ---------------------------------------------------------------------------------------------------------

/** A candidate pair in the review queue. */
export interface ReviewRow {
  id: string;
  customerA: string;
  customerB: string;
  score: number;
  probability: number;
  reason: 'band' | 'guard';
  explanation: MatchExplanation;
  status: 'pending' | 'accepted' | 'rejected';
  decidedBy: string | null;
  decidedAt: string | null;
  mergeId: string | null;
  createdAt: string;
}

const REVIEW_COLUMNS = sql`r.id, r.customer_a, r.customer_b, r.score, r.probability, r.reason, r.explanation,
  r.status, r.decided_by, ${microOrNull('r.decided_at')} AS decided_at, r.merge_id,
  ${micro('r.created_at')} AS created_at`;

interface ReviewDbRow {
  id: string;
  customer_a: string;
  customer_b: string;
  score: number;
  probability: number;
  reason: 'band' | 'guard';
  explanation: MatchExplanation;
  status: ReviewRow['status'];
  decided_by: string | null;
  decided_at: string | null;
  merge_id: string | null;
  created_at: string;
}

function toReview(r: ReviewDbRow): ReviewRow {
  return {
    id: r.id,
    customerA: r.customer_a,
    customerB: r.customer_b,
    score: Number(r.score),
    probability: Number(r.probability),
    reason: r.reason,
    explanation: r.explanation,
    status: r.status,
    decidedBy: r.decided_by,
    decidedAt: r.decided_at,
    mergeId: r.merge_id,
    createdAt: r.created_at,
  };
}

/** Queues candidate pairs; a pair already queued (whatever its status) is skipped. Returns those queued. */
export async function insertReviews(
  tx: Tx,
  workspaceId: string,
  rows: readonly Omit<ReviewRow, 'status' | 'decidedBy' | 'decidedAt' | 'mergeId' | 'createdAt'>[],
): Promise<number> {
  if (rows.length === 0) return 0;
  const { rows: inserted } = await sql<{ id: string }>`
    INSERT INTO identity_reviews (workspace_id, id, customer_a, customer_b, score, probability, reason, explanation)
    SELECT ${workspaceId}, id, customer_a, customer_b, score, probability, reason, explanation
    FROM unnest(
      ${rows.map((r) => r.id)}::uuid[], ${rows.map((r) => r.customerA)}::uuid[], ${rows.map((r) => r.customerB)}::uuid[],
      ${rows.map((r) => r.score)}::real[], ${rows.map((r) => r.probability)}::real[], ${rows.map((r) => r.reason)}::text[],
      ${rows.map((r) => JSON.stringify(r.explanation))}::jsonb[]
    ) AS t(id, customer_a, customer_b, score, probability, reason, explanation)
    ON CONFLICT (workspace_id, customer_a, customer_b) DO NOTHING
    RETURNING id`.execute(tx);
  return inserted.length;
}

/** Every pair ever queued in the workspace, as `a:b` keys. */
export async function listQueuedPairKeys(tx: Tx, workspaceId: string): Promise<Set<string>> {
  const { rows } = await sql<{ customer_a: string; customer_b: string }>`
    SELECT customer_a, customer_b FROM identity_reviews WHERE workspace_id = ${workspaceId}`.execute(tx);
  return new Set(rows.map((r) => `${r.customer_a}:${r.customer_b}`));
}

/**
 * A page of the queue by status, oldest first (keyset on the time-ordered id). Pending pairs whose
 * customers were merged away since are left out: they are no longer a question.
 */
export async function listReviews(
  tx: Tx,
  workspaceId: string,
  options: { status: ReviewRow['status']; after: string | null; limit: number },
): Promise<ReviewRow[]> {
  const { rows } = await sql<ReviewDbRow>`
    SELECT ${REVIEW_COLUMNS}
    FROM identity_reviews r
    JOIN customers a ON a.workspace_id = r.workspace_id AND a.id = r.customer_a
    JOIN customers b ON b.workspace_id = r.workspace_id AND b.id = r.customer_b
    WHERE r.workspace_id = ${workspaceId} AND r.status = ${options.status}
      ${options.status === 'pending' ? sql`AND a.merged_into IS NULL AND b.merged_into IS NULL` : sql``}
      ${options.after === null ? sql`` : sql`AND r.id > ${options.after}::uuid`}
    ORDER BY r.id
    LIMIT ${options.limit}`.execute(tx);
  return rows.map(toReview);
}

/** One review, locked for its decision. */
export async function findReviewForUpdate(
  tx: Tx,
  workspaceId: string,
  id: string,
): Promise<ReviewRow | undefined> {
  const { rows } = await sql<ReviewDbRow>`
    SELECT ${REVIEW_COLUMNS} FROM identity_reviews r WHERE r.workspace_id = ${workspaceId} AND r.id = ${id}
    FOR UPDATE`.execute(tx);
  const row = rows[0];
  return row && toReview(row);
}

/** Records the decision on a review. */
export async function markReviewDecided(
  tx: Tx,
  workspaceId: string,
  id: string,
  decision: { status: 'accepted' | 'rejected'; by: string; mergeId: string | null },
): Promise<ReviewRow> {
  const { rows } = await sql<ReviewDbRow>`
    UPDATE identity_reviews r SET status = ${decision.status}, decided_by = ${decision.by}, decided_at = now(),
      merge_id = ${decision.mergeId}
    WHERE r.workspace_id = ${workspaceId} AND r.id = ${id}
    RETURNING ${REVIEW_COLUMNS}`.execute(tx);
  const row = rows[0];
  if (!row) throw new Error(`review ${id} vanished inside its own transaction`);
  return toReview(row);
}

/** Appends a decision (a label on a pair). */
export async function insertDecision(
  tx: Tx,
  workspaceId: string,
  row: {
    id: string;
    customerA: string;
    customerB: string;
    label: 'match' | 'non_match';
    origin: 'review' | 'merge' | 'unmerge';
    reviewId: string | null;
    mergeId: string | null;
    levels: Record<string, string> | null;
    probability: number | null;
    decidedBy: string;
  },
): Promise<void> {
  await tx
    .insertInto('identity_decisions')
    .values({
      workspace_id: workspaceId,
      id: row.id,
      customer_a: row.customerA,
      customer_b: row.customerB,
      label: row.label,
      origin: row.origin,
      review_id: row.reviewId,
      merge_id: row.mergeId,
      levels: row.levels === null ? null : JSON.stringify(row.levels),
      probability: row.probability,
      decided_by: row.decidedBy,
    })
    .execute();
}

/** Every decision of the workspace, as labels. */
export async function listDecisionLabels(tx: Tx, workspaceId: string): Promise<DecisionLabel[]> {
  const { rows } = await sql<{
    customer_a: string;
    customer_b: string;
    label: 'match' | 'non_match';
    levels: Record<string, string> | null;
    decided_at: string;
  }>`
    SELECT customer_a, customer_b, label, levels, ${micro('decided_at')} AS decided_at
    FROM identity_decisions WHERE workspace_id = ${workspaceId}
    ORDER BY decided_at, id`.execute(tx);
  return rows.map((r) => ({
    customerA: r.customer_a,
    customerB: r.customer_b,
    label: r.label,
    levels: r.levels,
    decidedAt: r.decided_at,
  }));
}
