import type { RawBuilder } from 'kysely';
import type { Tx } from '../db/index.ts';
import { recordEvents } from '../events/index.ts';
import { AppError, conflict, invalid, notFound } from '../shared/errors.ts';
import { isUuid, newId } from '../shared/ids.ts';
import { type Actor, getWorkspace } from '../workspaces/index.ts';
import {
  normaliseEmail,
  normaliseIdentityPart,
  normalisePhone,
  normalisePostalAddress,
  unwrap,
} from './contact.ts';
import { assertNotSuppressed } from './customer.erasure.ts';
import * as repo from './customer.repository.ts';
import {
  type Customer,
  type CustomerInput,
  type CustomerPatch,
  classifyQuery,
  cursorError,
  decodeCursor,
  emptyPatchError,
  encodeCursor,
  GOLDEN_FIELDS,
  type GoldenField,
  type GoldenValues,
  type Identity,
  identityKey,
  isEmptyChange,
  type NormalisedChange,
  newIds,
  normaliseChange,
} from './customer.ts';

/** Use-cases of customers: create, change, read, list and search. */

function customerNotFound(id: string): AppError {
  return notFound('CUSTOMER_NOT_FOUND', `No customer with id ${id} in this workspace.`, { id });
}

/** Records provenance for the fields a change wrote, superseding their current values. */
async function recordProvenance(
  tx: Tx,
  actor: Actor,
  customerId: string,
  fields: GoldenValues,
  change: NormalisedChange,
): Promise<void> {
  const rows: repo.FieldValueRow[] = [];
  for (const field of GOLDEN_FIELDS) {
    const value = fields[field];
    if (value !== undefined) rows.push(fieldValueRow(actor, customerId, field, value, change));
  }
  await repo.recordFieldValues(tx, actor.workspaceId, rows);
}

/** The provenance row of one field a change wrote. */
function fieldValueRow(
  actor: Actor,
  customerId: string,
  field: (typeof GOLDEN_FIELDS)[number],
  value: repo.FieldValueRow['value'],
  change: NormalisedChange,
): repo.FieldValueRow {
  return {
    id: newId(),
    customerId,
    field,
    value,
    source: change.source,
    capturedBy: actor.label,
    capturedAt: change.capturedAt,
    interactionId: change.interactionId,
    confidence: 1,
  };
}

/**
 * Attaches identities to a customer. One that belongs to another customer is IDENTITY_TAKEN (409) and,
 * the error aborting the caller's transaction, nothing of the request is stored.
 */
async function attachIdentities(
  tx: Tx,
  actor: Actor,
  customerId: string,
  identities: readonly Identity[],
): Promise<void> {
  await attachIdentityRows(
    tx,
    actor,
    identities.map((i) => ({ ...i, customerId })),
  );
}

/** `attachIdentities` for identities of several customers at once. */
async function attachIdentityRows(tx: Tx, actor: Actor, rows: readonly repo.IdentityRow[]): Promise<void> {
  if (rows.length === 0) return;
  const claimed = await repo.claimIdentities(tx, actor.workspaceId, rows);
  // A claimed identity went to the first row naming it; a later row naming it again is checked below.
  const others = rows.filter((i) => !claimed.delete(identityKey(i)));
  if (others.length === 0) return;
  const owners = await repo.findIdentityOwners(tx, actor.workspaceId, others);
  const taken = others.filter((i) => owners.get(identityKey(i)) !== i.customerId);
  if (taken.length === 0) return;
  const first = taken[0];
  // The answer names the identities, never their owner: a caller who may not read who holds an
  // external id must not learn it from a refused write.
  throw conflict(
    'IDENTITY_TAKEN',
    `Identity ${first?.source}/${first?.externalId} already belongs to another customer; remove it there first (or merge the customers).`,
    { identities: taken.map((i) => ({ source: i.source, externalId: i.externalId })) },
  );
}

async function addContacts(
  tx: Tx,
  actor: Actor,
  customerId: string,
  change: NormalisedChange,
): Promise<void> {
  const ids = newIds(change.contacts.length);
  await repo.upsertContactPoints(
    tx,
    actor.workspaceId,
    change.contacts.map((c, i) => ({ ...c, id: ids[i] ?? newId(), customerId, source: change.source })),
  );
}

/** The customer, or CUSTOMER_NOT_FOUND (also for another workspace's ids). */
export async function getCustomer(tx: Tx, actor: Actor, id: string): Promise<Customer> {
  const [found] = isUuid(id) ? await repo.loadCustomers(tx, actor.workspaceId, [id.toLowerCase()]) : [];
  if (!found) throw customerNotFound(id);
  return found;
}

/** Creates a customer: golden-record fields with provenance, contact points and identities. */
export async function createCustomer(tx: Tx, actor: Actor, input: CustomerInput): Promise<Customer> {
  const workspace = await getWorkspace(tx, actor.workspaceId);
  const change = normaliseChange(input, workspace.settings.defaultRegion, new Date());
  const [id] = await insertNewCustomers(tx, actor, [change]);
  return getCustomer(tx, actor, id as string);
}

/**
 * Creates several customers in a few multi-row statements, as `createCustomer` would one by one; the
 * problems of input i are reported at `customers[i].…`. Any problem or IDENTITY_TAKEN (also for two
 * inputs naming one identity) aborts the caller's transaction, so nothing of the batch is stored.
 */
export async function createCustomers(
  tx: Tx,
  actor: Actor,
  inputs: readonly CustomerInput[],
): Promise<Customer[]> {
  if (inputs.length === 0) return [];
  const workspace = await getWorkspace(tx, actor.workspaceId);
  const now = new Date();
  const changes = inputs.map((input, i) => {
    try {
      return normaliseChange(input, workspace.settings.defaultRegion, now);
    } catch (error) {
      throw prefixPaths(error, `customers[${i}].`);
    }
  });
  const ids = await insertNewCustomers(tx, actor, changes);
  return repo.loadCustomers(tx, actor.workspaceId, ids);
}

/** A validation error with its JSON paths moved under `prefix`; other errors as they are. */
function prefixPaths(error: unknown, prefix: string): unknown {
  if (!(error instanceof AppError) || error.details === undefined || Array.isArray(error.details))
    return error;
  const details = error.details as { errors?: unknown };
  if (!Array.isArray(details.errors)) return error;
  const errors = (details.errors as { path?: unknown }[]).map((e) => ({
    ...e,
    path: `${prefix}${typeof e.path === 'string' ? e.path : ''}`,
  }));
  return new AppError(error.kind, error.code, error.message, { ...details, errors }, { cause: error });
}

/** Writes new customers from normalised changes, each statement for all of them; returns their ids. */
async function insertNewCustomers(
  tx: Tx,
  actor: Actor,
  changes: readonly NormalisedChange[],
): Promise<string[]> {
  // An erased person is not silently re-created by a later import (SPEC §5.4): the suppression list.
  await assertNotSuppressed(
    tx,
    actor.workspaceId,
    changes.map((change) => [
      ...change.contacts.map((c) => ({ kind: c.kind, value: c.value })),
      ...change.identities.map((i) => ({ kind: `identity.${i.source}`, value: i.externalId })),
    ]),
  );
  const ids = newIds(changes.length);
  const idOf = (i: number) => ids[i] as string;
  // Sorted ids in input order, so contact points list in the order given (as `addContacts` does).
  const contactIds = newIds(changes.reduce((n, change) => n + change.contacts.length, 0));
  await repo.insertCustomers(
    tx,
    actor.workspaceId,
    changes.map((change, i) => ({ id: idOf(i), fields: change.fields })),
  );
  const provenance: repo.FieldValueRow[] = [];
  const contacts: repo.ContactPointRow[] = [];
  const identities: repo.IdentityRow[] = [];
  for (const [i, change] of changes.entries()) {
    const customerId = idOf(i);
    for (const field of GOLDEN_FIELDS) {
      const value = change.fields[field];
      if (value === undefined || value === null) continue;
      provenance.push(fieldValueRow(actor, customerId, field, value, change));
    }
    for (const contact of change.contacts) {
      contacts.push({
        ...contact,
        id: contactIds[contacts.length] ?? newId(),
        customerId,
        source: change.source,
      });
    }
    for (const identity of change.identities) identities.push({ ...identity, customerId });
  }
  await repo.recordFieldValues(tx, actor.workspaceId, provenance);
  await repo.upsertContactPoints(tx, actor.workspaceId, contacts);
  await attachIdentityRows(tx, actor, identities);
  await recordEvents(
    tx,
    changes.map((change, i) => ({
      type: 'customer_created' as const,
      customerId: idOf(i),
      payload: { customerId: idOf(i), source: change.source },
    })),
  );
  return ids;
}

/**
 * Changes a customer: scalar fields set (null clears) with provenance for each value that changed;
 * emails, phones and identities given are added, `remove…` ones removed.
 */
export async function updateCustomer(
  tx: Tx,
  actor: Actor,
  id: string,
  patch: CustomerPatch,
): Promise<Customer> {
  const workspace = await getWorkspace(tx, actor.workspaceId);
  const change = normaliseChange(patch, workspace.settings.defaultRegion, new Date());
  if (isEmptyChange(change)) throw emptyPatchError();
  const current = isUuid(id)
    ? await repo.findCustomerFieldsForUpdate(tx, actor.workspaceId, id.toLowerCase())
    : undefined;
  if (!current) throw customerNotFound(id);
  const customerId = id.toLowerCase();
  const changed: GoldenValues = {};
  for (const field of GOLDEN_FIELDS) {
    const value = change.fields[field];
    // A value equal to the current one is no new information: its provenance stays as it was.
    if (value !== undefined && value !== current[field]) changed[field] = value;
  }
  await repo.updateCustomerFields(tx, actor.workspaceId, customerId, changed);
  await recordProvenance(tx, actor, customerId, changed, change);
  await repo.deleteContactPoints(tx, actor.workspaceId, customerId, change.removeContacts);
  await addContacts(tx, actor, customerId, change);
  await repo.deleteIdentities(tx, actor.workspaceId, customerId, change.removeIdentities);
  await attachIdentities(tx, actor, customerId, change.identities);
  return getCustomer(tx, actor, customerId);
}

/** A move as a caller gives it: the new address, from when, and where the customer said it. */
export interface MoveInput {
  address: unknown;
  /** When the customer moves (an ISO 8601 time with a zone); default now. A future date is a move ahead. */
  movedAt?: string | undefined;
  source: string;
  verified?: boolean | undefined;
}

const TIME_WITH_ZONE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?(Z|[+-]\d{2}:\d{2})$/;

/**
 * Records that a customer moves (issue 13, addresses with validity): the addresses holding at `movedAt`
 * end then and stay in the record (history, identity matching); the new address holds from then and is
 * the current one from that moment (prefill and every form use it). Bad input (ADDRESS_INVALID,
 * MOVE_INVALID with its JSON path) stores nothing.
 */
export async function moveCustomer(
  tx: Tx,
  actor: Actor,
  id: string,
  input: MoveInput,
  now: Date,
): Promise<Customer> {
  const value = unwrap(normalisePostalAddress(input.address, 'address'));
  const movedAt = input.movedAt ?? now.toISOString();
  if (!TIME_WITH_ZONE.test(movedAt) || Number.isNaN(Date.parse(movedAt))) {
    throw invalid(
      'MOVE_INVALID',
      'movedAt must be an ISO 8601 time with a zone, e.g. 2026-12-01T00:00:00Z.',
      {
        errors: [{ path: 'movedAt', message: 'must be an ISO 8601 time with a zone' }],
      },
    );
  }
  const customer = await getCustomer(tx, actor, id);
  await repo.recordAddressMove(tx, actor.workspaceId, customer.id, {
    id: newId(),
    value,
    movedAt: new Date(movedAt).toISOString(),
    source: input.source,
    verified: input.verified ?? false,
  });
  return getCustomer(tx, actor, customer.id);
}

/** One field value in a customer's history. */
export interface FieldHistoryEntry {
  field: GoldenField;
  value: string | null;
  source: string;
  capturedAt: string;
  capturedBy: string;
  interactionId: string | null;
  confidence: number;
  recordedAt: string;
  /** When a newer value replaced it; null for the current value. */
  supersededAt: string | null;
}

/** Every value each golden-record field of a customer has had, newest first. */
export async function listFieldHistory(tx: Tx, actor: Actor, id: string): Promise<FieldHistoryEntry[]> {
  await getCustomer(tx, actor, id);
  const rows = await repo.listFieldHistory(tx, actor.workspaceId, id.toLowerCase());
  return rows.map(({ id: _id, customerId: _customer, ...entry }) => entry);
}

/** What a list or search asks for. */
export interface CustomerQuery {
  limit?: number | undefined;
  cursor?: string | undefined;
  /** Free text: a name (typo-tolerant), an email, a phone number or an external id. */
  q?: string | undefined;
  email?: string | undefined;
  phone?: string | undefined;
  /** With `externalId`: the system of an identity. */
  source?: string | undefined;
  externalId?: string | undefined;
  /** SQL conditions on `c` (the customers row) from the compiled access decision. */
  where?: readonly RawBuilder<unknown>[] | undefined;
}

/** A page of customers. */
export interface CustomerPage {
  customers: Customer[];
  /** Pass it back as `cursor` for the next page; null on the last page. */
  nextCursor: string | null;
}

const DEFAULT_LIMIT = 50;

/**
 * Lists customers in creation order (keyset cursor), or, with `q`, searches them ranked by match;
 * `email`, `phone`, `source` and `externalId` filter exactly, normalised as on write.
 */
/** The region given when no phone number is read (classifyQuery reads it only for digits). */
const NO_REGION_NEEDED = 'ZZ';

export async function listCustomers(tx: Tx, actor: Actor, query: CustomerQuery): Promise<CustomerPage> {
  // The workspace's region only reads phone numbers: a search by name or email (what an agent types
  // most) does not pay a read of the workspace for it.
  const needsRegion = query.phone !== undefined || (query.q !== undefined && /\d/.test(query.q));
  const region = needsRegion
    ? (await getWorkspace(tx, actor.workspaceId)).settings.defaultRegion
    : NO_REGION_NEEDED;
  const limit = query.limit ?? DEFAULT_LIMIT;
  const filters: repo.CustomerFilters = {
    email: query.email === undefined ? undefined : unwrap(normaliseEmail(query.email, 'email')),
    phone: query.phone === undefined ? undefined : unwrap(normalisePhone(query.phone, region, 'phone')),
    identitySource:
      query.source === undefined ? undefined : unwrap(normaliseIdentityPart(query.source, 'source')),
    externalId:
      query.externalId === undefined
        ? undefined
        : unwrap(normaliseIdentityPart(query.externalId, 'externalId')),
    where: query.where,
  };
  const position = query.cursor === undefined ? undefined : decodeCursor(query.cursor);
  const q = query.q?.trim();

  if (q !== undefined && q !== '') {
    const offset = position === undefined ? 0 : 'offset' in position ? position.offset : Number.NaN;
    if (Number.isNaN(offset)) throw decodeCursorMismatch();
    const terms = classifyQuery(q, region);
    const rows = await repo.searchCustomerIds(tx, actor.workspaceId, {
      terms: { ...terms, externalId: q },
      filters,
      offset,
      limit: limit + 1,
    });
    const page = rows.slice(0, limit);
    return {
      customers: await repo.loadCustomers(
        tx,
        actor.workspaceId,
        page.map((r) => r.id),
      ),
      nextCursor: rows.length > limit ? encodeCursor({ offset: offset + limit }) : null,
    };
  }

  if (position !== undefined && 'offset' in position) throw decodeCursorMismatch();
  const rows = await repo.listCustomerIds(tx, actor.workspaceId, {
    after: position ?? null,
    limit: limit + 1,
    filters,
  });
  const page = rows.slice(0, limit);
  const last = page[page.length - 1];
  return {
    customers: await repo.loadCustomers(
      tx,
      actor.workspaceId,
      page.map((r) => r.id),
    ),
    nextCursor: rows.length > limit && last ? encodeCursor({ createdAt: last.createdAt, id: last.id }) : null,
  };
}

function decodeCursorMismatch(): AppError {
  return cursorError(
    'The cursor belongs to a different kind of query (list or search); repeat the query that returned it.',
  );
}

/**
 * The customer a merged-away id now stands for (following merges to the last survivor), or undefined
 * when the id is not a customer of the workspace or was never merged.
 */
export async function findMergedInto(tx: Tx, actor: Actor, id: string): Promise<string | undefined> {
  if (!isUuid(id)) return undefined;
  const lower = id.toLowerCase();
  const current = (await repo.findExistingCustomerIds(tx, actor.workspaceId, [lower])).get(lower);
  return current === undefined || current === lower ? undefined : current;
}

/**
 * The error for reading a merged-away customer: 404-class `CUSTOMER_MERGED`, with `details.mergedInto`
 * the surviving customer, so an integration that kept the old id can follow it.
 */
export function customerMergedError(id: string, mergedInto: string): AppError {
  return notFound(
    'CUSTOMER_MERGED',
    `Customer ${id} was merged into customer ${mergedInto}; use that id (details.mergedInto) from now on.`,
    { id, mergedInto },
  );
}
