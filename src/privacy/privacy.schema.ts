import { Type } from '@sinclair/typebox';
import { PRIVACY_REQUEST_KINDS } from './privacy.ts';

/** Schemas of privacy requests, notifications and a customer's recipients (API input and answers). */

const Nullable = <T extends ReturnType<typeof Type.String>>(schema: T) => Type.Union([schema, Type.Null()]);

/** The body of POST /v1/privacy-requests. */
export const CreatePrivacyRequestBody = Type.Object(
  {
    customerId: Type.String({ minLength: 1, maxLength: 64 }),
    kind: Type.String({ description: `One of ${PRIVACY_REQUEST_KINDS.join(', ')}.`, maxLength: 32 }),
    changes: Type.Optional(
      Type.Array(
        Type.Object(
          {
            field: Type.String({ maxLength: 64 }),
            value: Type.Union([Type.String({ maxLength: 500 }), Type.Null()]),
          },
          { additionalProperties: false },
        ),
        { maxItems: 10, description: 'rectification: the golden-record fields to correct and their values.' },
      ),
    ),
    purposes: Type.Optional(
      Type.Array(Type.String({ maxLength: 64 }), {
        maxItems: 20,
        description: 'objection: the purposes objected to.',
      }),
    ),
    note: Type.Optional(Type.String({ maxLength: 2000 })),
    assignee: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
    verifiedBy: Type.Optional(
      Type.String({
        minLength: 1,
        maxLength: 200,
        description: 'Staff verified the identity at once: how (id_document, call_back, …).',
      }),
    ),
  },
  { additionalProperties: false },
);

/** A privacy request as read. */
export const PrivacyRequestSchema = Type.Object({
  id: Type.String(),
  customerId: Type.String(),
  kind: Type.String(),
  source: Type.String({ description: 'staff, customer (the portal) or gpc (a Sec-GPC: 1 signal).' }),
  status: Type.String({ description: 'open, completed or rejected.' }),
  verification: Type.Object({
    status: Type.String({ description: 'pending, verified or not_required.' }),
    method: Nullable(Type.String()),
    by: Nullable(Type.String()),
    at: Nullable(Type.String()),
  }),
  assignee: Nullable(Type.String()),
  details: Type.Record(Type.String(), Type.Unknown()),
  evidence: Type.Union([Type.Record(Type.String(), Type.Unknown()), Type.Null()]),
  receivedAt: Type.String(),
  dueOn: Type.String({ description: 'The last day (YYYY-MM-DD, UTC) the request may be answered on.' }),
  daysLeft: Type.Union([Type.Integer(), Type.Null()]),
  overdue: Type.Boolean(),
  createdBy: Type.String(),
  completedBy: Nullable(Type.String()),
  completedAt: Nullable(Type.String()),
});

/** A notification to one recipient. */
export const PrivacyNotificationSchema = Type.Object({
  id: Type.String({ description: "Also the webhook delivery's id: the receiver's idempotency key." }),
  recipient: Type.Object({ id: Type.String(), name: Type.String(), kind: Type.String() }),
  customerId: Type.String(),
  cause: Type.String({ description: 'rectification, merge, erasure or restriction.' }),
  causeId: Type.String(),
  requestId: Nullable(Type.String()),
  fields: Type.Array(Type.String()),
  channel: Type.String({ description: 'webhook or manual.' }),
  status: Type.String({ description: 'pending, delivered, acknowledged, failed or exempt.' }),
  reason: Nullable(Type.String()),
  deliveryId: Nullable(Type.String()),
  createdAt: Type.String(),
  deliveredAt: Nullable(Type.String()),
  acknowledgedAt: Nullable(Type.String()),
  acknowledgedBy: Nullable(Type.String()),
});

/** A party holding the customer's data, with the corrections sent to it. */
export const CustomerRecipientSchema = Type.Object({
  id: Type.String(),
  name: Type.String(),
  kind: Type.String(),
  fields: Type.Array(Type.String()),
  purposes: Type.Array(Type.String()),
  disclosures: Type.Integer(),
  firstAt: Type.String(),
  lastAt: Type.String(),
  notifications: Type.Array(PrivacyNotificationSchema),
});
