import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import {
  enableWebhook,
  RecipientWithWebhookSchema,
  readRecipientsWithWebhooks,
  readWebhookDeliveries,
  replayWebhookDelivery,
  rotateWebhookSecret,
  WebhookDeliverySchema,
} from '../../webhooks/index.ts';
import { type ApiDeps, governedWrite, withCallerAccess } from '../context.ts';
import { errorResponses, IdParams, PageQuery, PurposeParam, PurposeQuery } from '../schemas.ts';

const ReplayedDelivery = Type.Object({
  id: Type.String(),
  recipientId: Type.String(),
  status: Type.String(),
  attempts: Type.Integer(),
  nextAttemptAt: Type.Union([Type.String(), Type.Null()]),
});

/** Webhooks out: the delivery log, replay, secret rotation, enabling a disabled webhook. */
export function webhookRoutes(deps: ApiDeps): FastifyPluginAsyncTypebox {
  return async (app) => {
    app.get(
      '/recipients/:id/deliveries',
      {
        schema: {
          operationId: 'listDeliveries',
          tags: ['webhooks'],
          summary: "A webhook's delivery log, newest first: each delivery with every attempt.",
          description:
            'Each attempt: the request (without its signatures), the answer status, latency and error. Owner or ' +
            'admin, or the privacy office (purpose legal); the customers named are audited as read.',
          params: IdParams,
          querystring: Type.Object(
            {
              ...PageQuery,
              ...PurposeParam,
              status: Type.Optional(
                Type.Union([Type.Literal('pending'), Type.Literal('delivered'), Type.Literal('parked')]),
              ),
            },
            { additionalProperties: false },
          ),
          response: {
            200: Type.Object({
              deliveries: Type.Array(WebhookDeliverySchema),
              nextCursor: Type.Union([Type.String(), Type.Null()]),
            }),
            ...errorResponses(),
          },
        },
      },
      async (request) =>
        withCallerAccess(deps, request, 'read', (scope) =>
          readWebhookDeliveries(scope, request.params.id, {
            limit: request.query.limit,
            cursor: request.query.cursor,
            status: request.query.status,
          }),
        ),
    );

    app.post(
      '/recipients/:id/rotate-secret',
      {
        schema: {
          operationId: 'rotateWebhookSecret',
          tags: ['webhooks'],
          summary: 'Give a webhook a new signing secret; it is in this response only.',
          description:
            'For 24 hours deliveries carry signatures under both the new and the previous secret (the Standard ' +
            'Webhooks way to rotate), so the receiver can switch without losing any. Owner or admin; audited. ' +
            'A replay (Idempotency-Key) answers the secret as null.',
          params: IdParams,
          querystring: PurposeQuery,
          response: {
            200: Type.Object({
              recipient: RecipientWithWebhookSchema,
              secret: Type.Union([Type.String(), Type.Null()]),
            }),
            ...errorResponses(),
          },
        },
      },
      async (request, reply) =>
        governedWrite(
          deps,
          request,
          reply,
          async (scope) => {
            const { recipient, secret } = await rotateWebhookSecret(scope, request.params.id);
            return { status: 200, body: { recipient, secret }, receipt: { id: recipient.id } };
          },
          async (scope, receipt) => ({
            recipient: (await readRecipientsWithWebhooks(scope)).find((r) => r.id === receipt.id) ?? null,
            secret: null,
          }),
        ),
    );

    app.post(
      '/recipients/:id/enable',
      {
        schema: {
          operationId: 'enableWebhook',
          tags: ['webhooks'],
          summary:
            'Turn a webhook disabled after sustained failure on again; its waiting deliveries go out now.',
          description: 'Owner or admin; audited. Parked deliveries stay parked: replay them.',
          params: IdParams,
          querystring: PurposeQuery,
          response: { 200: Type.Object({ recipient: RecipientWithWebhookSchema }), ...errorResponses() },
        },
      },
      async (request, reply) =>
        governedWrite(
          deps,
          request,
          reply,
          async (scope) => {
            const recipient = await enableWebhook(scope, request.params.id);
            return { status: 200, body: { recipient }, receipt: { id: recipient.id } };
          },
          async (scope, receipt) => ({
            recipient: (await readRecipientsWithWebhooks(scope)).find((r) => r.id === receipt.id) ?? null,
          }),
        ),
    );

    app.post(
      '/deliveries/:id/replay',
      {
        schema: {
          operationId: 'replayDelivery',
          tags: ['webhooks'],
          summary: 'Send a webhook delivery again: a new round of attempts from now, same id and body.',
          description:
            'For a parked delivery after its receiver is fixed, or a delivered one the receiver lost; the receiver ' +
            'recognises it by its webhook-id. The webhook must be enabled (409 WEBHOOK_DISABLED). Owner or admin; audited.',
          params: IdParams,
          querystring: PurposeQuery,
          response: { 202: Type.Object({ delivery: ReplayedDelivery }), ...errorResponses() },
        },
      },
      async (request, reply) =>
        governedWrite(deps, request, reply, async (scope) => {
          const d = await replayWebhookDelivery(scope, request.params.id);
          // Ids and statuses only: this answer is what a repeat with the same Idempotency-Key gets.
          return {
            status: 202,
            body: {
              delivery: {
                id: d.id,
                recipientId: d.recipientId,
                status: d.status,
                attempts: d.attempts,
                nextAttemptAt: d.nextAttemptAt,
              },
            },
          };
        }),
    );
  };
}
