import { changePrivacyFlag, getPrivacyState } from '../consent/index.ts';
import { findMergedInto, getCustomer } from '../customers/index.ts';
import { type AccessScope, purposeRules } from '../governance/index.ts';
import { isRectifiableField, rectifyField } from '../identity/index.ts';
import { conflict, forbidden, invalid, isAppError, notFound } from '../shared/errors.ts';
import { newId } from '../shared/ids.ts';
import { withdrawPendingDeliveries } from '../webhooks/index.ts';
import { isAdmin } from '../workspaces/index.ts';
import { buildAccessArchive } from './access.service.ts';
import { eraseCustomer } from './erasure.service.ts';
import { planNotifications } from './notice.service.ts';
import * as repo from './privacy.repository.ts';
import {
  computeDueOn,
  DO_NOT_SELL_PURPOSES,
  PRIVACY_REQUEST_KINDS,
  type PrivacyNotification,
  type PrivacyRequest,
  type PrivacyRequestKind,
  type PrivacyRequestSource,
  type RequestedChange,
} from './privacy.ts';

/**
 * Privacy requests (SPEC §5.4): every right a customer exercises — access, rectification, erasure,
 * restriction, portability, objection, do-not-sell/share — becomes a request with its legal deadline
 * (the workspace's `privacyRequestDays`, 30 by default), an identity-verification step, an assignee,
 * and, once carried out, the evidence of what was done. The privacy office works them from a queue
 * ordered by deadline. Created by staff (service or legal), by the customer through the portal, or by
 * a `Sec-GPC: 1` signal.
 */

/** The purposes under which requests are made and handled. */
const REQUEST_PURPOSES = ['service', 'legal'];
const MAX_LIST = 500;

/** What creating a request takes. */
export interface CreateRequestInput {
  customerId: string;
  kind: string;
  /** A rectification's corrections. */
  changes?: RequestedChange[] | undefined;
  /** An objection's purposes. */
  purposes?: string[] | undefined;
  note?: string | undefined;
  assignee?: string | undefined;
  /** Staff who verified the person's identity at once (at the desk): how. */
  verifiedBy?: string | undefined;
}

/** Whether the actor is the customer in their portal (label `customer:<id>`). */
function isPortal(scope: AccessScope): boolean {
  return scope.actor.label.startsWith('customer:');
}

function assertRequestPurpose(scope: AccessScope): void {
  if (!REQUEST_PURPOSES.includes(scope.purpose)) {
    throw forbidden(
      'PURPOSE_NOT_ALLOWED_HERE',
      `Privacy requests are made and handled for service or legal, not for ${scope.purpose}.`,
      { purpose: scope.purpose, allowed: REQUEST_PURPOSES },
    );
  }
}

/** The privacy office: an owner, an admin or a privacy officer, never the customer's portal. */
function assertPrivacyOffice(scope: AccessScope, what: string): void {
  if ((!isAdmin(scope.actor) && scope.actor.role !== 'privacy_officer') || isPortal(scope)) {
    throw forbidden('ROLE_NOT_ALLOWED', `${what} is for an owner, admin or the privacy office.`, {
      role: scope.actor.role,
    });
  }
  assertRequestPurpose(scope);
}

/** Who takes a request: the privacy office and the people serving the customer (and the portal). */
const REQUEST_TAKERS = ['owner', 'admin', 'agent', 'privacy_officer'];

/**
 * The customer a request is for: the id given, or — for an id merged into another — the surviving
 * customer (the person is the same; the request follows them). An unknown id is CUSTOMER_NOT_FOUND.
 */
async function resolveCustomer(
  scope: AccessScope,
  id: string,
): Promise<{ id: string; mergedFrom: string | null }> {
  try {
    return { id: (await getCustomer(scope.tx, scope.actor, id)).id, mergedFrom: null };
  } catch (error) {
    if (!isAppError(error) || error.code !== 'CUSTOMER_NOT_FOUND') throw error;
    const survivor = await findMergedInto(scope.tx, scope.actor, id);
    if (survivor === undefined) throw error;
    return { id: survivor, mergedFrom: id };
  }
}

function details(
  scope: AccessScope,
  kind: PrivacyRequestKind,
  input: CreateRequestInput,
): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  if (input.note !== undefined) out.note = input.note;
  if (kind === 'rectification') {
    const changes = input.changes ?? [];
    const errors = changes.flatMap((c, i) =>
      isRectifiableField(c.field)
        ? []
        : [{ path: `changes[${i}].field`, message: 'is not a golden-record field' }],
    );
    if (changes.length === 0) errors.push({ path: 'changes', message: 'name at least one field to correct' });
    if (errors.length > 0) {
      throw invalid(
        'PRIVACY_REQUEST_INVALID',
        'A rectification names the fields to correct and their values.',
        {
          errors,
        },
      );
    }
    out.changes = changes;
  } else if (input.changes !== undefined) {
    throw invalid('PRIVACY_REQUEST_INVALID', 'Only a rectification carries changes.', {
      errors: [{ path: 'changes', message: `not for kind ${kind}` }],
    });
  }
  if (kind === 'objection') {
    const purposes = input.purposes ?? [];
    const errors = purposes.flatMap((p, i) =>
      scope.taxonomy.purposes.has(p) ? [] : [{ path: `purposes[${i}]`, message: 'is not a purpose' }],
    );
    if (purposes.length === 0) errors.push({ path: 'purposes', message: 'name the purposes objected to' });
    if (errors.length > 0) {
      throw invalid('PRIVACY_REQUEST_INVALID', 'An objection names the purposes it objects to.', { errors });
    }
    out.purposes = [...new Set(purposes)].sort();
  } else if (input.purposes !== undefined) {
    throw invalid('PRIVACY_REQUEST_INVALID', 'Only an objection carries purposes.', {
      errors: [{ path: 'purposes', message: `not for kind ${kind}` }],
    });
  }
  if (kind === 'do_not_sell') out.purposes = [...DO_NOT_SELL_PURPOSES];
  return out;
}

/**
 * Records a privacy request. Its deadline counts from today in calendar days (the workspace's
 * `privacyRequestDays`). Verification: a request from the customer's own portal link is verified by that
 * link; a do-not-sell/share request needs none (an opt-out must not be made harder than the opt-in); a
 * request taken by staff waits for verification unless they verified the person at once (`verifiedBy`).
 */
export async function createPrivacyRequest(
  scope: AccessScope,
  input: CreateRequestInput,
  origin: { source?: PrivacyRequestSource } = {},
): Promise<PrivacyRequest> {
  if (!REQUEST_TAKERS.includes(scope.actor.role)) {
    throw forbidden(
      'ROLE_NOT_ALLOWED',
      'A privacy request is taken by the privacy office or staff serving the customer.',
      {
        role: scope.actor.role,
      },
    );
  }
  assertRequestPurpose(scope);
  if (!(PRIVACY_REQUEST_KINDS as readonly string[]).includes(input.kind)) {
    throw invalid(
      'PRIVACY_REQUEST_KIND_INVALID',
      `kind must be one of ${PRIVACY_REQUEST_KINDS.join(', ')}.`,
      {
        errors: [{ path: 'kind', message: `must be one of ${PRIVACY_REQUEST_KINDS.join(', ')}` }],
      },
    );
  }
  const kind = input.kind as PrivacyRequestKind;
  if (isPortal(scope) && scope.actor.label !== `customer:${input.customerId}`) {
    throw forbidden('PORTAL_LINK_SCOPE', 'A portal link makes requests for its own customer only.');
  }
  const customer = await resolveCustomer(scope, input.customerId);
  const source: PrivacyRequestSource = origin.source ?? (isPortal(scope) ? 'customer' : 'staff');
  const verification =
    source === 'gpc' || kind === 'do_not_sell'
      ? { status: 'not_required' as const, method: source === 'gpc' ? 'gpc_signal' : null, by: null }
      : source === 'customer'
        ? { status: 'verified' as const, method: 'portal_link', by: scope.actor.label }
        : input.verifiedBy !== undefined
          ? { status: 'verified' as const, method: input.verifiedBy, by: scope.actor.label }
          : { status: 'pending' as const, method: null, by: null };
  const request = await repo.insertRequest(
    scope.tx,
    scope.actor.workspaceId,
    {
      id: newId(scope.now.getTime()),
      customerId: customer.id,
      kind,
      source,
      verification: verification.status,
      verificationMethod: verification.method,
      verifiedBy: verification.by,
      assignee: input.assignee ?? null,
      details: {
        ...details(scope, kind, input),
        ...(customer.mergedFrom === null ? {} : { requestedFor: customer.mergedFrom }),
      },
      receivedAt: scope.now,
      dueOn: computeDueOn(scope.now, scope.workspace.settings.privacyRequestDays),
      createdBy: scope.actor.label,
    },
    scope.now,
  );
  audit(scope, 'privacy.request.create', request, { kind, source, dueOn: request.dueOn });
  return request;
}

function audit(
  scope: AccessScope,
  action: string,
  request: PrivacyRequest,
  details: Record<string, unknown> = {},
) {
  scope.audit({
    action,
    purpose: scope.purpose,
    customerIds: [request.customerId],
    fields: ['privacyRequests'],
    details: { requestId: request.id, ...details },
  });
}

/** The privacy office's queue, by deadline: filtered by status, due date, customer, kind. */
export async function listPrivacyRequests(
  scope: AccessScope,
  filter: { status?: string; dueBefore?: string; customerId?: string; kind?: string; limit?: number },
): Promise<PrivacyRequest[]> {
  assertPrivacyOffice(scope, 'The privacy request queue');
  if (filter.dueBefore !== undefined && !/^\d{4}-\d{2}-\d{2}$/.test(filter.dueBefore)) {
    throw invalid('DUE_BEFORE_INVALID', 'dueBefore is a day written YYYY-MM-DD.', {
      errors: [{ path: 'dueBefore', message: 'must be YYYY-MM-DD' }],
    });
  }
  const requests = await repo.listRequests(
    scope.tx,
    scope.actor.workspaceId,
    { ...filter, limit: Math.min(filter.limit ?? MAX_LIST, MAX_LIST) },
    scope.now,
  );
  scope.audit({
    action: 'privacy.request.list',
    purpose: scope.purpose,
    customerIds: [...new Set(requests.map((r) => r.customerId))],
    fields: ['privacyRequests'],
  });
  return requests;
}

/** One request, or PRIVACY_REQUEST_NOT_FOUND. */
export async function getPrivacyRequest(
  scope: AccessScope,
  id: string,
  options: { forUpdate?: boolean } = {},
): Promise<PrivacyRequest> {
  const found = await repo.findRequest(scope.tx, scope.actor.workspaceId, id, scope.now, options);
  if (!found)
    throw notFound('PRIVACY_REQUEST_NOT_FOUND', `No privacy request ${id} in this workspace.`, { id });
  return found;
}

/** One request with its notifications, for the privacy office. */
export async function readPrivacyRequest(
  scope: AccessScope,
  id: string,
): Promise<{ request: PrivacyRequest; notifications: PrivacyNotification[] }> {
  assertPrivacyOffice(scope, 'A privacy request');
  const request = await getPrivacyRequest(scope, id);
  audit(scope, 'privacy.request.read', request);
  const notifications = await repo.listNotifications(scope.tx, scope.actor.workspaceId, {
    requestId: id,
    limit: 1000,
  });
  return { request, notifications };
}

function assertOpen(request: PrivacyRequest): void {
  if (request.status !== 'open') {
    throw conflict('PRIVACY_REQUEST_CLOSED', `The request is ${request.status} already.`, {
      id: request.id,
      status: request.status,
    });
  }
}

/** Records how the person's identity was verified (document seen, call-back, signed-in account, …). */
export async function verifyPrivacyRequest(
  scope: AccessScope,
  id: string,
  method: string,
): Promise<PrivacyRequest> {
  assertPrivacyOffice(scope, 'Verifying a requester');
  const request = await getPrivacyRequest(scope, id, { forUpdate: true });
  assertOpen(request);
  if (method.trim().length === 0) {
    throw invalid('VERIFICATION_METHOD_REQUIRED', 'Say how the identity was verified.', {
      errors: [{ path: 'method', message: 'must not be empty' }],
    });
  }
  await repo.updateRequest(scope.tx, scope.actor.workspaceId, id, {
    verification: { status: 'verified', method: method.trim(), by: scope.actor.label, at: scope.now },
  });
  audit(scope, 'privacy.request.verify', request, { method: method.trim() });
  return getPrivacyRequest(scope, id);
}

/** Gives the request to someone of the privacy office (null: nobody). */
export async function assignPrivacyRequest(
  scope: AccessScope,
  id: string,
  assignee: string | null,
): Promise<PrivacyRequest> {
  assertPrivacyOffice(scope, 'Assigning a request');
  const request = await getPrivacyRequest(scope, id, { forUpdate: true });
  assertOpen(request);
  await repo.updateRequest(scope.tx, scope.actor.workspaceId, id, { assignee });
  audit(scope, 'privacy.request.assign', request, { assignee });
  return getPrivacyRequest(scope, id);
}

/** Refuses a request, with its reason as the evidence (identity not verified, manifestly unfounded, …). */
export async function rejectPrivacyRequest(
  scope: AccessScope,
  id: string,
  reason: string,
): Promise<PrivacyRequest> {
  assertPrivacyOffice(scope, 'Rejecting a request');
  const request = await getPrivacyRequest(scope, id, { forUpdate: true });
  assertOpen(request);
  if (reason.trim().length === 0) {
    throw invalid('REASON_REQUIRED', 'Say why the request is rejected.', {
      errors: [{ path: 'reason', message: 'must not be empty' }],
    });
  }
  await repo.updateRequest(scope.tx, scope.actor.workspaceId, id, {
    outcome: {
      status: 'rejected',
      evidence: { reason: reason.trim() },
      by: scope.actor.label,
      at: scope.now,
    },
  });
  audit(scope, 'privacy.request.reject', request, { reason: reason.trim() });
  return getPrivacyRequest(scope, id);
}

/** What completing a request did. */
export interface Completion {
  request: PrivacyRequest;
  notifications: PrivacyNotification[];
  /** An access or portability request: the archive (zip of JSON and CSV files). */
  archive: Uint8Array | null;
}

/**
 * Carries a request out, in the caller's transaction, and records the evidence: an access or
 * portability request builds the archive (its digest and contents are the evidence); a rectification
 * corrects each field (each correction an event that travels to the recipients); an erasure erases
 * completely; a restriction restricts processing and tells every recipient; an objection or
 * do-not-sell/share records the objections. The identity must be verified first (or need no
 * verification). Completing a completed request answers it as it is (an erasure is not run twice).
 */
export async function completePrivacyRequest(
  scope: AccessScope,
  id: string,
  input: { note?: string | undefined } = {},
): Promise<Completion> {
  assertPrivacyOffice(scope, 'Completing a request');
  const request = await getPrivacyRequest(scope, id, { forUpdate: true });
  if (request.status === 'completed') {
    const notifications = await repo.listNotifications(scope.tx, scope.actor.workspaceId, {
      requestId: id,
      limit: 1000,
    });
    return { request, notifications, archive: null };
  }
  assertOpen(request);
  if (request.verification.status === 'pending') {
    throw conflict(
      'PRIVACY_REQUEST_NOT_VERIFIED',
      "The requester's identity is not verified yet: verify it (POST /v1/privacy-requests/{id}/verify) first.",
      { id },
    );
  }
  const { evidence, archive } = await carryOut(scope, request);
  await repo.updateRequest(scope.tx, scope.actor.workspaceId, id, {
    outcome: {
      status: 'completed',
      evidence: { ...evidence, ...(input.note === undefined ? {} : { note: input.note }) },
      by: scope.actor.label,
      at: scope.now,
    },
  });
  audit(scope, 'privacy.request.complete', request, { kind: request.kind });
  const notifications = await repo.listNotifications(scope.tx, scope.actor.workspaceId, {
    requestId: id,
    limit: 1000,
  });
  return { request: await getPrivacyRequest(scope, id), notifications, archive };
}

async function carryOut(
  scope: AccessScope,
  request: PrivacyRequest,
): Promise<{ evidence: Record<string, unknown>; archive: Uint8Array | null }> {
  const { tx, actor } = scope;
  const customerId = request.customerId;
  switch (request.kind) {
    case 'access':
    case 'portability': {
      const built = await buildAccessArchive(scope, customerId);
      return {
        evidence: { archive: { sha256: built.sha256, bytes: built.zip.byteLength, files: built.files } },
        archive: built.zip,
      };
    }
    case 'rectification': {
      const changes = (request.details.changes ?? []) as RequestedChange[];
      const results = [];
      for (const change of changes) {
        const done = await rectifyField(
          scope,
          customerId,
          change.field,
          change.value,
          `privacy request ${request.id}`,
        );
        results.push({ field: change.field, outcome: done.outcome, eventId: done.event?.id ?? null });
      }
      return { evidence: { rectified: results }, archive: null };
    }
    case 'erasure': {
      const report = await eraseCustomer(scope, customerId, { requestId: request.id });
      return { evidence: { erasure: report }, archive: null };
    }
    case 'restriction': {
      const state = await getPrivacyState(tx, actor.workspaceId, customerId);
      if (!state.restricted) {
        await changePrivacyFlag(
          tx,
          actor,
          customerId,
          { kind: 'restrict', source: 'privacy_request', evidence: { requestId: request.id } },
          purposeRules(scope.taxonomy),
        );
      }
      const effects = await applyRestriction(scope, customerId, {
        causeId: request.id,
        requestId: request.id,
      });
      return { evidence: { restricted: true, ...effects }, archive: null };
    }
    case 'objection':
    case 'do_not_sell': {
      const purposes = (request.details.purposes ?? DO_NOT_SELL_PURPOSES) as string[];
      const recorded = await recordObjections(scope, customerId, purposes, { requestId: request.id });
      return { evidence: { objections: purposes, newlyRecorded: recorded }, archive: null };
    }
  }
}

/**
 * What a restriction sets moving (however it was recorded: a request, the privacy flags, the portal):
 * every recipient of the customer's data is told, and queued work about the customer stops at once.
 */
export async function applyRestriction(
  scope: AccessScope,
  customerId: string,
  cause: { causeId: string; requestId: string | null },
): Promise<{ recipientsTold: number; queuedDeliveriesStopped: number }> {
  const workspaceId = scope.actor.workspaceId;
  const told = await planNotifications(scope.tx, {
    workspaceId,
    customerId,
    cause: 'restriction',
    causeId: cause.causeId,
    requestId: cause.requestId,
    fields: 'all',
    now: scope.now,
  });
  const stopped = await withdrawPendingDeliveries(
    scope.tx,
    workspaceId,
    [customerId],
    'withdrawn: the customer restricted processing',
  );
  return { recipientsTold: told.length, queuedDeliveriesStopped: stopped };
}

/** Records objections the customer does not hold yet; answers those recorded. */
async function recordObjections(
  scope: AccessScope,
  customerId: string,
  purposes: readonly string[],
  evidence: Record<string, unknown>,
  source = 'privacy_request',
): Promise<string[]> {
  const state = await getPrivacyState(scope.tx, scope.actor.workspaceId, customerId);
  const recorded: string[] = [];
  for (const purpose of purposes) {
    if (state.objections.includes(purpose)) continue;
    await changePrivacyFlag(
      scope.tx,
      scope.actor,
      customerId,
      { kind: 'object', purpose, source, evidence },
      purposeRules(scope.taxonomy),
    );
    recorded.push(purpose);
  }
  if (recorded.length > 0) {
    // Queued work for the purposes objected to stops at once.
    await withdrawPendingDeliveries(
      scope.tx,
      scope.actor.workspaceId,
      [customerId],
      'withdrawn: the customer objected',
      {
        purposes: recorded,
      },
    );
    scope.audit({
      action: 'privacy.object',
      purpose: scope.purpose,
      customerIds: [customerId],
      fields: ['privacy'],
      details: { purposes: recorded },
    });
  }
  return recorded;
}

/**
 * A Global Privacy Control signal (`Sec-GPC: 1`) on the customer's own request: a do-not-sell/share
 * request, completed at once — the objection to sale and third-party sharing, after which every export
 * or share for those purposes is refused with the reason. A signal the customer's objections already
 * honour records nothing new.
 */
export async function recordGpcSignal(
  scope: AccessScope,
  customerId: string,
): Promise<{ recorded: string[]; requestId: string | null }> {
  const state = await getPrivacyState(scope.tx, scope.actor.workspaceId, customerId);
  if (DO_NOT_SELL_PURPOSES.every((p) => state.objections.includes(p)))
    return { recorded: [], requestId: null };
  const request = await createPrivacyRequest(scope, { customerId, kind: 'do_not_sell' }, { source: 'gpc' });
  const recorded = await recordObjections(
    scope,
    request.customerId,
    DO_NOT_SELL_PURPOSES,
    { signal: 'Sec-GPC: 1', requestId: request.id },
    'gpc',
  );
  await repo.updateRequest(scope.tx, scope.actor.workspaceId, request.id, {
    outcome: {
      status: 'completed',
      evidence: { objections: [...DO_NOT_SELL_PURPOSES], newlyRecorded: recorded, signal: 'Sec-GPC: 1' },
      by: scope.actor.label,
      at: scope.now,
    },
  });
  audit(scope, 'privacy.request.complete', request, { kind: 'do_not_sell', source: 'gpc' });
  return { recorded, requestId: request.id };
}
