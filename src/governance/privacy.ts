import type { Kysely } from 'kysely';
import { type AccessLogPage, listAccessLog, recordAuditEvents } from '../audit/index.ts';
import {
  changePrivacyFlag,
  DEFAULT_SUBJECT,
  getConsents,
  getPrivacyState,
  loadPrivacySubjects,
  recordConsent,
  setIntimacyLevel,
} from '../consent/index.ts';
import { getCustomer } from '../customers/index.ts';
import { type DB, inWorkspace } from '../db/index.ts';
import {
  type CreateRecipientInput,
  createRecipient,
  getRecipient,
  listDisclosures,
  listRecipients,
  type Recipient,
} from '../disclosures/index.ts';
import {
  BASE_TAXONOMY,
  type CategoryAddition,
  extendTaxonomy,
  type PolicyOverride,
  type PurposeAddition,
} from '../policy/index.ts';
import { assertPermitted } from '../shared/access.ts';
import { forbidden, invalid } from '../shared/errors.ts';
import {
  type Actor,
  getWorkspaceForAccess,
  isAdmin,
  updateWorkspacePolicy,
  type Workspace,
} from '../workspaces/index.ts';
import { filterCustomer, type GovernedCustomer } from './customers.ts';
import { CustomerGate } from './gate.ts';
import {
  type AccessScope,
  assertPurposeAllowed,
  chainAfterCommit,
  explainMergedCustomer,
  purposeRules,
  taxonomyOf,
  withClientRequestId,
} from './scope.ts';

/**
 * The customer's privacy, under an access scope: consents, intimacy, restriction and objections,
 * disclosures and the access log, sharing with recipients, and the workspace's own policy. Who may see
 * and change these is a rule of its own: the people serving the customer (`service`) and the privacy
 * office (`legal`); the access log also the auditor.
 */

/** The purposes under which a customer's privacy state may be read or changed. */
/** The purposes under which consents and privacy state are read and changed. */
export const PRIVACY_PURPOSES = ['service', 'legal'] as const;

function assertPrivacyPurpose(scope: AccessScope, what: string): void {
  if (!(PRIVACY_PURPOSES as readonly string[]).includes(scope.purpose)) {
    throw forbidden(
      'PURPOSE_NOT_ALLOWED_HERE',
      `${what} is read and changed for service or legal, not for ${scope.purpose}.`,
      { purpose: scope.purpose, allowed: PRIVACY_PURPOSES },
    );
  }
}

async function assertCustomer(scope: AccessScope, customerId: string): Promise<string> {
  return (await getCustomer(scope.tx, scope.actor, customerId)).id;
}

function audit(
  scope: AccessScope,
  action: string,
  customerId: string,
  fields: string[],
  details?: Record<string, unknown>,
) {
  scope.audit({ action, purpose: scope.purpose, customerIds: [customerId], fields, details });
}

/** A customer's current consents and ledger. */
export async function readConsents(scope: AccessScope, customerId: string) {
  assertPrivacyPurpose(scope, 'Consent');
  const id = await assertCustomer(scope, customerId);
  const consents = await getConsents(scope.tx, scope.actor.workspaceId, id, scope.now);
  audit(scope, 'consent.read', id, ['consents']);
  return consents;
}

/** Appends a consent record; the next read, by anyone, sees it. */
export async function recordConsentGoverned(
  scope: AccessScope,
  customerId: string,
  input: Parameters<typeof recordConsent>[3],
) {
  assertPrivacyPurpose(scope, 'Consent');
  const id = await assertCustomer(scope, customerId);
  const result = await recordConsent(
    scope.tx,
    scope.actor,
    id,
    input,
    purposeRules(scope.taxonomy),
    scope.now,
  );
  audit(scope, 'consent.record', id, [`consents.${input.purpose}`], { status: input.status });
  return result;
}

/** A customer's intimacy level, restriction and objections with history. */
export async function readPrivacyState(scope: AccessScope, customerId: string) {
  assertPrivacyPurpose(scope, 'The privacy state');
  const id = await assertCustomer(scope, customerId);
  const state = await getPrivacyState(scope.tx, scope.actor.workspaceId, id);
  audit(scope, 'privacy.read', id, ['privacy']);
  return state;
}

/** Sets the customer's intimacy level; a lowering takes effect on the very next read. */
export async function setIntimacyGoverned(
  scope: AccessScope,
  customerId: string,
  input: Parameters<typeof setIntimacyLevel>[3],
) {
  assertPrivacyPurpose(scope, 'The intimacy level');
  const id = await assertCustomer(scope, customerId);
  const result = await setIntimacyLevel(scope.tx, scope.actor, id, input);
  audit(scope, 'privacy.intimacy', id, ['intimacyLevel'], { level: result.intimacyLevel });
  return result;
}

/** Restricts processing, lifts it, objects to a purpose or withdraws an objection. */
export async function changePrivacyFlagGoverned(
  scope: AccessScope,
  customerId: string,
  input: Parameters<typeof changePrivacyFlag>[3],
) {
  assertPrivacyPurpose(scope, 'Restriction and objection');
  const id = await assertCustomer(scope, customerId);
  const result = await changePrivacyFlag(scope.tx, scope.actor, id, input, purposeRules(scope.taxonomy));
  audit(
    scope,
    `privacy.${input.kind}`,
    id,
    ['privacy'],
    input.purpose ? { purpose: input.purpose } : undefined,
  );
  return result;
}

/** Every party that received the customer's data: what, why, on which basis, when. */
export async function readDisclosures(scope: AccessScope, customerId: string) {
  assertPrivacyPurpose(scope, 'The disclosure ledger');
  const id = await assertCustomer(scope, customerId);
  const disclosures = await listDisclosures(scope.tx, scope.actor.workspaceId, id);
  audit(scope, 'disclosure.read', id, ['disclosures']);
  return disclosures;
}

/**
 * "Who looked at my data, and why": for the auditor (who reads no customer content) without a purpose,
 * for others under service or legal. Reading the log is itself recorded.
 */
export async function readAccessLog(
  db: Kysely<DB>,
  actor: Actor,
  request: {
    purpose: string | undefined;
    requestId: string | null;
    clientRequestId?: string | undefined;
    deadline?: number | undefined;
  },
  customerId: string,
  page: { limit?: number | undefined; cursor?: string | undefined },
): Promise<AccessLogPage> {
  const purpose = request.purpose ?? (actor.role === 'auditor' ? null : undefined);
  if (purpose === undefined) {
    throw invalid(
      'PURPOSE_REQUIRED',
      'Name the purpose of this read: service or legal (the auditor needs none).',
    );
  }
  if (purpose !== null && !(PRIVACY_PURPOSES as readonly string[]).includes(purpose)) {
    throw forbidden(
      'PURPOSE_NOT_ALLOWED_HERE',
      `The access log is read for service or legal, not for ${purpose}.`,
      {
        purpose,
        allowed: PRIVACY_PURPOSES,
      },
    );
  }
  if (purpose !== null && actor.role === 'auditor') {
    throw forbidden('PURPOSE_NOT_ALLOWED', 'The auditor reads the access log without a purpose.', {
      purpose,
    });
  }
  const log = await inWorkspace(
    db,
    actor.workspaceId,
    async (tx) => {
      if (purpose !== null)
        assertPurposeAllowed(taxonomyOf(await getWorkspaceForAccess(tx, actor.workspaceId)), actor, purpose);
      const id = (await getCustomer(tx, actor, customerId)).id;
      const log = await listAccessLog(tx, actor.workspaceId, id, page);
      await recordAuditEvents(
        tx,
        actor.workspaceId,
        { actor: { keyId: actor.keyId, role: actor.role, label: actor.label }, requestId: request.requestId },
        withClientRequestId(
          [{ action: 'audit.read', purpose, customerIds: [id], fields: ['accessLog'] }],
          request.clientRequestId,
        ),
      );
      return log;
    },
    { deadline: request.deadline },
  ).catch(async (error: unknown) => {
    throw await explainMergedCustomer(db, actor, error);
  });
  await chainAfterCommit(db, actor.workspaceId);
  return log;
}

/** Registers a recipient (owner or admin). */
export function registerRecipient(scope: AccessScope, input: CreateRecipientInput): Promise<Recipient> {
  assertPermitted(scope.actor, 'workspace.configure');
  return createRecipient(scope.tx, scope.actor, input, (p) => scope.taxonomy.purposes.has(p));
}

/** The recipient registry (owner, admin, or the privacy office). */
export function readRecipients(scope: AccessScope): Promise<Recipient[]> {
  if (!isAdmin(scope.actor) && scope.purpose !== 'legal') {
    throw forbidden(
      'ROLE_NOT_ALLOWED',
      'The recipient registry is read by an owner, admin or the privacy office.',
    );
  }
  return listRecipients(scope.tx, scope.actor.workspaceId);
}

/**
 * Gives a customer's data to a recipient for the scope's purpose: the recipient must accept the
 * purpose, and the customer must allow it — sale and third-party sharing need their explicit opt-in.
 * Returns what was shared (only the fields the purpose may use) and records the disclosure.
 */
export async function shareCustomer(
  scope: AccessScope,
  customerId: string,
  recipientRef: string,
): Promise<{ recipient: { id: string; name: string }; customer: GovernedCustomer }> {
  const recipient = await getRecipient(scope.tx, scope.actor.workspaceId, recipientRef);
  if (!recipient.purposes.includes(scope.purpose)) {
    throw forbidden(
      'RECIPIENT_PURPOSE_NOT_ALLOWED',
      `The recipient "${recipient.name}" may receive data only for ${recipient.purposes.join(', ')}, not for ${scope.purpose}.`,
      { recipient: recipient.name, purpose: scope.purpose },
    );
  }
  const customer = await getCustomer(scope.tx, scope.actor, customerId);
  const subject = (await loadPrivacySubjects(scope.tx, scope.actor.workspaceId, [customer.id])).get(
    customer.id,
  );
  const gate = new CustomerGate(scope, subject ?? DEFAULT_SUBJECT);
  if (!gate.subjectDecision.allowed) {
    throw forbidden('SHARE_REFUSED', `Not shared: ${gate.subjectDecision.detail}`, {
      reason: gate.subjectDecision.reason,
      purpose: scope.purpose,
      recipient: recipient.name,
    });
  }
  const shared = filterCustomer(customer, gate);
  const fields = [...gate.used];
  scope.disclose([customer.id], fields, recipient.id);
  audit(scope, 'customer.share', customer.id, fields, { recipient: recipient.name });
  return { recipient: { id: recipient.id, name: recipient.name }, customer: shared };
}

/** The workspace's own categories, purposes and overrides, as stored. */
export interface WorkspacePolicyInput {
  categories?: CategoryAddition[] | undefined;
  purposes?: PurposeAddition[] | undefined;
  overrides?: PolicyOverride[] | undefined;
}

/**
 * Replaces the workspace's own categories, purposes and overrides (owner or admin). The base rules can
 * be weakened only by an override with a reason; every change is audited with the overrides it applies.
 */
export async function setWorkspacePolicy(
  scope: AccessScope,
  input: WorkspacePolicyInput,
): Promise<Workspace> {
  assertPermitted(scope.actor, 'workspace.configure');
  const result = extendTaxonomy(
    BASE_TAXONOMY,
    { categories: input.categories ?? [], purposes: input.purposes ?? [] },
    input.overrides ?? [],
  );
  if (!result.ok) {
    throw invalid('POLICY_INVALID', `The policy is refused: ${result.problems[0]?.message ?? 'invalid'}`, {
      problems: result.problems,
    });
  }
  const workspace = await updateWorkspacePolicy(scope.tx, scope.actor, {
    categories: input.categories ?? [],
    purposes: input.purposes ?? [],
    overrides: input.overrides ?? [],
  });
  scope.audit({
    action: 'policy.change',
    purpose: scope.purpose,
    customerIds: [],
    fields: ['policy'],
    details: {
      overrides: result.taxonomy.overrides,
      categories: input.categories ?? [],
      purposes: input.purposes ?? [],
    },
  });
  return workspace;
}
