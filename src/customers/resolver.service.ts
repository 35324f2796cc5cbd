import type { Tx } from '../db/index.ts';
import { recordEvents } from '../events/index.ts';
import { type AppError, invalid, notFound } from '../shared/errors.ts';
import { isUuid, newId } from '../shared/ids.ts';
import { getWorkspace } from '../workspaces/index.ts';
import { normaliseEmail, normaliseIdentityPart, normalisePhone, problemError } from './contact.ts';
import { assertNotSuppressed } from './customer.erasure.ts';
import * as repo from './customer.repository.ts';
import { type ContactKind, type CustomerRef, type Identity, identityKey, newIds } from './customer.ts';

/**
 * Resolving the customer references of incoming events (by id, external identity, email or phone) in
 * bulk: a constant number of statements per call whatever the batch size, safe against concurrent
 * creators of the same customer.
 */

export interface ResolveOptions {
  workspaceId: string;
  /** Region for phone numbers written without a country code. */
  defaultRegion: string;
  /** Whether unknown identities, emails and phones create customers. */
  autoCreate: boolean;
  /**
   * Who is resolving (an actor label). Auto-created customers hold only an identity or a contact point,
   * neither of which records a captor, so nothing stores it yet.
   */
  capturedBy: string;
  /** The system the references came from; the source of auto-created contact points. */
  source: string;
  /**
   * The system each reference came from, by position, when a call mixes several (a batch of events
   * from several systems); `source` where absent.
   */
  sources?: readonly string[];
  /**
   * Whether an email or phone links to the customer holding it verified before an older one holding it
   * unverified; the workspace setting `linkVerifiedContacts` when absent.
   */
  linkVerifiedContacts?: boolean;
}

export type ResolvedRef = { ok: true; customerId: string; created: boolean } | { ok: false; error: AppError };

type Parsed =
  | { kind: 'id'; key: string; id: string }
  | { kind: 'identity'; key: string; identity: Identity }
  | { kind: 'contact'; key: string; contact: { kind: ContactKind; value: string } }
  | { kind: 'error'; error: AppError };

function parseRef(ref: CustomerRef, region: string): Parsed {
  if ('id' in ref && typeof ref.id === 'string') {
    const id = ref.id.toLowerCase();
    if (!isUuid(id)) {
      return {
        kind: 'error',
        error: invalid('CUSTOMER_ID_INVALID', `id "${ref.id}" is not a customer id (a UUID).`, {
          errors: [{ path: 'id', message: 'is not a UUID' }],
        }),
      };
    }
    return { kind: 'id', key: `id:${id}`, id };
  }
  if ('identity' in ref && typeof ref.identity === 'object' && ref.identity !== null) {
    const source = normaliseIdentityPart(String(ref.identity.source ?? ''), 'identity.source');
    const externalId = normaliseIdentityPart(String(ref.identity.externalId ?? ''), 'identity.externalId');
    if (!source.ok) return { kind: 'error', error: problemError(source.code, [source.problem]) };
    if (!externalId.ok) return { kind: 'error', error: problemError(externalId.code, [externalId.problem]) };
    const identity = { source: source.value, externalId: externalId.value };
    return { kind: 'identity', key: `identity:${identityKey(identity)}`, identity };
  }
  if ('email' in ref && typeof ref.email === 'string') {
    const email = normaliseEmail(ref.email, 'email');
    if (!email.ok) return { kind: 'error', error: problemError(email.code, [email.problem]) };
    return {
      kind: 'contact',
      key: repo.contactKey('email', email.value),
      contact: { kind: 'email', value: email.value },
    };
  }
  if ('phone' in ref && typeof ref.phone === 'string') {
    const phone = normalisePhone(ref.phone, region, 'phone');
    if (!phone.ok) return { kind: 'error', error: problemError(phone.code, [phone.problem]) };
    return {
      kind: 'contact',
      key: repo.contactKey('phone', phone.value),
      contact: { kind: 'phone', value: phone.value },
    };
  }
  return {
    kind: 'error',
    error: invalid(
      'CUSTOMER_REF_INVALID',
      'A customer reference names one of: id, identity {source, externalId}, email, phone.',
    ),
  };
}

function describe(parsed: Parsed): string {
  switch (parsed.kind) {
    case 'identity':
      return `identity ${parsed.identity.source}/${parsed.identity.externalId}`;
    case 'contact':
      return `${parsed.contact.kind} ${parsed.contact.value}`;
    case 'id':
      return `id ${parsed.id}`;
    case 'error':
      return 'reference';
  }
}

function unknownCustomer(parsed: Parsed): AppError {
  return notFound(
    'CUSTOMER_UNKNOWN',
    `No customer has ${describe(parsed)}, and the workspace setting autoCreateCustomers is off: create the customer first or turn the setting on.`,
  );
}

/**
 * Resolves customer references to customer ids, in input order. Repeated references resolve to one
 * customer; with `autoCreate`, an unknown identity, email or phone creates one customer (`created` is
 * true on the first reference that created it). A value several customers share resolves to the oldest.
 */
export async function resolveCustomerRefs(
  tx: Tx,
  refs: readonly CustomerRef[],
  options: ResolveOptions,
): Promise<ResolvedRef[]> {
  const { workspaceId } = options;
  const parsed = refs.map((ref) => parseRef(ref, options.defaultRegion));
  const ids = new Set<string>();
  const identities = new Map<string, Identity>();
  const contacts = new Map<string, { kind: ContactKind; value: string; source: string }>();
  parsed.forEach((p, position) => {
    if (p.kind === 'id') ids.add(p.id);
    else if (p.kind === 'identity') identities.set(p.key, p.identity);
    else if (p.kind === 'contact' && !contacts.has(p.key)) {
      contacts.set(p.key, { ...p.contact, source: options.sources?.[position] ?? options.source });
    }
  });

  const owners = new Map<string, string>();
  // A merged customer's id still names the person: it resolves to the customer that absorbed it.
  for (const [id, current] of await repo.findExistingCustomerIds(tx, workspaceId, [...ids]))
    owners.set(`id:${id}`, current);
  const identityOwners = await repo.findIdentityOwners(tx, workspaceId, [...identities.values()]);
  for (const [key, owner] of identityOwners) owners.set(`identity:${key}`, owner);
  const preferVerified = contacts.size > 0 && (await linksVerifiedContacts(tx, options));
  for (const [key, owner] of await repo.findContactOwners(
    tx,
    workspaceId,
    [...contacts.values()],
    preferVerified,
  ))
    owners.set(key, owner);

  const created = new Set<string>();
  if (options.autoCreate) {
    await createForContacts(
      tx,
      options,
      [...contacts].filter(([key]) => !owners.has(key)),
      owners,
      created,
    );
    const unknownIdentities = [...identities].filter(([key]) => !owners.has(key));
    await createForIdentities(tx, workspaceId, unknownIdentities, owners, created);
  }

  return parsed.map((p): ResolvedRef => {
    if (p.kind === 'error') return { ok: false, error: p.error };
    const customerId = owners.get(p.key);
    if (customerId === undefined) {
      if (p.kind === 'id') {
        return {
          ok: false,
          error: notFound('CUSTOMER_NOT_FOUND', `No customer with id ${p.id} in this workspace.`, {
            id: p.id,
          }),
        };
      }
      return { ok: false, error: unknownCustomer(p) };
    }
    const isNew = created.delete(p.key);
    return { ok: true, customerId, created: isNew };
  });
}

/** The caller's choice, or the workspace's setting (read only when a call holds a contact reference). */
async function linksVerifiedContacts(tx: Tx, options: ResolveOptions): Promise<boolean> {
  if (options.linkVerifiedContacts !== undefined) return options.linkVerifiedContacts;
  return (await getWorkspace(tx, options.workspaceId)).settings.linkVerifiedContacts;
}

/**
 * Creates one customer per unknown email or phone. Under an advisory lock per value, so a concurrent
 * creator of the same value waits, then finds the customer made here (the re-read after the lock).
 */
async function createForContacts(
  tx: Tx,
  options: ResolveOptions,
  unknown: [string, { kind: ContactKind; value: string; source: string }][],
  owners: Map<string, string>,
  created: Set<string>,
): Promise<void> {
  if (unknown.length === 0) return;
  const { workspaceId } = options;
  const values = unknown.map(([, contact]) => ({ kind: contact.kind, value: contact.value }));
  await repo.lockContactValues(tx, workspaceId, values);
  const since = await repo.findContactOwners(tx, workspaceId, values);
  const toCreate: repo.ContactPointRow[] = [];
  const customerIds = newIds(unknown.length);
  const contactIds = newIds(unknown.length);
  for (const [i, [key, contact]] of unknown.entries()) {
    const owner = since.get(key);
    if (owner !== undefined) {
      owners.set(key, owner);
      continue;
    }
    const customerId = customerIds[i] ?? newId();
    toCreate.push({
      id: contactIds[i] ?? newId(),
      customerId,
      kind: contact.kind,
      value: contact.value,
      verified: false,
      source: contact.source,
    });
    owners.set(key, customerId);
    created.add(key);
  }
  // An erased person is not re-created by an interaction naming their email or phone.
  await assertNotSuppressed(
    tx,
    workspaceId,
    toCreate.map((c) => [{ kind: c.kind, value: c.value }]),
  );
  await repo.insertBareCustomers(
    tx,
    workspaceId,
    toCreate.map((c) => c.customerId),
  );
  await repo.upsertContactPoints(tx, workspaceId, toCreate);
  await announceCreated(
    tx,
    toCreate.map((c) => ({ customerId: c.customerId, source: c.source })),
  );
}

/** Announces customers an ingest created from a reference it did not know. */
function announceCreated(tx: Tx, created: readonly { customerId: string; source: string }[]) {
  return recordEvents(
    tx,
    created.map((c) => ({
      type: 'customer_created' as const,
      customerId: c.customerId,
      payload: { customerId: c.customerId, source: c.source },
    })),
  );
}

/**
 * Creates one customer per unknown identity. Identities are claimed with ON CONFLICT DO NOTHING: where
 * a concurrent transaction claimed one first, its customer wins and the one made here is deleted.
 */
async function createForIdentities(
  tx: Tx,
  workspaceId: string,
  unknown: [string, Identity][],
  owners: Map<string, string>,
  created: Set<string>,
): Promise<void> {
  if (unknown.length === 0) return;
  const customerIds = newIds(unknown.length);
  const rows = unknown.map(([, identity], i) => ({ ...identity, customerId: customerIds[i] ?? newId() }));
  await assertNotSuppressed(
    tx,
    workspaceId,
    rows.map((r) => [{ kind: `identity.${r.source}`, value: r.externalId }]),
  );
  await repo.insertBareCustomers(
    tx,
    workspaceId,
    rows.map((r) => r.customerId),
  );
  const claimed = await repo.claimIdentities(tx, workspaceId, rows);
  const lost = rows.filter((r) => !claimed.has(identityKey(r)));
  await announceCreated(
    tx,
    rows
      .filter((r) => claimed.has(identityKey(r)))
      .map((r) => ({ customerId: r.customerId, source: r.source })),
  );
  for (const row of rows) {
    if (claimed.has(identityKey(row))) {
      owners.set(`identity:${identityKey(row)}`, row.customerId);
      created.add(`identity:${identityKey(row)}`);
    }
  }
  if (lost.length === 0) return;
  const winners = await repo.findIdentityOwners(tx, workspaceId, lost);
  for (const row of lost) {
    const winner = winners.get(identityKey(row));
    if (winner !== undefined) owners.set(`identity:${identityKey(row)}`, winner);
  }
  await repo.deleteBareCustomers(
    tx,
    workspaceId,
    lost.map((r) => r.customerId),
  );
}
