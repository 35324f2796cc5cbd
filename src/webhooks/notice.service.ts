import type { Tx } from '../db/index.ts';
import * as repo from './webhook.repository.ts';
import { CORRECTION_EVENTS } from './webhook.ts';

/**
 * Deliveries that are not events: a correction notice addressed to one webhook recipient (SPEC §5.5),
 * sent by the same worker with the same signing, retries, backoff, parking and replay as every
 * delivery. The caller chooses the delivery's id, which the receiver sees as `webhook-id` — its
 * idempotency key — so one notice is never sent twice with different content.
 */

/** A notice to enqueue for a webhook recipient. */
export interface NoticeDelivery {
  /** The delivery's id and idempotency key (the notice's own id). */
  id: string;
  recipientId: string;
  /** The customer it is about: its first attempt to leave is a disclosure of the customer's id. */
  customerId: string;
  /** The event type the receiver sees (`privacy.rectification`, …). */
  type: string;
  /** The body, fixed now: every attempt and replay sends these bytes. */
  body: string;
}

/** The state of a delivery as a notice needs it. */
export interface DeliveryState {
  status: 'pending' | 'delivered' | 'parked';
  deliveredAt: string | null;
  lastError: string | null;
  lastStatus: number | null;
}

/**
 * Enqueues notices for their recipients' webhooks, under the purpose `legal` (telling a recipient of a
 * correction is a legal obligation). A notice whose id is enqueued already is left alone. Answers how
 * many were added.
 */
export function enqueueNoticeDeliveries(
  tx: Tx,
  workspaceId: string,
  notices: readonly NoticeDelivery[],
  now: Date,
): Promise<number> {
  return repo.insertDeliveries(
    tx,
    workspaceId,
    notices.map((n) => ({
      id: n.id,
      recipientId: n.recipientId,
      // The notice stands for the event: unique per recipient, as an event's delivery is.
      eventId: n.id,
      eventType: n.type,
      customerId: n.customerId,
      purpose: 'legal',
      lawfulBasis: 'legal_obligation',
      body: n.body,
    })),
    now,
  );
}

/** The states of deliveries by id (a delivery pruned after its retention is absent). */
export function readDeliveryStates(
  tx: Tx,
  workspaceId: string,
  ids: readonly string[],
): Promise<Map<string, DeliveryState>> {
  return repo.findDeliveryStates(tx, workspaceId, ids);
}

/** Recipients (of those given) that have a webhook endpoint, active or disabled. */
export async function findWebhookRecipients(
  tx: Tx,
  workspaceId: string,
  recipientIds: readonly string[],
): Promise<Set<string>> {
  return new Set((await repo.listEndpoints(tx, workspaceId, new Date(), recipientIds)).keys());
}

/**
 * Stops queued work about the customers (SPEC §5.4: restriction and objection take effect at once,
 * including queued work; erasure too): their pending deliveries are parked with the reason, except
 * corrections and privacy notices, which must still reach the recipients; with `purposes`, only the
 * deliveries made for those purposes (an objection). Answers how many.
 */
export function withdrawPendingDeliveries(
  tx: Tx,
  workspaceId: string,
  customerIds: readonly string[],
  reason: string,
  options: { purposes?: readonly string[] } = {},
): Promise<number> {
  return repo.parkPendingDeliveriesOf(
    tx,
    workspaceId,
    customerIds,
    [...CORRECTION_EVENTS],
    reason,
    options.purposes,
  );
}
