import { getCustomer } from '../customers/index.ts';
import type { Tx } from '../db/index.ts';
import { recipientForKey } from '../disclosures/index.ts';
import type { AccessScope } from '../governance/index.ts';
import { conflict, forbidden, invalid, notFound } from '../shared/errors.ts';
import { newId } from '../shared/ids.ts';
import {
  enqueueNoticeDeliveries,
  findWebhookRecipients,
  readDeliveryStates,
  replayWebhookDelivery,
} from '../webhooks/index.ts';
import { isAdmin } from '../workspaces/index.ts';
import * as repo from './privacy.repository.ts';
import {
  computeAffectedFields,
  computeNoticeBody,
  type NotificationCause,
  type NotificationChannel,
  type NotificationStatus,
  type PrivacyNotification,
} from './privacy.ts';

/**
 * Corrections travel (SPEC §5.5): a rectification, merge, erasure or restriction becomes one notification
 * per recipient that ever received the affected fields — read from the disclosure ledger — delivered
 * through the recipient's channel: a signed webhook (the webhook worker's retries, backoff and parking;
 * the notification's id is the delivery's idempotency key) or the manual work queue (a partner a person
 * writes to). Each moves pending → delivered → acknowledged, or failed (a person retries), or exempt
 * with a reason.
 */

/** What to tell the recipients of a customer's data. */
export interface NoticeCause {
  workspaceId: string;
  customerId: string;
  cause: NotificationCause;
  /** The event or request that caused it: one notification per cause and recipient. */
  causeId: string;
  requestId: string | null;
  /** The fields that changed, or 'all' (erasure, restriction, merge). */
  fields: readonly string[] | 'all';
  now: Date;
}

/**
 * Creates the notifications of a cause, in the caller's transaction: one per recipient that received
 * any of the affected fields; for a webhook recipient, its delivery is enqueued in the same
 * transaction. Idempotent per cause and recipient. Answers the notifications created.
 */
export async function planNotifications(tx: Tx, cause: NoticeCause): Promise<PrivacyNotification[]> {
  const recipients = await repo.listDisclosedRecipients(tx, cause.workspaceId, cause.customerId);
  const affected = recipients.flatMap((r) => {
    const fields = computeAffectedFields(r.fields, cause.fields);
    return fields.length === 0 ? [] : [{ recipient: r, fields }];
  });
  if (affected.length === 0) return [];
  const webhooks = await findWebhookRecipients(
    tx,
    cause.workspaceId,
    affected.map((a) => a.recipient.id),
  );
  const planned = affected.map((a) => ({
    id: newId(cause.now.getTime()),
    recipientId: a.recipient.id,
    customerId: cause.customerId,
    cause: cause.cause,
    causeId: cause.causeId,
    requestId: cause.requestId,
    fields: a.fields,
    channel: (webhooks.has(a.recipient.id) ? 'webhook' : 'manual') as NotificationChannel,
  }));
  const inserted = await repo.insertNotifications(tx, cause.workspaceId, planned, cause.now);
  const fresh = planned.filter((p) => inserted.has(p.id));
  await enqueueNoticeDeliveries(
    tx,
    cause.workspaceId,
    fresh
      .filter((p) => p.channel === 'webhook')
      .map((p) => ({
        id: p.id,
        recipientId: p.recipientId,
        customerId: p.customerId,
        type: `privacy.${p.cause}`,
        body: computeNoticeBody({
          id: p.id,
          workspaceId: cause.workspaceId,
          customerId: p.customerId,
          cause: p.cause,
          fields: p.fields,
          requestId: p.requestId,
          at: cause.now,
        }),
      })),
    cause.now,
  );
  return repo.listNotifications(tx, cause.workspaceId, { ids: fresh.map((p) => p.id), limit: fresh.length });
}

/**
 * Brings webhook notifications up to their deliveries' states: delivered, failed (parked after its
 * attempts), or pending again (replayed). Acknowledged and exempt ones stay. Answers how many moved.
 */
export async function syncNotificationStates(
  tx: Tx,
  workspaceId: string,
  options: { customerId?: string | undefined; now: Date; limit?: number },
): Promise<number> {
  const open = await repo.listOpenWebhookNotifications(
    tx,
    workspaceId,
    options.customerId,
    options.limit ?? 5000,
  );
  if (open.length === 0) return 0;
  const states = await readDeliveryStates(
    tx,
    workspaceId,
    open.map((n) => n.deliveryId),
  );
  let moved = 0;
  for (const n of open) {
    const state = states.get(n.deliveryId);
    if (!state) continue;
    const next: NotificationStatus =
      state.status === 'delivered' ? 'delivered' : state.status === 'parked' ? 'failed' : 'pending';
    if (next === n.status) continue;
    const reason =
      next === 'failed'
        ? `the webhook did not accept it after its attempts (last: ${state.lastStatus ?? state.lastError ?? 'no answer'})`
        : null;
    moved++;
    await repo.setNotificationStatus(tx, workspaceId, [n.id], {
      status: next,
      reason,
      deliveredAt:
        next === 'delivered' ? (state.deliveredAt ? new Date(state.deliveredAt) : options.now) : null,
      now: options.now,
    });
  }
  return moved;
}

const NOTICE_LIST_LIMIT = 1000;

function assertPrivacyOffice(scope: AccessScope, what: string): void {
  if (!isAdmin(scope.actor) && scope.actor.role !== 'privacy_officer') {
    throw forbidden('ROLE_NOT_ALLOWED', `${what} is for an owner, admin or the privacy office.`);
  }
  if (scope.actor.label.startsWith('customer:')) {
    throw forbidden('ROLE_NOT_ALLOWED', `${what} is for the privacy office, not the customer's portal.`);
  }
}

/** The notifications of the workspace (the privacy office's view and the manual work queue). */
export async function readNotifications(
  scope: AccessScope,
  filter: {
    status?: NotificationStatus | undefined;
    channel?: NotificationChannel | undefined;
    customerId?: string | undefined;
    requestId?: string | undefined;
  },
): Promise<PrivacyNotification[]> {
  assertPrivacyOffice(scope, 'The notification queue');
  const workspaceId = scope.actor.workspaceId;
  await syncNotificationStates(scope.tx, workspaceId, { customerId: filter.customerId, now: scope.now });
  return repo.listNotifications(scope.tx, workspaceId, { ...filter, limit: NOTICE_LIST_LIMIT });
}

async function getNotification(scope: AccessScope, id: string): Promise<PrivacyNotification> {
  const workspaceId = scope.actor.workspaceId;
  const [found] = await repo.listNotifications(scope.tx, workspaceId, { ids: [id], limit: 1 });
  if (!found) {
    throw notFound('PRIVACY_NOTIFICATION_NOT_FOUND', `No privacy notification ${id} in this workspace.`, {
      id,
    });
  }
  await syncNotificationStates(scope.tx, workspaceId, { customerId: found.customerId, now: scope.now });
  const [fresh] = await repo.listNotifications(scope.tx, workspaceId, { ids: [id], limit: 1 });
  return fresh ?? found;
}

function audit(
  scope: AccessScope,
  action: string,
  n: PrivacyNotification,
  details: Record<string, unknown> = {},
) {
  scope.audit({
    action,
    purpose: scope.purpose,
    customerIds: [n.customerId],
    fields: [],
    details: { notificationId: n.id, recipientId: n.recipient.id, ...details },
  });
}

/**
 * The recipient confirms it applied the correction (or erasure, or restriction): its own integration
 * key (the recipient standing for that key), or the privacy office recording a partner's answer.
 * Acknowledging twice changes nothing.
 */
export async function acknowledgeNotification(
  scope: AccessScope,
  id: string,
  note: string | undefined,
): Promise<PrivacyNotification> {
  const n = await getNotification(scope, id);
  const own = scope.actor.role === 'integration' ? await recipientForKey(scope.tx, scope.actor) : undefined;
  if (own?.id !== n.recipient.id) assertPrivacyOffice(scope, 'Acknowledging for a recipient');
  if (n.status === 'acknowledged') return n;
  if (n.status === 'exempt') {
    throw conflict(
      'PRIVACY_NOTIFICATION_EXEMPT',
      'This notification is exempt: there is nothing to acknowledge.',
      {
        id,
      },
    );
  }
  await repo.setNotificationStatus(scope.tx, scope.actor.workspaceId, [id], {
    status: 'acknowledged',
    reason: note ?? null,
    ...(n.deliveredAt === null ? { deliveredAt: scope.now } : {}),
    acknowledged: { at: scope.now, by: scope.actor.label },
    now: scope.now,
  });
  audit(scope, 'privacy.notification.acknowledge', n);
  return getNotification(scope, id);
}

/** The manual queue: a person sent the notification to the partner (letter, mail, their portal). */
export async function markNotificationSent(
  scope: AccessScope,
  id: string,
  note: string | undefined,
): Promise<PrivacyNotification> {
  assertPrivacyOffice(scope, 'Working the notification queue');
  const n = await getNotification(scope, id);
  if (n.channel !== 'manual') {
    throw conflict(
      'PRIVACY_NOTIFICATION_NOT_MANUAL',
      'This notification travels by webhook: its state follows the delivery (retry a failed one).',
      { id },
    );
  }
  if (n.status !== 'pending' && n.status !== 'failed') return n;
  await repo.setNotificationStatus(scope.tx, scope.actor.workspaceId, [id], {
    status: 'delivered',
    reason: note ?? null,
    deliveredAt: scope.now,
    now: scope.now,
  });
  audit(scope, 'privacy.notification.sent', n);
  return getNotification(scope, id);
}

/** Marks a notification exempt with its reason (the recipient proved it deleted the data, …). */
export async function exemptNotification(
  scope: AccessScope,
  id: string,
  reason: string,
): Promise<PrivacyNotification> {
  assertPrivacyOffice(scope, 'Exempting a notification');
  if (reason.trim().length === 0) {
    throw invalid('REASON_REQUIRED', 'Say why this recipient need not be told.', {
      errors: [{ path: 'reason', message: 'must not be empty' }],
    });
  }
  const n = await getNotification(scope, id);
  if (n.status === 'acknowledged') {
    throw conflict(
      'PRIVACY_NOTIFICATION_ACKNOWLEDGED',
      'The recipient acknowledged this notification already.',
      {
        id,
      },
    );
  }
  await repo.setNotificationStatus(scope.tx, scope.actor.workspaceId, [id], {
    status: 'exempt',
    reason: reason.trim(),
    now: scope.now,
  });
  audit(scope, 'privacy.notification.exempt', n, { reason: reason.trim() });
  return getNotification(scope, id);
}

/**
 * Sends a failed webhook notification again: the same delivery (same id and bytes) in a new round of
 * attempts, so a receiver that got it already recognises it. A manual one goes back to the queue.
 */
export async function retryNotification(scope: AccessScope, id: string): Promise<PrivacyNotification> {
  assertPrivacyOffice(scope, 'Retrying a notification');
  const n = await getNotification(scope, id);
  if (n.status !== 'failed') {
    throw conflict(
      'PRIVACY_NOTIFICATION_NOT_FAILED',
      `Only a failed notification is retried; this one is ${n.status}.`,
      {
        id,
        status: n.status,
      },
    );
  }
  if (n.channel === 'webhook' && n.deliveryId !== null) await replayWebhookDelivery(scope, n.deliveryId);
  await repo.setNotificationStatus(scope.tx, scope.actor.workspaceId, [id], {
    status: 'pending',
    reason: null,
    now: scope.now,
  });
  audit(scope, 'privacy.notification.retry', n);
  return getNotification(scope, id);
}

/** Every party that holds the customer's data, with the state of each correction sent to it. */
export interface CustomerRecipient extends repo.DisclosedRecipient {
  notifications: PrivacyNotification[];
}

/** The customer's recipients (GET /v1/customers/{id}/recipients), for service or legal (and the portal). */
export async function readCustomerRecipients(scope: AccessScope, ref: string): Promise<CustomerRecipient[]> {
  const workspaceId = scope.actor.workspaceId;
  const customerId = (await getCustomer(scope.tx, scope.actor, ref)).id;
  scope.audit({
    action: 'privacy.recipients.read',
    purpose: scope.purpose,
    customerIds: [customerId],
    fields: ['disclosures'],
  });
  await syncNotificationStates(scope.tx, workspaceId, { customerId, now: scope.now });
  const recipients = await repo.listDisclosedRecipients(scope.tx, workspaceId, customerId);
  const notifications = await repo.listNotifications(scope.tx, workspaceId, {
    customerId,
    limit: NOTICE_LIST_LIMIT,
  });
  return recipients.map((r) => ({
    ...r,
    notifications: notifications.filter((n) => n.recipient.id === r.id),
  }));
}
