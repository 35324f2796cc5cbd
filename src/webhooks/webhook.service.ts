import type { Kysely } from 'kysely';
import { type DB, inWorkspace, type Tx } from '../db/index.ts';
import { type CreateRecipientInput, type Recipient, recordDisclosures } from '../disclosures/index.ts';
import {
  type AccessScope,
  readRecipients,
  registerRecipient,
  subjectWhere,
  taxonomyOf,
  withAdministration,
} from '../governance/index.ts';
import { compileAccess } from '../policy/index.ts';
import { assertPermitted } from '../shared/access.ts';
import { conflict, forbidden, invalid, notFound } from '../shared/errors.ts';
import { isUuid, newId } from '../shared/ids.ts';
import { type Actor, getWorkspaceForAccess, isAdmin, listWorkspaces } from '../workspaces/index.ts';
import { type FetchLike, postDelivery } from './webhook.http.ts';
import * as repo from './webhook.repository.ts';
import {
  assertEventFilter,
  assertWebhookUrl,
  CLAIM_LEASE_MS,
  CORRECTION_EVENTS,
  computeBackoffMs,
  computeDeliveryBody,
  computeDeliveryPurpose,
  computeShouldDisable,
  computeSignatureHeader,
  DELIVERY_RETENTION_DAYS,
  DISABLE_AFTER_MS,
  generateSecret,
  isAcknowledged,
  MAX_ATTEMPTS,
  ROTATION_OVERLAP_MS,
  type WebhookDelivery,
  type WebhookEndpoint,
  type WebhookEvent,
} from './webhook.ts';

/** Use-cases of webhooks out: registration, secrets, enqueueing, delivering, the log, replay, retention. */

/** A recipient with its webhook endpoint (null for other kinds). */
export type RecipientWithWebhook = Recipient & { webhook: WebhookEndpoint | null };

/** Who the delivery worker acts as in the audit log. */
function systemActor(workspaceId: string): Actor {
  return { workspaceId, keyId: null, role: 'owner', purposes: [], label: 'system:webhooks' };
}

/**
 * Registers a recipient (POST /v1/recipients): for kind webhook also its endpoint — URL, event filter
 * and a new signing secret, answered here once and never again. Other kinds take no URL.
 */
export async function registerRecipientWithWebhook(
  scope: AccessScope,
  input: CreateRecipientInput,
): Promise<{ recipient: RecipientWithWebhook; secret: string | null }> {
  const { url, events, ...rest } = input;
  if (input.kind !== 'webhook') {
    if (url !== undefined || events !== undefined) {
      throw invalid(
        'RECIPIENT_URL_NOT_ALLOWED',
        'Only a recipient of kind webhook takes "url" and "events".',
        {
          kind: input.kind,
        },
      );
    }
    return { recipient: { ...(await registerRecipient(scope, rest)), webhook: null }, secret: null };
  }
  if (url === undefined) {
    throw invalid('WEBHOOK_URL_REQUIRED', 'A recipient of kind webhook needs a "url" (http:// or https://).');
  }
  const checkedUrl = assertWebhookUrl(url);
  if (events !== undefined) assertEventFilter(events, input.purposes);
  const recipient = await registerRecipient(scope, rest);
  const secret = generateSecret();
  await repo.insertEndpoint(scope.tx, scope.actor.workspaceId, {
    recipientId: recipient.id,
    url: checkedUrl,
    events: events === undefined ? null : [...events].sort(),
    secret: secret.bytes,
  });
  scope.audit({
    action: 'webhook.create',
    purpose: null,
    customerIds: [],
    fields: [],
    details: { recipientId: recipient.id, url: checkedUrl, events: events ?? null },
  });
  const endpoints = await repo.listEndpoints(scope.tx, scope.actor.workspaceId, scope.now, [recipient.id]);
  return { recipient: { ...recipient, webhook: endpoints.get(recipient.id) ?? null }, secret: secret.text };
}

/** The recipient registry with each webhook's endpoint: its URL, filter, status and failures. */
export async function readRecipientsWithWebhooks(scope: AccessScope): Promise<RecipientWithWebhook[]> {
  const recipients = await readRecipients(scope);
  const endpoints = await repo.listEndpoints(scope.tx, scope.actor.workspaceId, scope.now);
  return recipients.map((r) => ({ ...r, webhook: endpoints.get(r.id) ?? null }));
}

/** The webhook recipient by id, or 404; another kind is 409 RECIPIENT_NOT_WEBHOOK. */
async function getWebhookRecipient(scope: AccessScope, ref: string): Promise<RecipientWithWebhook> {
  const id = isUuid(ref) ? ref.toLowerCase() : undefined;
  const recipient = (await readRecipientsWithWebhooks(scope)).find((r) => r.id === id || r.name === ref);
  if (!recipient) {
    throw notFound('RECIPIENT_NOT_FOUND', `No recipient "${ref}" in this workspace: register it first.`, {
      ref,
    });
  }
  if (recipient.webhook === null) {
    throw conflict(
      'RECIPIENT_NOT_WEBHOOK',
      `The recipient "${recipient.name}" is a ${recipient.kind}, not a webhook.`,
      { ref, kind: recipient.kind },
    );
  }
  return recipient;
}

function assertMayConfigure(scope: AccessScope): void {
  assertPermitted(scope.actor, 'workspace.configure');
}

function assertMayReadLog(scope: AccessScope): void {
  if (!isAdmin(scope.actor) && scope.purpose !== 'legal') {
    throw forbidden(
      'ROLE_NOT_ALLOWED',
      'The webhook delivery log is read by an owner, admin or the privacy office (purpose legal).',
    );
  }
}

/**
 * Gives a webhook a new signing secret, answered once. For `ROTATION_OVERLAP_MS` after it, deliveries
 * carry signatures under both the new and the previous secret, so the receiver can switch at its pace.
 */
export async function rotateWebhookSecret(
  scope: AccessScope,
  ref: string,
): Promise<{ recipient: RecipientWithWebhook; secret: string }> {
  assertMayConfigure(scope);
  const recipient = await getWebhookRecipient(scope, ref);
  const secret = generateSecret();
  const until = new Date(scope.now.getTime() + ROTATION_OVERLAP_MS);
  await repo.rotateSecret(scope.tx, scope.actor.workspaceId, recipient.id, secret.bytes, until);
  scope.audit({
    action: 'webhook.secret_rotated',
    purpose: null,
    customerIds: [],
    fields: [],
    details: { recipientId: recipient.id, previousSecretUntil: until.toISOString() },
  });
  const endpoints = await repo.listEndpoints(scope.tx, scope.actor.workspaceId, scope.now, [recipient.id]);
  return { recipient: { ...recipient, webhook: endpoints.get(recipient.id) ?? null }, secret: secret.text };
}

/** Turns a disabled webhook on again; its waiting deliveries are sent from now. */
export async function enableWebhook(scope: AccessScope, ref: string): Promise<RecipientWithWebhook> {
  assertMayConfigure(scope);
  const recipient = await getWebhookRecipient(scope, ref);
  await repo.enableEndpoint(scope.tx, scope.actor.workspaceId, recipient.id, scope.now);
  scope.audit({
    action: 'webhook.enable',
    purpose: null,
    customerIds: [],
    fields: [],
    details: { recipientId: recipient.id, wasStatus: recipient.webhook?.status ?? null },
  });
  const endpoints = await repo.listEndpoints(scope.tx, scope.actor.workspaceId, scope.now, [recipient.id]);
  return { ...recipient, webhook: endpoints.get(recipient.id) ?? null };
}

/** A page of a webhook's delivery log, newest first; the customers it names are audited as read. */
export async function readWebhookDeliveries(
  scope: AccessScope,
  ref: string,
  page: { limit?: number | undefined; cursor?: string | undefined; status?: string | undefined },
): Promise<{ deliveries: WebhookDelivery[]; nextCursor: string | null }> {
  assertMayReadLog(scope);
  const recipient = await getWebhookRecipient(scope, ref);
  if (page.cursor !== undefined && !isUuid(page.cursor)) {
    throw invalid('CURSOR_INVALID', 'The cursor is not one this list gave: start again without it.');
  }
  const limit = page.limit ?? 50;
  const deliveries = await repo.listDeliveries(scope.tx, scope.actor.workspaceId, recipient.id, {
    limit,
    before: page.cursor,
    status: page.status,
  });
  const customerIds = [...new Set(deliveries.flatMap((d) => (d.customerId ? [d.customerId] : [])))];
  if (customerIds.length > 0) {
    scope.audit({
      action: 'webhook.deliveries.read',
      purpose: scope.purpose,
      customerIds,
      fields: ['id'],
      details: { recipientId: recipient.id },
    });
  }
  const last = deliveries[deliveries.length - 1];
  return { deliveries, nextCursor: deliveries.length === limit && last ? last.id : null };
}

/**
 * Sends a delivery again (a parked one after its receiver is fixed, or a delivered one the receiver
 * lost): a new round of attempts from now, with the same id and body, so a receiver that has it
 * already recognises it. A disabled webhook must be enabled first.
 */
export async function replayWebhookDelivery(
  scope: AccessScope,
  deliveryId: string,
): Promise<WebhookDelivery> {
  assertMayConfigure(scope);
  const workspaceId = scope.actor.workspaceId;
  const delivery = await repo.findDelivery(scope.tx, workspaceId, deliveryId);
  if (!delivery) {
    throw notFound('WEBHOOK_DELIVERY_NOT_FOUND', `No webhook delivery ${deliveryId} in this workspace.`, {
      id: deliveryId,
    });
  }
  const endpoint = (await repo.listEndpoints(scope.tx, workspaceId, scope.now, [delivery.recipientId])).get(
    delivery.recipientId,
  );
  if (endpoint?.status !== 'active') {
    throw conflict(
      'WEBHOOK_DISABLED',
      'The webhook of this delivery is disabled: enable it (POST /v1/recipients/{id}/enable) and replay again.',
      { recipientId: delivery.recipientId },
    );
  }
  await repo.scheduleReplay(scope.tx, workspaceId, deliveryId, scope.now);
  scope.audit({
    action: 'webhook.replay',
    purpose: null,
    customerIds: [],
    fields: [],
    details: { deliveryId, recipientId: delivery.recipientId, previousStatus: delivery.status },
  });
  return (await repo.findDelivery(scope.tx, workspaceId, deliveryId)) ?? delivery;
}

/**
 * The subscriber's work, in the transaction of the event's dispatch: one delivery per active webhook
 * whose purposes allow the event type and whose filter (if any) names it. An event about a customer
 * goes to a purpose only when the customer may be processed for it (consent, restriction, objection,
 * intimacy: the same condition as every governed read), except corrections, which go to every
 * recipient (SPEC §5.5). Idempotent per event and recipient: dispatching an event twice adds nothing.
 * Answers how many deliveries were added.
 */
export async function enqueueWebhookDeliveries(
  tx: Tx,
  event: WebhookEvent,
  options: { now?: Date } = {},
): Promise<number> {
  return enqueueFor(tx, event, await repo.listActiveEndpoints(tx, event.workspaceId), options);
}

/**
 * The subscriber's batch form: the workspace's active endpoints are read once, so a batch of events in a
 * workspace without webhooks costs one indexed lookup, not one per event.
 */
export async function enqueueWebhookDeliveriesForEvents(
  tx: Tx,
  events: readonly WebhookEvent[],
  options: { now?: Date } = {},
): Promise<number> {
  const workspaceId = events[0]?.workspaceId;
  if (workspaceId === undefined) return 0;
  const endpoints = await repo.listActiveEndpoints(tx, workspaceId);
  if (endpoints.length === 0) return 0;
  let enqueued = 0;
  for (const event of events) enqueued += await enqueueFor(tx, event, endpoints, options);
  return enqueued;
}

async function enqueueFor(
  tx: Tx,
  event: WebhookEvent,
  endpoints: Awaited<ReturnType<typeof repo.listActiveEndpoints>>,
  options: { now?: Date },
): Promise<number> {
  const workspaceId = event.workspaceId;
  const candidates = endpoints.flatMap((endpoint) => {
    const purpose = computeDeliveryPurpose(event.type, endpoint.purposes, endpoint.events);
    return purpose === undefined ? [] : [{ ...endpoint, purpose }];
  });
  if (candidates.length === 0) return 0;
  const now = options.now ?? new Date();
  const taxonomy = taxonomyOf(await getWorkspaceForAccess(tx, workspaceId));
  const allowedPurposes = new Set<string>();
  for (const purpose of new Set(candidates.map((c) => c.purpose))) {
    if (event.customerId === null || CORRECTION_EVENTS.has(event.type)) allowedPurposes.add(purpose);
    else {
      const condition = compileAccess(taxonomy, { role: 'integration', purposes: [purpose] }, purpose, now);
      const where = subjectWhere(condition.subjectCondition);
      if (await repo.customerMatches(tx, workspaceId, event.customerId, where)) allowedPurposes.add(purpose);
    }
  }
  const body = computeDeliveryBody(event);
  return repo.insertDeliveries(
    tx,
    workspaceId,
    candidates
      .filter((c) => allowedPurposes.has(c.purpose))
      .map((c) => ({
        id: newId(now.getTime()),
        recipientId: c.recipientId,
        eventId: event.id,
        eventType: event.type,
        customerId: event.customerId,
        purpose: c.purpose,
        lawfulBasis: taxonomy.purposes.get(c.purpose)?.lawfulBasis ?? 'unknown',
        body,
      })),
    now,
  );
}

/** What one run of the delivery worker did. */
export interface DeliveryRun {
  attempted: number;
  delivered: number;
  failed: number;
  parked: number;
  /** Webhooks disabled by this run, with their notice. */
  disabled: { workspaceId: string; recipientId: string; reason: string }[];
}

/** How the delivery worker runs; everything has a default but the clock is the caller's to inject. */
export interface DeliverOptions {
  /** The clock: what "due" means and when the next attempts are scheduled. */
  now?: Date;
  /** At most this many deliveries per run. */
  limit?: number;
  /** Deliveries per claim and per recording transaction (default 500). */
  batchSize?: number;
  /** Requests in flight at once. */
  concurrency?: number;
  /** Send with this fetch instead of node:http(s). */
  fetch?: FetchLike | undefined;
  timeoutMs?: number | undefined;
  /** The jitter's randomness, in [0, 1). */
  random?: () => number;
  /** Only these workspaces (tests, benchmarks); default every workspace. */
  workspaceIds?: readonly string[] | undefined;
}

/**
 * The delivery worker, one run: claims due deliveries of each workspace in batches of `batchSize` (a
 * short transaction with `FOR UPDATE SKIP LOCKED` and a lease, so workers side by side never send one
 * twice at once), POSTs them signed outside any transaction, then records every attempt, the
 * deliveries' next state, the disclosures and the endpoints' health in one transaction per batch. The
 * database work overlaps the requests: while a batch is being sent, the next one is claimed and the
 * previous one recorded (the lease keeps a claimed batch from being claimed again until it is). Never
 * holds a transaction across a request, so on the embedded engine requests keep being served while
 * receivers answer. At most `limit` deliveries per run.
 */
export async function deliverDueWebhooks(db: Kysely<DB>, options: DeliverOptions = {}): Promise<DeliveryRun> {
  const now = options.now ?? new Date();
  let budget = options.limit ?? 500;
  const batchSize = Math.max(1, options.batchSize ?? 500);
  const run: DeliveryRun = { attempted: 0, delivered: 0, failed: 0, parked: 0, disabled: [] };
  const workspaceIds = options.workspaceIds ?? (await listWorkspaces(db)).map((w) => w.id);
  for (const workspaceId of workspaceIds) {
    if (budget <= 0) break;
    const claim = (limit: number) =>
      inWorkspace(db, workspaceId, (tx) =>
        repo.claimDueDeliveries(tx, workspaceId, {
          now,
          limit,
          leaseUntil: new Date(now.getTime() + CLAIM_LEASE_MS),
        }),
      );
    const record = async (claimed: readonly repo.ClaimedDelivery[], records: repo.AttemptRecord[]) => {
      const outcome = await inWorkspace(db, workspaceId, (tx) =>
        recordRun(tx, workspaceId, claimed, records, now),
      );
      run.attempted += claimed.length;
      run.delivered += outcome.delivered;
      run.failed += claimed.length - outcome.delivered;
      run.parked += outcome.parked;
      for (const recipientId of outcome.failing) {
        const disabled = await disableIfFailing(db, workspaceId, recipientId, now);
        if (disabled) run.disabled.push({ workspaceId, recipientId, reason: disabled });
      }
    };
    let first = Math.min(batchSize, budget);
    budget -= first;
    let claiming: Promise<repo.ClaimedDelivery[]> = claim(first);
    let recording: Promise<void> = Promise.resolve();
    try {
      for (;;) {
        const claimed = await claiming;
        // What was asked for and not claimed goes back to the run's budget (for the next workspace).
        budget += first - claimed.length;
        if (claimed.length === 0) break;
        first = claimed.length === first ? Math.min(batchSize, budget) : 0;
        budget -= first;
        claiming = first > 0 ? claim(first) : Promise.resolve([]);
        const records = await sendAll(claimed, now, options);
        // Recorded in claim order, one batch after the other, while the next batch is sent.
        const previous = recording;
        recording = previous.then(() => record(claimed, records));
        if (first === 0) break;
      }
    } finally {
      // Whatever happens, the batches sent are recorded before the run answers (or throws).
      await recording;
      await claiming.catch(() => []);
    }
  }
  return run;
}

async function sendAll(
  claimed: readonly repo.ClaimedDelivery[],
  now: Date,
  options: DeliverOptions,
): Promise<repo.AttemptRecord[]> {
  const random = options.random ?? Math.random;
  const records: repo.AttemptRecord[] = new Array(claimed.length);
  let next = 0;
  const worker = async () => {
    while (next < claimed.length) {
      const index = next++;
      const delivery = claimed[index] as repo.ClaimedDelivery;
      const timestamp = Math.floor(now.getTime() / 1000);
      const headers = {
        'content-type': 'application/json',
        'user-agent': 'cornerstore-webhooks',
        'webhook-id': delivery.id,
        'webhook-timestamp': String(timestamp),
        'webhook-signature': computeSignatureHeader(delivery.id, now, delivery.body, delivery.secrets),
      };
      const result = await postDelivery(
        { url: delivery.url, headers, body: delivery.body },
        { fetch: options.fetch, timeoutMs: options.timeoutMs },
      );
      const acknowledged = isAcknowledged(result);
      const parked = !acknowledged && delivery.roundAttempt >= MAX_ATTEMPTS;
      records[index] = {
        deliveryId: delivery.id,
        recipientId: delivery.recipientId,
        attempt: delivery.attempt,
        url: delivery.url,
        // The request as sent, but its signatures: they are of no use in a log and only help a forger.
        request: {
          method: 'POST',
          headers: { 'webhook-id': delivery.id, 'webhook-timestamp': String(timestamp) },
          bodyBytes: Buffer.byteLength(delivery.body),
          signatures: delivery.secrets.length,
        },
        startedAt: now,
        latencyMs: result.latencyMs,
        responseStatus: result.status,
        error: result.error,
        status: acknowledged ? 'delivered' : parked ? 'parked' : 'pending',
        nextAttemptAt:
          acknowledged || parked
            ? now
            : new Date(now.getTime() + computeBackoffMs(delivery.roundAttempt, random())),
        disclosedAt: result.sent && !delivery.disclosed ? now : null,
      };
    }
  };
  await Promise.all(Array.from({ length: Math.min(options.concurrency ?? 64, claimed.length) }, worker));
  return records;
}

async function recordRun(
  tx: Tx,
  workspaceId: string,
  claimed: readonly repo.ClaimedDelivery[],
  records: readonly repo.AttemptRecord[],
  now: Date,
): Promise<{ delivered: number; parked: number; failing: string[] }> {
  await repo.recordAttempts(tx, workspaceId, records);
  // A delivery naming a customer is a disclosure of that customer's id to the recipient, once: when
  // its first attempt left (an answer or a timeout; a refused connection sent nothing).
  await recordDisclosures(
    tx,
    workspaceId,
    claimed.flatMap((d, i) =>
      records[i]?.disclosedAt && d.customerId
        ? [
            {
              customerId: d.customerId,
              recipientId: d.recipientId,
              fields: ['id'],
              purpose: d.purpose,
              lawfulBasis: d.lawfulBasis,
              requestId: `webhook:${d.id}`,
            },
          ]
        : [],
    ),
  );
  const byEndpoint = new Map<string, { ok: number; failed: number }>();
  for (const r of records) {
    const health = byEndpoint.get(r.recipientId) ?? { ok: 0, failed: 0 };
    if (r.status === 'delivered') health.ok++;
    else health.failed++;
    byEndpoint.set(r.recipientId, health);
  }
  const failing: string[] = [];
  for (const [recipientId, health] of byEndpoint) {
    if (health.ok > 0) {
      await repo.recordEndpointSuccess(tx, workspaceId, recipientId);
      continue;
    }
    const after = await repo.recordEndpointFailures(tx, workspaceId, recipientId, health.failed, now);
    if (after && computeShouldDisable(after, now)) failing.push(recipientId);
  }
  return {
    delivered: records.filter((r) => r.status === 'delivered').length,
    parked: records.filter((r) => r.status === 'parked').length,
    failing,
  };
}

/** Disables a webhook that kept failing, with a notice on the recipient and in the audit log. */
async function disableIfFailing(
  db: Kysely<DB>,
  workspaceId: string,
  recipientId: string,
  now: Date,
): Promise<string | undefined> {
  return withAdministration(db, systemActor(workspaceId), { requestId: null }, async (tx, audit) => {
    const endpoint = (await repo.listEndpoints(tx, workspaceId, now, [recipientId])).get(recipientId);
    if (endpoint?.status !== 'active') return undefined;
    const health = {
      consecutiveFailures: endpoint.consecutiveFailures,
      failingSince: endpoint.failingSince ? new Date(endpoint.failingSince) : null,
    };
    if (!computeShouldDisable(health, now)) return undefined;
    const days = Math.round(DISABLE_AFTER_MS / 86_400_000);
    const reason =
      `Disabled after ${health.consecutiveFailures} failed attempts in a row since ${endpoint.failingSince} ` +
      `(more than ${days} days without a successful delivery). Fix the receiver, then enable the webhook ` +
      '(POST /v1/recipients/{id}/enable) and replay what was parked.';
    if (!(await repo.disableEndpoint(tx, workspaceId, recipientId, reason, now))) return undefined;
    audit({
      action: 'webhook.disabled',
      purpose: null,
      customerIds: [],
      fields: [],
      details: { recipientId, url: endpoint.url, consecutiveFailures: health.consecutiveFailures, reason },
    });
    return reason;
  });
}

/**
 * Retention of the delivery log: finished deliveries (delivered or parked) and their attempts are
 * deleted `DELIVERY_RETENTION_DAYS` after they were created; pending ones are kept until they finish.
 * The disclosure ledger keeps its own entries for good. Answers how many deliveries were deleted.
 */
export async function pruneWebhookLogs(
  db: Kysely<DB>,
  options: { now?: Date; workspaceIds?: readonly string[] | undefined } = {},
): Promise<number> {
  const now = options.now ?? new Date();
  const before = new Date(now.getTime() - DELIVERY_RETENTION_DAYS * 86_400_000);
  const workspaceIds = options.workspaceIds ?? (await listWorkspaces(db)).map((w) => w.id);
  let deleted = 0;
  for (const workspaceId of workspaceIds) {
    deleted += await inWorkspace(db, workspaceId, (tx) =>
      repo.deleteFinishedDeliveries(tx, workspaceId, before),
    );
  }
  return deleted;
}
