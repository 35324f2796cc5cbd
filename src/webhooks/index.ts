/**
 * Webhooks out (SPEC §11): the endpoint of each recipient of kind webhook (URL, event filter, signing
 * secrets with rotation, health), the deliveries the event backbone enqueues for it, the worker that
 * sends them signed as the Standard Webhooks specification says — at least once, with exponential
 * backoff and jitter, parked after its attempts and replayable — the delivery log and its retention,
 * and the disabling of a webhook that keeps failing. Owns `webhook_endpoints`, `webhook_deliveries` and
 * `webhook_attempts`. A flow over governance/ (recipients, the subject condition), disclosures/ (every
 * delivery naming a customer is a disclosure) and audit/. It must not import the event module (its
 * event type is declared here) nor hold a transaction across an HTTP request.
 */

export {
  /** The state of a delivery as a notice needs it. */
  type DeliveryState,
  /** Enqueues correction notices for webhook recipients (same worker, signing and retries). */
  enqueueNoticeDeliveries,
  /** Recipients (of those given) that have a webhook endpoint. */
  findWebhookRecipients,
  /** A notice to enqueue for a webhook recipient. */
  type NoticeDelivery,
  /** The states of deliveries by id. */
  readDeliveryStates,
  /** Parks pending deliveries about customers who restricted processing or were erased. */
  withdrawPendingDeliveries,
} from './notice.service.ts';
export {
  /** Schemas of webhook answers. */
  RecipientWithWebhookSchema,
  WebhookDeliverySchema,
  WebhookEndpointSchema,
} from './webhook.schema.ts';
export {
  /** How the delivery worker runs (clock, limit, fetch). */
  type DeliverOptions,
  /** What one run of the delivery worker did. */
  type DeliveryRun,
  /** The delivery worker, one run: claim due deliveries, POST them signed, record the attempts. */
  deliverDueWebhooks,
  /** Turns a disabled webhook on again. */
  enableWebhook,
  /** The subscriber: one delivery per webhook whose purposes and filter allow the event. */
  enqueueWebhookDeliveries,
  /** The subscriber's batch form (endpoints read once per batch). */
  enqueueWebhookDeliveriesForEvents,
  /** Deletes finished deliveries and their attempts after the retention period. */
  pruneWebhookLogs,
  /** A recipient with its webhook endpoint. */
  type RecipientWithWebhook,
  /** The recipient registry with each webhook's endpoint. */
  readRecipientsWithWebhooks,
  /** A page of a webhook's delivery log. */
  readWebhookDeliveries,
  /** Registers a recipient; for kind webhook also its endpoint and secret (shown once). */
  registerRecipientWithWebhook,
  /** Sends a delivery again, in a new round of attempts. */
  replayWebhookDelivery,
  /** Gives a webhook a new secret; the previous one signs too for a day. */
  rotateWebhookSecret,
} from './webhook.service.ts';
export {
  /** Backoff, disabling, rotation and retention constants. */
  BACKOFF_BASE_MS,
  /** The backoff after a failed attempt. */
  computeBackoffMs,
  /** The webhook-signature header of a delivery. */
  computeSignatureHeader,
  DELIVERY_RETENTION_DAYS,
  DISABLE_AFTER_MS,
  DISABLE_MIN_FAILURES,
  MAX_ATTEMPTS,
  ROTATION_OVERLAP_MS,
  /** Which purposes may receive each event type. */
  WEBHOOK_EVENT_PURPOSES,
  /** A delivery as the log shows it. */
  type WebhookDelivery,
  /** A webhook endpoint as shown on its recipient. */
  type WebhookEndpoint,
  /** The event as the backbone hands it to subscribers (structural). */
  type WebhookEvent,
} from './webhook.ts';
