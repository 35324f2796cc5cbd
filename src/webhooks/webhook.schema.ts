import { Type } from '@sinclair/typebox';
import { RecipientSchema } from '../disclosures/index.ts';

/** Schemas of webhook answers (the request bodies are the recipients' and have no fields of their own). */

const NullableString = Type.Union([Type.String(), Type.Null()]);

/** A webhook endpoint as shown on its recipient. */
export const WebhookEndpointSchema = Type.Object({
  url: Type.String(),
  events: Type.Union([Type.Array(Type.String()), Type.Null()], {
    description: 'The event types asked for; null: every type the purposes allow.',
  }),
  status: Type.Union([Type.Literal('active'), Type.Literal('disabled')]),
  consecutiveFailures: Type.Integer(),
  failingSince: NullableString,
  disabledAt: NullableString,
  disabledReason: Type.Union([Type.String(), Type.Null()], {
    description: 'The notice given when the webhook was disabled after sustained failure.',
  }),
  previousSecretUntil: Type.Union([Type.String(), Type.Null()], {
    description: 'After a rotation: until when deliveries are also signed with the previous secret.',
  }),
});

/** A recipient with its webhook (null for other kinds). */
export const RecipientWithWebhookSchema = Type.Composite([
  RecipientSchema,
  Type.Object({ webhook: Type.Union([WebhookEndpointSchema, Type.Null()]) }),
]);

/** One attempt of a delivery. */
export const WebhookAttemptSchema = Type.Object({
  attempt: Type.Integer(),
  url: Type.String(),
  request: Type.Record(Type.String(), Type.Unknown()),
  startedAt: Type.String(),
  latencyMs: Type.Integer(),
  responseStatus: Type.Union([Type.Integer(), Type.Null()]),
  error: NullableString,
});

/** A delivery with its attempts. */
export const WebhookDeliverySchema = Type.Object({
  id: Type.String({ description: 'The webhook-id header: the same on every attempt and replay.' }),
  recipientId: Type.String(),
  eventId: Type.String(),
  eventType: Type.String(),
  customerId: NullableString,
  purpose: Type.String(),
  status: Type.Union([Type.Literal('pending'), Type.Literal('delivered'), Type.Literal('parked')]),
  attempts: Type.Integer(),
  nextAttemptAt: NullableString,
  lastStatus: Type.Union([Type.Integer(), Type.Null()]),
  lastError: NullableString,
  deliveredAt: NullableString,
  createdAt: Type.String(),
  log: Type.Array(WebhookAttemptSchema),
});
