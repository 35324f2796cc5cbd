import { recordAuditEvents } from '../audit/index.ts';
import { DEFAULT_SUBJECT, loadPrivacySubjects, type PrivacySubject } from '../consent/index.ts';
import { type Customer, getCustomer } from '../customers/index.ts';
import type { Tx } from '../db/index.ts';
import { recordEvent } from '../events/index.ts';
import type { BehaviourCount } from '../facts/index.ts';
import {
  ageInDays,
  applyDerivedFacts,
  assertFactInput,
  changeFact,
  type DerivationOutcome,
  deriveFacts,
  expireFacts,
  type FactInput,
  type FactMerge,
  type FactPatch,
  factKeyOf,
  forgetFact,
  listCurrentFacts,
  listFactHistory,
  type MemoryContext,
  mergeFacts,
  purgeHiddenFacts,
  recordFact,
  refusalError,
  SOURCE_RANK,
  type StoredFact,
  unmergeFacts,
} from '../facts/index.ts';
import { countBehaviour, type IngestResult } from '../interactions/index.ts';
import type { IntimacyLevel } from '../policy/index.ts';
import { assertPermitted, mayPerform } from '../shared/access.ts';
import { getWorkspaceForAccess } from '../workspaces/index.ts';
import { filterCustomer } from './customers.ts';
import { factField, filterFacts, type GovernedFact, memoryContext, memoryOf, view } from './fact-gate.ts';
import { CustomerGate, type Withheld } from './gate.ts';
import { type AccessScope, taxonomyOf } from './scope.ts';

/**
 * Facts under an access scope (SPEC §6): every fact read passes the memory rules (status, a lowered
 * intimacy level, staleness for outreach, the purposes a key serves) and then the one access decision,
 * field by field; every read and write is audited. Capture from ingest, prefill, and the derivation of
 * behavioural facts (for the event subscriber and the scheduled job) live here too, since they compose
 * interactions, consent and facts.
 */

async function subjectOf(scope: AccessScope, customerId: string): Promise<PrivacySubject> {
  const subjects = await loadPrivacySubjects(scope.tx, scope.actor.workspaceId, [customerId]);
  return subjects.get(customerId) ?? DEFAULT_SUBJECT;
}

function auditFacts(scope: AccessScope, action: string, customerId: string, fields: Iterable<string>): void {
  const list = [...new Set(fields)];
  scope.audit({ action, purpose: scope.purpose, customerIds: [customerId], fields: list });
  scope.disclose([customerId], list);
}

/** The facts of a customer as the purpose may see them, with what was withheld; audited. */
export async function readFacts(
  scope: AccessScope,
  customerId: string,
): Promise<{ facts: GovernedFact[]; withheld: Withheld[] }> {
  const customer = await getCustomer(scope.tx, scope.actor, customerId);
  const subject = await subjectOf(scope, customer.id);
  const gate = new CustomerGate(scope, subject);
  if (!gate.open) {
    const reason = gate.subjectDecision.allowed ? '' : gate.subjectDecision.reason;
    return { facts: [], withheld: [{ field: 'facts', reason }] };
  }
  const stored = await listCurrentFacts(scope.tx, scope.actor.workspaceId, [customer.id]);
  const facts = filterFacts(scope, gate, subject, stored);
  if (facts.length > 0) auditFacts(scope, 'fact.read', customer.id, gate.used);
  return { facts, withheld: gate.withheld };
}

/** The versions of one fact the purpose may see (the customer's history of it); audited. */
export async function readFactHistory(
  scope: AccessScope,
  customerId: string,
  factId: string,
): Promise<{ versions: GovernedFact[]; withheld: Withheld[] }> {
  const customer = await getCustomer(scope.tx, scope.actor, customerId);
  const subject = await subjectOf(scope, customer.id);
  const gate = new CustomerGate(scope, subject);
  const versions = await listFactHistory(scope.tx, scope.actor.workspaceId, customer.id, factId);
  const current = versions[0];
  // The history is shown when the current version is: an old value is no less personal than the new one.
  const shown = current && filterFacts(scope, gate, subject, [current]).length > 0;
  if (!shown) return { versions: [], withheld: gate.withheld };
  auditFacts(scope, 'fact.history.read', customer.id, gate.used);
  return { versions: versions.map((v) => view(v, scope.now)), withheld: gate.withheld };
}

function assertMayWriteFacts(scope: AccessScope): void {
  // The people who change customers record facts; the privacy office records the customer's say.
  if (mayPerform(scope.actor.role, 'customers.rectify')) return;
  assertPermitted(scope.actor, 'customers.update');
}

/** What a write answers: the fact as the write's purpose may see it (null when withheld). */
export interface FactWriteAnswer {
  fact: GovernedFact | null;
  outcome: 'created' | 'replaced' | 'unchanged' | 'changed' | 'forgotten';
  withheld: Withheld[];
}

function answerFor(
  scope: AccessScope,
  subject: PrivacySubject,
  fact: StoredFact,
  outcome: FactWriteAnswer['outcome'],
): FactWriteAnswer {
  const gate = new CustomerGate(scope, subject);
  const [shown] = filterFacts(scope, gate, subject, [fact]);
  return { fact: shown ?? null, outcome, withheld: gate.withheld };
}

/**
 * Records a fact a person gives through the API (declared by the customer or observed by staff). A
 * fact the memory rules refuse is an error with its stable code: POLICY_DO_NOT_STORE,
 * FACT_SPECIAL_CATEGORY, FACT_NOT_DECLARED, or 409 FACT_ABOVE_INTIMACY (the customer's chosen level
 * does not allow remembering it; nothing is stored). Audited.
 */
export async function recordFactGoverned(
  scope: AccessScope,
  customerId: string,
  input: FactInput,
): Promise<FactWriteAnswer> {
  assertMayWriteFacts(scope);
  const ctx = memoryContext(scope);
  const checked = assertFactInput(input, ctx);
  const customer = await getCustomer(scope.tx, scope.actor, customerId);
  const subject = await subjectOf(scope, customer.id);
  const outcome = await recordFact(scope.tx, scope.actor, customer.id, input, {
    ctx,
    intimacyLevel: subject.intimacyLevel,
    checked,
  });
  if (!outcome.stored) throw refusalError(outcome.refusal, outcome.key);
  scope.audit({
    action: 'fact.create',
    purpose: scope.purpose,
    customerIds: [customer.id],
    fields: [factField(outcome.fact.key)],
    details: { factId: outcome.fact.factId, sourceKind: input.sourceKind, outcome: outcome.outcome },
  });
  return answerFor(scope, subject, outcome.fact, outcome.outcome);
}

/** The customer's say on one fact: correct, confirm, reject, remember, expiry. Audited (a correction as a rectification). */
export async function changeFactGoverned(
  scope: AccessScope,
  customerId: string,
  factId: string,
  patch: FactPatch,
): Promise<FactWriteAnswer> {
  assertMayWriteFacts(scope);
  const customer = await getCustomer(scope.tx, scope.actor, customerId);
  const subject = await subjectOf(scope, customer.id);
  const changed = await changeFact(scope.tx, scope.actor, customer.id, factId, patch, {
    ctx: memoryContext(scope),
    intimacyLevel: subject.intimacyLevel,
  });
  if (patch.value !== undefined && changed.newVersion) {
    // A correction is a rectification: it travels to every recipient of the customer's data (webhooks).
    await recordEvent(scope.tx, {
      type: 'fact_corrected',
      customerId: customer.id,
      payload: {
        customerId: customer.id,
        factId: changed.fact.factId,
        key: changed.fact.key,
        source: patch.source ?? 'api',
        correctedBy: scope.actor.label,
        correctedAt: scope.now.toISOString(),
      },
    });
  }
  scope.audit({
    action: patch.value !== undefined ? 'fact.rectify' : 'fact.update',
    purpose: scope.purpose,
    customerIds: [customer.id],
    fields: [factField(changed.fact.key)],
    details: { factId: changed.fact.factId, changes: Object.keys(patch).sort() },
  });
  return answerFor(scope, subject, changed.fact, 'changed');
}

/** Forgets a fact: it disappears from every read, segment and prefill at once. Audited. */
export async function forgetFactGoverned(
  scope: AccessScope,
  customerId: string,
  factId: string,
): Promise<{ id: string; status: 'forgotten' }> {
  assertMayWriteFacts(scope);
  const customer = await getCustomer(scope.tx, scope.actor, customerId);
  const fact = await forgetFact(scope.tx, scope.actor.workspaceId, customer.id, factId, scope.now);
  scope.audit({
    action: 'fact.forget',
    purpose: scope.purpose,
    customerIds: [customer.id],
    fields: [factField(fact.key)],
    details: { factId: fact.factId },
  });
  return { id: fact.factId, status: 'forgotten' };
}

// ---------------------------------------------------------------------------------------------------
// Prefill

/** One prefilled value with where it came from and how fresh it is. */
export interface PrefillValue {
  value: unknown;
  from: 'customer' | 'fact';
  provenance: {
    source: string;
    capturedBy: string | null;
    capturedAt: string;
    interactionId: string | null;
    confidence: number;
    sourceKind: string;
    factId?: string;
    verified?: boolean;
  };
  freshness: { capturedAt: string; ageDays: number; stale: boolean };
}

/** The golden-record fields a form may ask for, and the fact key that may answer the same question. */
const RECORD_FIELDS: Readonly<
  Record<string, { field: keyof Customer; fact?: string; purposes?: readonly string[] }>
> = {
  givenName: { field: 'givenName' },
  familyName: { field: 'familyName' },
  preferredName: { field: 'preferredName' },
  email: { field: 'emails' },
  phone: { field: 'phones' },
  address: { field: 'addresses' },
  language: { field: 'language', fact: 'language' },
  // Only what serving the customer and reaching out need: billing and delivery never ask a birthday.
  birthDate: {
    field: 'birthDate',
    fact: 'birthday',
    purposes: ['service', 'personalization', 'marketing', 'analytics', 'legal'],
  },
};
const FIELD_ALIASES: Readonly<Record<string, string>> = { birthday: 'birthDate', postalAddress: 'address' };

function recordValue(
  customer: Customer,
  name: keyof Customer,
): { value: unknown; contact?: string } | undefined {
  if (name === 'emails' || name === 'phones') {
    const list = customer[name];
    const value = list[0];
    if (value === undefined) return undefined;
    return { value, contact: name === 'emails' ? 'email' : 'phone' };
  }
  if (name === 'addresses') {
    const value = customer.addresses[0];
    return value === undefined ? undefined : { value, contact: 'address' };
  }
  const value = customer[name];
  return value === null || value === undefined ? undefined : { value };
}

/**
 * Prefill (SPEC §6): for each field of a form, the known value the purpose may use — from the golden
 * record or from facts, the customer's own word first — with its provenance and freshness; `withheld`
 * names the fields the purpose may not use and why, `unknown` the fields nothing is known of. Only
 * facts that are active or confirmed, not stale and not inferences ever prefill a form. Audited.
 */
export async function prefillGoverned(
  scope: AccessScope,
  customerId: string,
  fields: readonly string[],
): Promise<{ values: Record<string, PrefillValue>; withheld: Withheld[]; unknown: string[] }> {
  const customer = await getCustomer(scope.tx, scope.actor, customerId);
  const subject = await subjectOf(scope, customer.id);
  const gate = new CustomerGate(scope, subject);
  const values: Record<string, PrefillValue> = {};
  const unknown: string[] = [];
  const withheld: Withheld[] = [];
  if (!gate.open) {
    const reason = gate.subjectDecision.allowed ? '' : gate.subjectDecision.reason;
    return { values, withheld: fields.map((field) => ({ field, reason })), unknown };
  }
  const shownRecord = filterCustomer(customer, gate);
  const ctx = memoryContext(scope);
  const factKeys = new Set<string>();
  for (const name of fields) {
    const record = RECORD_FIELDS[FIELD_ALIASES[name] ?? name];
    if (record?.fact) factKeys.add(record.fact);
    else if (!record) {
      const def = factKeyOf(name, ctx.taxonomy, ctx.workspaceCategories);
      if (def) factKeys.add(def.key);
    }
  }
  const stored =
    factKeys.size > 0
      ? await listCurrentFacts(scope.tx, scope.actor.workspaceId, [customer.id], [...factKeys])
      : [];
  const factGate = new CustomerGate(scope, subject);
  const usable = filterFacts(scope, factGate, subject, stored)
    .filter(
      (f) => (f.status === 'active' || f.status === 'confirmed') && !f.stale && f.sourceKind !== 'inferred',
    )
    .sort(
      (a, b) =>
        SOURCE_RANK[a.sourceKind as keyof typeof SOURCE_RANK] -
          SOURCE_RANK[b.sourceKind as keyof typeof SOURCE_RANK] ||
        (a.provenance.capturedAt < b.provenance.capturedAt ? 1 : -1),
    );
  const withheldOf = (w: readonly Withheld[], field: string) => w.find((x) => x.field === field);
  for (const name of fields) {
    const canonical = FIELD_ALIASES[name] ?? name;
    const record = RECORD_FIELDS[canonical];
    const def = record ? undefined : factKeyOf(name, ctx.taxonomy, ctx.workspaceCategories);
    if (!record && !def) {
      unknown.push(name);
      continue;
    }
    if (record?.purposes && !record.purposes.includes(scope.purpose)) {
      withheld.push({ field: name, reason: 'FACT_NOT_FOR_PURPOSE' });
      continue;
    }
    const factKey = record ? record.fact : def?.key;
    const fact = factKey ? usable.find((f) => f.key === factKey) : undefined;
    if (fact) {
      values[name] = {
        value: fact.value,
        from: 'fact',
        provenance: {
          source: fact.provenance.source,
          capturedBy: fact.provenance.capturedBy,
          capturedAt: fact.provenance.capturedAt,
          interactionId: fact.provenance.interactionId,
          confidence: fact.provenance.confidence,
          sourceKind: fact.sourceKind,
          factId: fact.id,
        },
        freshness: {
          capturedAt: fact.provenance.capturedAt,
          ageDays: ageInDays(fact.provenance.capturedAt, scope.now),
          stale: false,
        },
      };
      continue;
    }
    if (record) {
      const found = recordValue(shownRecord, record.field);
      if (found) {
        const contact = found.contact
          ? customer.contactPoints.find((cp) => cp.kind === found.contact)
          : undefined;
        const provenance = customer.provenance[record.field as keyof typeof customer.provenance];
        const capturedAt = provenance?.capturedAt ?? contact?.createdAt ?? customer.createdAt;
        values[name] = {
          value: found.value,
          from: 'customer',
          provenance: {
            source: provenance?.source ?? contact?.source ?? 'unknown',
            capturedBy: provenance?.capturedBy ?? null,
            capturedAt,
            interactionId: provenance?.interactionId ?? null,
            confidence: provenance?.confidence ?? 1,
            sourceKind: 'declared',
            ...(contact ? { verified: contact.verified } : {}),
          },
          freshness: { capturedAt, ageDays: ageInDays(capturedAt, scope.now), stale: false },
        };
        continue;
      }
      const held = withheldOf(gate.withheld, record.field);
      if (held) {
        withheld.push({ field: name, reason: held.reason });
        continue;
      }
    }
    const heldFact = factKey ? withheldOf(factGate.withheld, factField(factKey)) : undefined;
    if (heldFact) withheld.push({ field: name, reason: heldFact.reason });
    else unknown.push(name);
  }
  const used = Object.entries(values).map(([name, v]) =>
    v.from === 'fact'
      ? factField(FIELD_ALIASES[name] === 'birthDate' ? 'birthday' : name)
      : (RECORD_FIELDS[FIELD_ALIASES[name] ?? name]?.field as string),
  );
  if (used.length > 0) auditFacts(scope, 'customer.prefill', customer.id, used);
  return { values, withheld, unknown };
}

// ---------------------------------------------------------------------------------------------------
// Capture at ingest

/** What capture did with the fact an interaction carried. */
export interface CapturedFact {
  status: 'created' | 'replaced' | 'unchanged' | 'refused';
  key: string;
  id?: string;
  code?: string;
  message?: string;
}

/** Interaction types whose properties carry a fact, and the source kind it has. */
const CAPTURE_TYPES: Readonly<Record<string, 'declared' | 'observed'>> = {
  preference_stated: 'declared',
  life_event_declared: 'declared',
  // A staff note about a customer (a custom type): `properties.key` and `properties.value`, observed.
  staff_note: 'observed',
};

interface RawItem {
  type?: unknown;
  source?: unknown;
  occurredAt?: unknown;
  properties?: Record<string, unknown> | null;
  explicitConsentFor?: unknown;
}

function factOfItem(item: RawItem): Omit<FactInput, 'interactionId'> | undefined {
  const kind = typeof item.type === 'string' ? CAPTURE_TYPES[item.type] : undefined;
  const props = item.properties;
  if (!kind || !props) return undefined;
  const base = {
    sourceKind: kind,
    source: typeof item.source === 'string' ? item.source : 'ingest',
    ...(typeof item.occurredAt === 'string' ? { capturedAt: item.occurredAt } : {}),
    consentPurposes: Array.isArray(item.explicitConsentFor)
      ? item.explicitConsentFor.filter((p): p is string => typeof p === 'string')
      : [],
  };
  if (item.type === 'life_event_declared') {
    const date = typeof props.date === 'string' ? props.date.slice(0, 10) : undefined;
    return { ...base, key: 'life_event', value: { event: props.event, ...(date ? { date } : {}) } };
  }
  if (typeof props.key !== 'string') return undefined;
  return {
    ...base,
    key: props.key,
    value: props.value,
    ...(typeof props.expiresAt === 'string' ? { expiresAt: props.expiresAt } : {}),
    ...(props.remember === true ? { remember: true } : {}),
  };
}

/**
 * Creates the facts that interactions just stored carry, in the ingest's own transaction: a
 * `preference_stated` (`properties.key`, `properties.value`) or `life_event_declared` is declared by the
 * customer, a `staff_note` observed. An item the storage policy stripped anything from carries no fact.
 * Each created interaction's result tells what became of its fact (stored, or refused and why).
 */
export async function captureFactsFromIngest(
  scope: AccessScope,
  items: readonly unknown[],
  results: readonly IngestResult[],
): Promise<Map<number, CapturedFact>> {
  const captured = new Map<number, CapturedFact>();
  const pending: { index: number; customerId: string; input: FactInput }[] = [];
  for (const result of results) {
    if (result.status !== 'created' || !result.customerId || !result.id) continue;
    const input = factOfItem((items[result.index] ?? {}) as RawItem);
    if (!input) continue;
    if (result.dropped?.some((d) => d.path.includes('properties'))) {
      captured.set(result.index, {
        status: 'refused',
        key: input.key,
        code: 'POLICY_DO_NOT_STORE',
        message: 'The storage policy dropped part of this interaction; its fact was not remembered.',
      });
      continue;
    }
    pending.push({
      index: result.index,
      customerId: result.customerId,
      input: { ...input, interactionId: result.id },
    });
  }
  if (pending.length === 0) return captured;
  const subjects = await loadPrivacySubjects(scope.tx, scope.actor.workspaceId, [
    ...new Set(pending.map((p) => p.customerId)),
  ]);
  const ctx = memoryContext(scope);
  const customers = new Set<string>();
  const fields = new Set<string>();
  for (const p of pending) {
    let outcome: Awaited<ReturnType<typeof recordFact>>;
    try {
      outcome = await recordFact(scope.tx, scope.actor, p.customerId, p.input, {
        ctx,
        intimacyLevel: (subjects.get(p.customerId) ?? DEFAULT_SUBJECT).intimacyLevel,
      });
    } catch (error) {
      const e = error as { code?: string; message?: string; kind?: string };
      if (e.kind !== 'invalid') throw error;
      captured.set(p.index, {
        status: 'refused',
        key: p.input.key,
        code: e.code ?? 'FACT_INVALID',
        message: e.message ?? '',
      });
      continue;
    }
    if (!outcome.stored) {
      captured.set(p.index, {
        status: 'refused',
        key: outcome.key,
        code: outcome.refusal.code,
        message: outcome.refusal.message,
      });
      continue;
    }
    captured.set(p.index, { status: outcome.outcome, key: outcome.fact.key, id: outcome.fact.factId });
    if (outcome.outcome !== 'unchanged') {
      customers.add(p.customerId);
      fields.add(factField(outcome.fact.key));
    }
  }
  if (customers.size > 0) {
    scope.audit({
      action: 'fact.capture',
      purpose: scope.purpose,
      customerIds: [...customers],
      fields: [...fields],
    });
  }
  return captured;
}

// ---------------------------------------------------------------------------------------------------
// Derivation, expiry and purge (for the event subscriber and the scheduled jobs)

const SYSTEM_ACTOR = { keyId: null, role: 'system', label: 'system:facts' } as const;

async function workspaceMemory(tx: Tx, workspaceId: string, now: Date): Promise<MemoryContext> {
  const workspace = await getWorkspaceForAccess(tx, workspaceId);
  return memoryOf(workspace, taxonomyOf(workspace), now);
}

async function intimacyLevels(
  tx: Tx,
  workspaceId: string,
  ids: readonly string[],
): Promise<Map<string, IntimacyLevel>> {
  const levels = new Map<string, IntimacyLevel>();
  for (let i = 0; i < ids.length; i += 5000) {
    const subjects = await loadPrivacySubjects(tx, workspaceId, ids.slice(i, i + 5000));
    for (const [id, s] of subjects) levels.set(id, s.intimacyLevel);
  }
  return levels;
}

async function derive(
  tx: Tx,
  workspaceId: string,
  customerIds: readonly string[] | null,
  now: Date,
): Promise<DerivationOutcome> {
  const ctx = await workspaceMemory(tx, workspaceId, now);
  const counts = (await countBehaviour(tx, workspaceId, customerIds)) as BehaviourCount[];
  const derived = deriveFacts(counts);
  const ids = customerIds ?? [...new Set(derived.map((d) => d.customerId))];
  const levels = await intimacyLevels(tx, workspaceId, ids);
  const outcome = await applyDerivedFacts(tx, { workspaceId, label: SYSTEM_ACTOR.label }, derived, {
    ctx,
    scope: customerIds,
    intimacyOf: (id) => levels.get(id) ?? DEFAULT_SUBJECT.intimacyLevel,
  });
  if (outcome.customerIds.length > 0) {
    await recordAuditEvents(
      tx,
      workspaceId,
      { actor: SYSTEM_ACTOR, requestId: null },
      [
        {
          action: 'fact.derive',
          purpose: null,
          customerIds: outcome.customerIds,
          fields: ['facts.derived'],
          details: {
            created: outcome.created,
            replaced: outcome.replaced,
            refreshed: outcome.refreshed,
            retired: outcome.retired,
          },
        },
      ],
      now,
    );
  }
  return outcome;
}

/**
 * Recomputes the behavioural facts of some customers (the subscriber of `interaction_recorded` calls it
 * with the customers of the events), in the caller's transaction; audited as the system.
 */
export function deriveFactsForCustomers(
  tx: Tx,
  workspaceId: string,
  customerIds: readonly string[],
  now: Date = new Date(),
): Promise<DerivationOutcome> {
  if (customerIds.length === 0)
    return Promise.resolve({ created: 0, replaced: 0, refreshed: 0, retired: 0, customerIds: [] });
  return derive(tx, workspaceId, [...new Set(customerIds.map((id) => id.toLowerCase()))], now);
}

/** Recomputes the behavioural facts of every customer of a workspace in one scan (the scheduled job). */
export function deriveAllFacts(
  tx: Tx,
  workspaceId: string,
  now: Date = new Date(),
): Promise<DerivationOutcome> {
  return derive(tx, workspaceId, null, now);
}

/**
 * The facts' upkeep of one workspace (a scheduled job): marks facts past their expiry as expired, and
 * purges the facts a lowered intimacy level has hidden for longer than the grace period.
 */
export async function maintainFacts(
  tx: Tx,
  workspaceId: string,
  now: Date = new Date(),
): Promise<{ expired: number; purged: number }> {
  const expired = await expireFacts(tx, workspaceId, now);
  const purged = await purgeHiddenFacts(tx, workspaceId, now);
  if (purged > 0) {
    await recordAuditEvents(
      tx,
      workspaceId,
      { actor: SYSTEM_ACTOR, requestId: null },
      [{ action: 'fact.purge', purpose: null, customerIds: [], fields: ['facts'], details: { purged } }],
      now,
    );
  }
  return { expired, purged };
}

// ---------------------------------------------------------------------------------------------------
// Merges and unmerges (identity's merge path calls these in its own transaction)

/**
 * A merge carries the absorbed customer's facts to the survivor, provenance kept, conflicts settled by
 * the facts rules (a newer statement of the same kind wins; kinds never supersede each other and readers
 * rank the customer's own word first). Answers what the merge keeps for its unmerge.
 */
export function moveFactsOnMerge(
  scope: AccessScope,
  survivorId: string,
  absorbedId: string,
): Promise<FactMerge> {
  return mergeFacts(scope.tx, scope.actor.workspaceId, survivorId, absorbedId, memoryContext(scope));
}

/** An unmerge gives the absorbed customer its facts back and restores what the merge's conflicts superseded. */
export function returnFactsOnUnmerge(
  scope: AccessScope,
  survivorId: string,
  absorbedId: string,
  merge: FactMerge,
): Promise<{ returned: number; restored: number }> {
  return unmergeFacts(scope.tx, scope.actor.workspaceId, survivorId, absorbedId, merge, scope.now);
}
