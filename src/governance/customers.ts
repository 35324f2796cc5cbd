import { DEFAULT_SUBJECT, loadPrivacySubjects, type PrivacySubject } from '../consent/index.ts';
import {
  type Customer,
  type CustomerInput,
  type CustomerPatch,
  type CustomerQuery,
  createCustomer,
  createCustomers,
  type ExportedCustomer,
  type FieldHistoryEntry,
  getCustomer,
  listCustomers,
  listFieldHistory,
  type MoveInput,
  moveCustomer,
  updateCustomer,
} from '../customers/index.ts';
import { listCurrentFacts } from '../facts/index.ts';
import { CUSTOMER_FIELD_CATEGORIES, keyedHash } from '../policy/index.ts';
import { assertPermitted } from '../shared/access.ts';
import { AppError, forbidden, invalid } from '../shared/errors.ts';
import { findValueProfile, type StoredValueProfile } from '../value/index.ts';
import { getWorkspaceSecret } from '../workspaces/index.ts';
import { filterFacts, type GovernedFact } from './fact-gate.ts';
import { CustomerGate, subjectWhere, type Withheld } from './gate.ts';
import { type RelationshipSummary, summariseRelationship } from './relationships.ts';
import type { AccessScope } from './scope.ts';

/** Customers read and written under an access scope: every field decided, every access audited. */

/** A customer as a purpose may see it, with what was withheld and why (a read adds the value profile, if any). */
export type GovernedCustomer = Customer & {
  withheld: Withheld[];
  value?: GovernedValue;
  facts?: GovernedFact[];
  relationship?: RelationshipSummary;
};

/** The value profile in a customer read: withheld fields are null (behavioral scores, transaction figures). */
export type GovernedValue = {
  [K in keyof Omit<StoredValueProfile, 'customerId' | 'asOf'>]: StoredValueProfile[K] | null;
} & { asOf: string };

const VALUE_CATEGORIES: Record<keyof Omit<StoredValueProfile, 'customerId' | 'asOf'>, string> = {
  purchases: 'transaction',
  frequency: 'transaction',
  totalSpend: 'transaction',
  monetaryValue: 'transaction',
  firstPurchaseAt: 'transaction',
  lastPurchaseAt: 'transaction',
  pAlive: 'behavioral',
  expectedPurchases: 'behavioral',
  expectedSpend: 'behavioral',
  clv: 'behavioral',
  rfm: 'behavioral',
  currency: 'transaction',
};

/** Applies the decision to a value profile: each field null when the purpose may not use it. */
export function filterValue(profile: StoredValueProfile, gate: CustomerGate): GovernedValue {
  const { customerId: _id, asOf, ...fields } = profile;
  const out: Record<string, unknown> = { asOf };
  for (const [field, value] of Object.entries(fields)) {
    const key = field as keyof typeof VALUE_CATEGORIES;
    out[field] = gate.allows(`value.${field}`, VALUE_CATEGORIES[key]) ? value : null;
  }
  return out as GovernedValue;
}

/** The identity source under which a government id's keyed hash is kept: `government_id.<kind>`. */
export const GOVERNMENT_ID_SOURCE_PREFIX = 'government_id.';

/** A government id as given by a caller; only its keyed hash is ever stored. */
export interface GovernmentIdInput {
  kind: 'national_id' | 'passport' | 'tax_id';
  value: string;
}

function categoryOfIdentity(source: string): string {
  return source.startsWith(GOVERNMENT_ID_SOURCE_PREFIX) ? 'government_id' : 'identity.external_id';
}

const category = (field: string): string | null => CUSTOMER_FIELD_CATEGORIES[field] ?? null;

/** Applies the decision to one customer: withheld fields are null (lists empty) and listed. */
export function filterCustomer(customer: Customer, gate: CustomerGate): GovernedCustomer {
  const out: GovernedCustomer = {
    ...customer,
    provenance: { ...customer.provenance },
    withheld: gate.withheld,
  };
  for (const field of ['givenName', 'familyName', 'preferredName', 'language', 'birthDate'] as const) {
    if (customer[field] === null) continue;
    if (!gate.allows(field, category(field))) {
      out[field] = null;
      delete out.provenance[field];
    }
  }
  if (customer.emails.length > 0 && !gate.allows('emails', category('emails'))) out.emails = [];
  if (customer.phones.length > 0 && !gate.allows('phones', category('phones'))) out.phones = [];
  if (customer.addresses.length > 0 && !gate.allows('addresses', category('addresses'))) out.addresses = [];
  out.contactPoints = customer.contactPoints.filter((cp) =>
    cp.kind === 'email'
      ? out.emails.length > 0
      : cp.kind === 'phone'
        ? out.phones.length > 0
        : out.addresses.length > 0,
  );
  out.identities = customer.identities.filter((identity) =>
    gate.allows(
      identity.source.startsWith(GOVERNMENT_ID_SOURCE_PREFIX) ? 'governmentIds' : 'identities',
      categoryOfIdentity(identity.source),
    ),
  );
  return out;
}

function auditRead(
  scope: AccessScope,
  action: string,
  customers: readonly string[],
  fields: Iterable<string>,
) {
  if (customers.length === 0) return;
  scope.audit({ action, purpose: scope.purpose, customerIds: customers, fields: [...new Set(fields)] });
  scope.disclose(customers, [...new Set(fields)]);
}

async function subjectsOf(scope: AccessScope, ids: readonly string[]): Promise<Map<string, PrivacySubject>> {
  return loadPrivacySubjects(scope.tx, scope.actor.workspaceId, ids);
}

/** One customer as the scope's purpose may see it; audited (and disclosed, for an integration key). */
export async function readCustomer(scope: AccessScope, id: string): Promise<GovernedCustomer> {
  const customer = await getCustomer(scope.tx, scope.actor, id);
  const subject = (await subjectsOf(scope, [customer.id])).get(customer.id) ?? DEFAULT_SUBJECT;
  const gate = new CustomerGate(scope, subject);
  const governed = filterCustomer(customer, gate);
  const profile = gate.open
    ? await findValueProfile(scope.tx, scope.actor.workspaceId, customer.id)
    : undefined;
  if (profile) governed.value = filterValue(profile, gate);
  await addFactsAndRelationship(scope, gate, subject, governed);
  governed.withheld = gate.withheld;
  auditRead(scope, 'customer.read', [customer.id], gate.used);
  return governed;
}

/**
 * The customer's allowed facts (with provenance) and relationship summary, decided by the same gate as
 * the rest of the read (the customer read and the 360 share this).
 */
export async function addFactsAndRelationship(
  scope: AccessScope,
  gate: CustomerGate,
  subject: PrivacySubject,
  governed: GovernedCustomer,
): Promise<void> {
  if (gate.open) {
    const stored = await listCurrentFacts(scope.tx, scope.actor.workspaceId, [governed.id]);
    governed.facts = filterFacts(scope, gate, subject, stored);
  }
  const relationship = await summariseRelationship(scope, gate, governed.id, subject.intimacyLevel);
  if (relationship) governed.relationship = relationship;
}

/** Refuses a filter on a field the purpose may never read: filtering would reveal it. */
function assertFiltersAllowed(scope: AccessScope, query: CustomerQuery): void {
  const used: [string, string][] = [];
  if (query.q !== undefined && query.q.trim() !== '') used.push(['q', 'identity.name'], ['q', 'contact']);
  if (query.email !== undefined) used.push(['email', 'contact.email']);
  if (query.phone !== undefined) used.push(['phone', 'contact.phone']);
  if (query.externalId !== undefined || query.source !== undefined)
    used.push(['externalId', 'identity.external_id']);
  for (const [parameter, cat] of used) {
    const rule = scope.access.fieldRule({ category: cat });
    if (rule.kind === 'deny') {
      throw forbidden(
        'FILTER_NOT_ALLOWED',
        `The purpose "${scope.purpose}" may not read ${cat}, so it may not filter or search by it (${parameter}).`,
        { parameter, category: cat, reason: rule.reason },
      );
    }
  }
}

/**
 * Lists or searches customers the purpose may process (the subject condition is part of the query),
 * each with only the fields the purpose may see.
 */
export async function listGovernedCustomers(
  scope: AccessScope,
  query: CustomerQuery,
): Promise<{ customers: GovernedCustomer[]; nextCursor: string | null }> {
  assertFiltersAllowed(scope, query);
  const page = await listCustomers(scope.tx, scope.actor, {
    ...query,
    where: subjectWhere(scope.access.subjectCondition),
  });
  const subjects = await subjectsOf(
    scope,
    page.customers.map((c) => c.id),
  );
  const used = new Set<string>();
  const customers = page.customers.map((customer) => {
    const gate = new CustomerGate(scope, subjects.get(customer.id) ?? DEFAULT_SUBJECT);
    const governed = filterCustomer(customer, gate);
    for (const field of gate.used) used.add(field);
    return governed;
  });
  auditRead(
    scope,
    query.q ? 'customer.search' : 'customer.list',
    customers.map((c) => c.id),
    used,
  );
  return { customers, nextCursor: page.nextCursor };
}

/** A customer's field history, only of fields the purpose may see. */
export async function readFieldHistory(
  scope: AccessScope,
  id: string,
): Promise<{ history: FieldHistoryEntry[]; withheld: Withheld[] }> {
  const history = await listFieldHistory(scope.tx, scope.actor, id);
  const customerId = id.toLowerCase();
  const gate = new CustomerGate(
    scope,
    (await subjectsOf(scope, [customerId])).get(customerId) ?? DEFAULT_SUBJECT,
  );
  const shown = history.filter((entry) => gate.allows(entry.field, category(entry.field)));
  auditRead(scope, 'customer.history.read', [customerId], gate.used);
  return { history: shown, withheld: gate.withheld };
}

/** Turns government ids into keyed-hash identities; a clear one under an identity source is refused. */
async function withHashedGovernmentIds<
  T extends { identities?: readonly { source: string; externalId: string }[] | undefined },
>(scope: AccessScope, input: T, governmentIds: readonly GovernmentIdInput[] | undefined): Promise<T> {
  (input.identities ?? []).forEach((identity, index) => {
    if (identity.source.toLowerCase().startsWith(GOVERNMENT_ID_SOURCE_PREFIX)) {
      throw invalid(
        'POLICY_DO_NOT_STORE',
        'A government id is never stored in clear: send it in governmentIds, where only its keyed hash is kept.',
        {
          errors: [
            {
              path: `identities[${index}].source`,
              message: 'is reserved for keyed hashes of government ids',
            },
          ],
        },
      );
    }
  });
  if (!governmentIds || governmentIds.length === 0) return input;
  const secret = await getWorkspaceSecret(scope.tx, scope.actor.workspaceId, 'identity_hash');
  const hashed = governmentIds.map((g) => ({
    source: `${GOVERNMENT_ID_SOURCE_PREFIX}${g.kind}`,
    externalId: keyedHash(secret, g.kind, g.value),
  }));
  return { ...input, identities: [...(input.identities ?? []), ...hashed] };
}

function writtenFields(input: object): string[] {
  return Object.keys(input).filter((k) => k !== 'source' && k !== 'capturedAt');
}

/** True when a new customer has something to tell them by: a name, an email, a phone or an identity. */
function isIdentifiable(input: CustomerInput & { governmentIds?: readonly unknown[] | undefined }): boolean {
  const named = [input.givenName, input.familyName, input.preferredName].some(
    (name) => typeof name === 'string' && name.trim() !== '',
  );
  const listed = [input.emails, input.phones, input.identities, input.governmentIds].some(
    (list) => list !== undefined && list.length > 0,
  );
  return named || listed;
}

/** Creates a customer; government ids are kept only as keyed hashes; audited. */
export async function createGovernedCustomer(
  scope: AccessScope,
  input: CustomerInput & { governmentIds?: GovernmentIdInput[] | undefined },
): Promise<GovernedCustomer> {
  assertPermitted(scope.actor, 'customers.create');
  if (!isIdentifiable(input)) {
    throw invalid(
      'CUSTOMER_EMPTY',
      'A customer needs at least one identifying field: givenName, familyName, preferredName, emails, phones, identities or governmentIds.',
      { errors: [{ path: '(root)', message: 'must name the customer by at least one identifying field' }] },
    );
  }
  const { governmentIds, ...rest } = input;
  const created = await createCustomer(
    scope.tx,
    scope.actor,
    await withHashedGovernmentIds(scope, rest, governmentIds),
  );
  scope.audit({
    action: 'customer.create',
    purpose: scope.purpose,
    customerIds: [created.id],
    fields: writtenFields(input),
  });
  return answerOfWrite(scope, created, DEFAULT_SUBJECT);
}

/** A write's answer: what a read would show right after it (facts and relationship included). */
async function answerOfWrite(
  scope: AccessScope,
  customer: Customer,
  subject: PrivacySubject,
): Promise<GovernedCustomer> {
  const gate = new CustomerGate(scope, subject);
  const governed = filterCustomer(customer, gate);
  await addFactsAndRelationship(scope, gate, subject, governed);
  return governed;
}

/**
 * Creates several customers in a few statements (a bulk load such as the demo's); one audit event names
 * them all. Government ids are not taken here: a bulk source carries none. Returns the new ids, in order.
 */
export async function createGovernedCustomers(
  scope: AccessScope,
  inputs: readonly CustomerInput[],
): Promise<string[]> {
  if (inputs.length === 0) return [];
  for (const [i, input] of inputs.entries()) {
    try {
      await withHashedGovernmentIds(scope, input, undefined);
    } catch (error) {
      if (!(error instanceof AppError)) throw error;
      const { errors } = error.details as { errors: { path: string; message: string }[] };
      throw invalid(error.code, error.message, {
        errors: errors.map((e) => ({ ...e, path: `customers[${i}].${e.path}` })),
      });
    }
  }
  const created = await createCustomers(scope.tx, scope.actor, inputs);
  scope.audit({
    action: 'customer.create',
    purpose: scope.purpose,
    customerIds: created.map((c) => c.id),
    fields: [...new Set(inputs.flatMap(writtenFields))],
  });
  return created.map((c) => c.id);
}

/** Changes a customer; audited. */
export async function updateGovernedCustomer(
  scope: AccessScope,
  id: string,
  patch: CustomerPatch & { governmentIds?: GovernmentIdInput[] | undefined },
): Promise<GovernedCustomer> {
  assertPermitted(scope.actor, 'customers.update');
  const { governmentIds, ...rest } = patch;
  const updated = await updateCustomer(
    scope.tx,
    scope.actor,
    id,
    await withHashedGovernmentIds(scope, rest, governmentIds),
  );
  scope.audit({
    action: 'customer.update',
    purpose: scope.purpose,
    customerIds: [updated.id],
    fields: writtenFields(patch),
  });
  const subject = (await subjectsOf(scope, [updated.id])).get(updated.id) ?? DEFAULT_SUBJECT;
  return answerOfWrite(scope, updated, subject);
}

/**
 * Records that a customer moves: the address holding until then ends at the moving date (kept, with its
 * validity), the new one is current from it. Audited as a change of `addresses`.
 */
export async function moveGovernedCustomer(
  scope: AccessScope,
  id: string,
  input: MoveInput,
): Promise<GovernedCustomer> {
  assertPermitted(scope.actor, 'customers.update');
  const moved = await moveCustomer(scope.tx, scope.actor, id, input, scope.now);
  scope.audit({
    action: 'customer.move',
    purpose: scope.purpose,
    customerIds: [moved.id],
    fields: ['addresses'],
    details: { movedAt: input.movedAt ?? scope.now.toISOString(), source: input.source },
  });
  const subject = (await subjectsOf(scope, [moved.id])).get(moved.id) ?? DEFAULT_SUBJECT;
  return answerOfWrite(scope, moved, subject);
}

/** An exported customer (the restorable record) with only what the gate allows, or null when closed. */
export function filterExportedCustomer(
  customer: ExportedCustomer,
  gate: CustomerGate,
): ExportedCustomer | null {
  if (!gate.open) return null;
  const out: ExportedCustomer = { ...customer };
  const hidden = new Set<string>();
  for (const field of ['givenName', 'familyName', 'preferredName', 'language', 'birthDate'] as const) {
    if (customer[field] !== null && !gate.allows(field, category(field))) {
      out[field] = null;
      hidden.add(field);
    }
  }
  out.provenance = customer.provenance.filter((p) => !hidden.has(p.field));
  const emails = gate.allows('emails', category('emails'));
  const phones = gate.allows('phones', category('phones'));
  const addresses = gate.allows('addresses', category('addresses'));
  out.contactPoints = customer.contactPoints.filter((cp) =>
    cp.kind === 'email' ? emails : cp.kind === 'phone' ? phones : addresses,
  );
  out.identities = customer.identities.filter((identity) =>
    gate.allows(
      identity.source.startsWith(GOVERNMENT_ID_SOURCE_PREFIX) ? 'governmentIds' : 'identities',
      categoryOfIdentity(identity.source),
    ),
  );
  return out;
}
