import type { Static } from '@sinclair/typebox';
import type { Tx } from '../db/index.ts';
import { recordEvents } from '../events/index.ts';
import { invalid, notFound } from '../shared/errors.ts';
import { newId } from '../shared/ids.ts';
import type { Actor } from '../workspaces/index.ts';
import * as repo from './consent.repository.ts';
import type { PrivacyFlagBody, RecordConsentBody, SetIntimacyBody } from './consent.schema.ts';
import type { ConsentRecord, ConsentStateEntry, IntimacyLevel, PrivacySubject } from './consent.ts';
import { DEFAULT_SUBJECT } from './consent.ts';

/** Use-cases of consent, intimacy and privacy flags. The caller owns the transaction. */

/** What the consent ledger needs to know of the workspace's purposes (from its taxonomy). */
export interface PurposeRules {
  /** The lawful basis of a purpose, or undefined for an unknown purpose. */
  lawfulBasisOf(purpose: string): string | undefined;
  /** True where only an explicit opt-in opens the purpose (sale, third-party sharing). */
  needsExplicitOptIn(purpose: string): boolean;
}

export type RecordConsentInput = Static<typeof RecordConsentBody>;
export type SetIntimacyInput = Static<typeof SetIntimacyBody>;
export type PrivacyFlagInput = Static<typeof PrivacyFlagBody>;

/** How far ahead of the clock an effective time may be (clock skew between systems). */
const MAX_CLOCK_SKEW_MS = 5 * 60_000;

function customerNotFound(id: string) {
  return notFound('CUSTOMER_NOT_FOUND', `No customer ${id} in this workspace.`, { id });
}

async function lockCustomer(tx: Tx, workspaceId: string, customerId: string) {
  const columns = await repo.lockPrivacyColumns(tx, workspaceId, customerId);
  if (!columns) throw customerNotFound(customerId);
  return columns;
}

function assertKnownPurpose(rules: PurposeRules, purpose: string): void {
  if (rules.lawfulBasisOf(purpose) === undefined) {
    throw invalid('PURPOSE_UNKNOWN', `"${purpose}" is not a purpose of this workspace.`, {
      errors: [{ path: 'purpose', message: 'is not a purpose of this workspace' }],
    });
  }
}

/** A consent that breaks a rule of the ledger: a stable code, what to fix, and the field at fault. */
export interface ConsentProblem {
  code: 'PURPOSE_UNKNOWN' | 'CONSENT_EFFECTIVE_IN_FUTURE' | 'CONSENT_EXPIRY_INVALID' | 'CONSENT_NOT_EXPLICIT';
  message: string;
  field: 'purpose' | 'effectiveFrom' | 'expiresAt' | 'explicit';
  problem: string;
}

/** What the ledger's rules read of a consent before it is stored. */
export interface ConsentTerms {
  purpose: string;
  status: ConsentRecord['status'];
  explicit: boolean;
  effectiveFrom: Date;
  expiresAt: Date | null;
}

/**
 * The first rule of the ledger a consent breaks, or undefined: the purpose is one of the workspace's,
 * it is effective now or before (within the clock skew between systems), a grant's expiry follows its
 * start, and a grant for sale or third-party sharing is an explicit opt-in. Pure.
 */
export function checkConsent(
  terms: ConsentTerms,
  rules: PurposeRules,
  now: Date,
): ConsentProblem | undefined {
  if (rules.lawfulBasisOf(terms.purpose) === undefined) {
    return {
      code: 'PURPOSE_UNKNOWN',
      message: `"${terms.purpose}" is not a purpose of this workspace.`,
      field: 'purpose',
      problem: 'is not a purpose of this workspace',
    };
  }
  const effective = terms.effectiveFrom.getTime();
  if (Number.isNaN(effective) || effective > now.getTime() + MAX_CLOCK_SKEW_MS) {
    return {
      code: 'CONSENT_EFFECTIVE_IN_FUTURE',
      message: 'effectiveFrom must be a real time, not in the future.',
      field: 'effectiveFrom',
      problem: 'must not be in the future',
    };
  }
  if (
    terms.expiresAt &&
    (Number.isNaN(terms.expiresAt.getTime()) || terms.expiresAt.getTime() <= effective)
  ) {
    return {
      code: 'CONSENT_EXPIRY_INVALID',
      message: 'expiresAt must be a real time after effectiveFrom.',
      field: 'expiresAt',
      problem: 'must be after effectiveFrom',
    };
  }
  if (terms.status === 'granted' && rules.needsExplicitOptIn(terms.purpose) && !terms.explicit) {
    return {
      code: 'CONSENT_NOT_EXPLICIT',
      message: `A grant for ${terms.purpose} must be an explicit opt-in by the customer: send "explicit": true with its evidence.`,
      field: 'explicit',
      problem: 'must be true for this purpose',
    };
  }
  return undefined;
}

function assertConsent(terms: ConsentTerms, rules: PurposeRules, now: Date): void {
  const problem = checkConsent(terms, rules, now);
  if (problem) {
    throw invalid(problem.code, problem.message, {
      errors: [{ path: problem.field, message: problem.problem }],
    });
  }
}

/** The lawful basis a record states: the one given, else consent for an explicit grant, else the purpose's. */
function lawfulBasisOf(
  rules: PurposeRules,
  input: { purpose: string; status: string; explicit: boolean; lawfulBasis?: string | undefined },
) {
  return (
    input.lawfulBasis ??
    (input.status === 'granted' && input.explicit
      ? 'consent'
      : (rules.lawfulBasisOf(input.purpose) ?? 'consent'))
  );
}

/**
 * Appends a consent record. The current state moves to it at once when it is the latest effective
 * record for its purpose and channel: a withdrawal is visible on the very next read.
 */
export async function recordConsent(
  tx: Tx,
  actor: Actor,
  customerId: string,
  input: RecordConsentInput,
  rules: PurposeRules,
  now: Date = new Date(),
): Promise<{ record: ConsentRecord; current: ConsentStateEntry[] }> {
  const effectiveFrom = input.effectiveFrom ? new Date(input.effectiveFrom) : now;
  const expiresAt = input.expiresAt ? new Date(input.expiresAt) : null;
  const explicit = input.explicit ?? false;
  assertConsent(
    { purpose: input.purpose, status: input.status, explicit, effectiveFrom, expiresAt },
    rules,
    now,
  );
  await lockCustomer(tx, actor.workspaceId, customerId);
  const record = await repo.appendConsentRecord(tx, actor.workspaceId, {
    id: newId(now.getTime()),
    customerId,
    purpose: input.purpose,
    channel: input.channel ?? null,
    status: input.status,
    explicit,
    lawfulBasis: lawfulBasisOf(rules, { ...input, explicit }),
    noticeVersion: input.noticeVersion ?? null,
    evidence: input.evidence ?? null,
    source: input.source ?? 'api',
    capturedBy: actor.label,
    effectiveFrom: effectiveFrom.toISOString(),
    expiresAt: expiresAt?.toISOString() ?? null,
  });
  await announceConsents(tx, [record]);
  const current = (await repo.listConsentState(tx, actor.workspaceId, [customerId])).get(customerId) ?? [];
  return { record, current };
}

/** A consent a source system reported (a `consent_changed` interaction), for `recordConsentEvents`. */
export interface ConsentEvent {
  customerId: string;
  purpose: string;
  status: ConsentRecord['status'];
  /** null: every channel. */
  channel: string | null;
  explicit: boolean;
  noticeVersion: string | null;
  evidence: unknown;
  /** The system that reported it. */
  source: string;
  /** When the customer made the choice (ISO 8601). */
  effectiveFrom: string;
  expiresAt: string | null;
}

/**
 * Appends many consents at once (the consent events of an ingest), each checked by the ledger's rules
 * (`checkConsent`: the caller refuses failing ones first, with their paths; one that still fails here
 * throws and rolls the caller back). Customers are locked in id order; each purpose and channel's
 * current state moves to its latest effective record, so events arriving out of order end in the state
 * of the latest choice.
 */
export async function recordConsentEvents(
  tx: Tx,
  actor: Actor,
  events: readonly ConsentEvent[],
  rules: PurposeRules,
  now: Date = new Date(),
): Promise<ConsentRecord[]> {
  if (events.length === 0) return [];
  for (const event of events) {
    assertConsent(
      {
        purpose: event.purpose,
        status: event.status,
        explicit: event.explicit,
        effectiveFrom: new Date(event.effectiveFrom),
        expiresAt: event.expiresAt === null ? null : new Date(event.expiresAt),
      },
      rules,
      now,
    );
  }
  const found = await repo.lockCustomers(
    tx,
    actor.workspaceId,
    events.map((e) => e.customerId),
  );
  const missing = events.find((e) => !found.has(e.customerId));
  if (missing) throw customerNotFound(missing.customerId);
  const records = await repo.appendConsentRecords(
    tx,
    actor.workspaceId,
    events.map((event) => ({
      id: newId(now.getTime()),
      customerId: event.customerId,
      purpose: event.purpose,
      channel: event.channel,
      status: event.status,
      explicit: event.explicit,
      lawfulBasis: lawfulBasisOf(rules, event),
      noticeVersion: event.noticeVersion,
      evidence: event.evidence,
      source: event.source,
      capturedBy: actor.label,
      effectiveFrom: new Date(event.effectiveFrom).toISOString(),
      expiresAt: event.expiresAt === null ? null : new Date(event.expiresAt).toISOString(),
    })),
  );
  await announceConsents(tx, records);
  return records;
}

/** Announces consent records in the transaction that appended them (purpose and status, no evidence). */
function announceConsents(tx: Tx, records: readonly ConsentRecord[]): Promise<string[]> {
  return recordEvents(
    tx,
    records.map((r) => ({
      type: 'consent_changed' as const,
      customerId: r.customerId,
      payload: {
        consentRecordId: r.id,
        customerId: r.customerId,
        purpose: r.purpose,
        status: r.status,
        channel: r.channel,
      },
    })),
  );
}

/** A customer's current consents (with whether each has expired) and the whole ledger. */
export async function getConsents(
  tx: Tx,
  workspaceId: string,
  customerId: string,
  now: Date = new Date(),
): Promise<{ current: (ConsentStateEntry & { expired: boolean })[]; history: ConsentRecord[] }> {
  const current = await getCurrentConsents(tx, workspaceId, customerId, now);
  const history = await repo.listConsentRecords(tx, workspaceId, [customerId]);
  return { current, history };
}

/** A customer's current consents (the projection, without the ledger), each marked when expired. */
export async function getCurrentConsents(
  tx: Tx,
  workspaceId: string,
  customerId: string,
  now: Date = new Date(),
): Promise<(ConsentStateEntry & { expired: boolean })[]> {
  const state = await repo.listConsentState(tx, workspaceId, [customerId]);
  return (state.get(customerId) ?? []).map((c) => ({
    ...c,
    expired: c.expiresAt !== null && new Date(c.expiresAt) <= now,
  }));
}

/** Sets the customer's intimacy level (SPEC §6); a lowering takes effect on the very next read. */
export async function setIntimacyLevel(
  tx: Tx,
  actor: Actor,
  customerId: string,
  input: SetIntimacyInput,
): Promise<{ intimacyLevel: IntimacyLevel; previousLevel: number; at: string }> {
  const columns = await lockCustomer(tx, actor.workspaceId, customerId);
  const level = input.level as IntimacyLevel;
  const at = await repo.recordIntimacyChange(tx, actor.workspaceId, {
    id: newId(),
    customerId,
    level,
    previousLevel: columns.intimacyLevel,
    source: input.source ?? 'api',
    capturedBy: actor.label,
    evidence: input.evidence ?? null,
  });
  return { intimacyLevel: level, previousLevel: columns.intimacyLevel, at };
}

/** Restricts processing, lifts it, objects to a purpose or withdraws an objection. */
export async function changePrivacyFlag(
  tx: Tx,
  actor: Actor,
  customerId: string,
  input: PrivacyFlagInput,
  rules: PurposeRules,
): Promise<{ restricted: boolean; objections: string[] }> {
  const needsPurpose = input.kind === 'object' || input.kind === 'withdraw_objection';
  if (needsPurpose && input.purpose === undefined) {
    throw invalid('PURPOSE_REQUIRED', `${input.kind} needs the purpose it is about.`, {
      errors: [{ path: 'purpose', message: 'is required for this kind' }],
    });
  }
  if (!needsPurpose && input.purpose !== undefined) {
    throw invalid('PURPOSE_NOT_EXPECTED', `${input.kind} applies to every purpose: leave purpose out.`, {
      errors: [{ path: 'purpose', message: 'is not expected for this kind' }],
    });
  }
  if (input.purpose !== undefined) assertKnownPurpose(rules, input.purpose);
  const columns = await lockCustomer(tx, actor.workspaceId, customerId);
  const objections = new Set(columns.objections);
  let restricted = columns.restricted;
  if (input.kind === 'restrict') restricted = true;
  else if (input.kind === 'lift_restriction') restricted = false;
  else if (input.kind === 'object' && input.purpose) objections.add(input.purpose);
  else if (input.purpose) objections.delete(input.purpose);
  const sorted = [...objections].sort();
  await repo.recordPrivacyFlagChange(tx, actor.workspaceId, {
    id: newId(),
    customerId,
    kind: input.kind,
    purpose: input.purpose ?? null,
    restricted,
    objections: sorted,
    source: input.source ?? 'api',
    capturedBy: actor.label,
    evidence: input.evidence ?? null,
  });
  return { restricted, objections: sorted };
}

/** A customer's intimacy level, restriction and objections, with their history. */
export async function getPrivacyState(
  tx: Tx,
  workspaceId: string,
  customerId: string,
): Promise<{
  intimacyLevel: number;
  restricted: boolean;
  objections: string[];
  history: repo.PrivacyChange[];
}> {
  const subject = (await repo.loadSubjects(tx, workspaceId, [customerId])).get(customerId);
  if (!subject) throw customerNotFound(customerId);
  return {
    intimacyLevel: subject.intimacyLevel,
    restricted: subject.restricted,
    objections: [...subject.objections].sort(),
    history: await repo.listPrivacyChanges(tx, workspaceId, customerId),
  };
}

/** What the access decision needs of each customer; unknown ids are left out. */
export function loadPrivacySubjects(
  tx: Tx,
  workspaceId: string,
  customerIds: readonly string[],
): Promise<Map<string, PrivacySubject>> {
  return repo.loadSubjects(tx, workspaceId, customerIds);
}

export { DEFAULT_SUBJECT };
