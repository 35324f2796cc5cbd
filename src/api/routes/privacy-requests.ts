import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import type { FastifyRequest } from 'fastify';
import {
  acknowledgeNotification,
  assignPrivacyRequest,
  CreatePrivacyRequestBody,
  CustomerRecipientSchema,
  completePrivacyRequest,
  createPrivacyRequest,
  exemptNotification,
  listPrivacyRequests,
  markNotificationSent,
  PrivacyNotificationSchema,
  PrivacyRequestSchema,
  readCustomerRecipients,
  readNotifications,
  readPrivacyRequest,
  recordGpcSignal,
  rejectPrivacyRequest,
  retryNotification,
  verifyPrivacyRequest,
} from '../../privacy/index.ts';
import { forbidden } from '../../shared/errors.ts';
import { type ApiDeps, governedWrite, withCallerAccess } from '../context.ts';
import { errorResponses, IdParams, PurposeParam, PurposeQuery } from '../schemas.ts';

const NOTE =
  ' For the purposes service or legal (query `purpose` or header Cornerstore-Purpose); the privacy office ' +
  '(owner, admin, privacy_officer) handles requests. Audited.';

const Note = Type.Object(
  { note: Type.Optional(Type.String({ maxLength: 2000 })) },
  { additionalProperties: false },
);
const Reason = Type.Object(
  { reason: Type.String({ minLength: 1, maxLength: 2000 }) },
  { additionalProperties: false },
);

const RequestWithNotifications = Type.Object({
  request: PrivacyRequestSchema,
  notifications: Type.Array(PrivacyNotificationSchema),
});

/** Whether the request carries a Global Privacy Control signal from the customer's own browser. */
function hasGpcSignal(request: FastifyRequest): boolean {
  return request.portalGrant !== undefined && request.headers['sec-gpc'] === '1';
}

/**
 * Privacy requests (the officer's queue, verification, assignment, completion with evidence), the
 * notifications that make corrections travel (the manual work queue, acknowledgements, exemptions,
 * retries), and a customer's recipients.
 */
export function privacyRequestRoutes(deps: ApiDeps): FastifyPluginAsyncTypebox {
  return async (app) => {
    app.post(
      '/privacy-requests',
      {
        schema: {
          operationId: 'createPrivacyRequest',
          tags: ['privacy'],
          summary:
            'Record a privacy request (access, rectification, erasure, restriction, portability, objection, do_not_sell).',
          description:
            'The deadline is the day of receipt plus the workspace setting privacyRequestDays (30 by default). A ' +
            'merged-away customer id is resolved to the surviving customer. From the customer’s portal link the ' +
            'request is verified by the link; with `Sec-GPC: 1` a do-not-sell/share request is also recorded and ' +
            'completed at once. Staff requests wait for verification unless `verifiedBy` says how it was done.' +
            NOTE,
          querystring: PurposeQuery,
          body: CreatePrivacyRequestBody,
          response: {
            201: Type.Object({
              request: PrivacyRequestSchema,
              gpc: Type.Union([
                Type.Object({
                  recorded: Type.Array(Type.String()),
                  requestId: Type.Union([Type.String(), Type.Null()]),
                }),
                Type.Null(),
              ]),
            }),
            ...errorResponses(),
          },
        },
      },
      async (request, reply) =>
        governedWrite(deps, request, reply, async (scope) => {
          const created = await createPrivacyRequest(scope, request.body);
          const gpc = hasGpcSignal(request) ? await recordGpcSignal(scope, created.customerId) : null;
          // Ids, kinds, dates and statuses; a rectification's values are the customer's own request.
          return { status: 201, body: { request: created, gpc } };
        }),
    );

    app.get(
      '/privacy-requests',
      {
        schema: {
          operationId: 'listPrivacyRequests',
          tags: ['privacy'],
          summary: 'The privacy office’s queue: requests by deadline, filtered by status and due date.',
          description: `\`dueBefore\` (YYYY-MM-DD) lists those due before that day; \`status\` open, completed or rejected.${NOTE}`,
          querystring: Type.Object(
            {
              ...PurposeParam,
              status: Type.Optional(
                Type.Union([Type.Literal('open'), Type.Literal('completed'), Type.Literal('rejected')]),
              ),
              dueBefore: Type.Optional(Type.String({ maxLength: 10 })),
              customerId: Type.Optional(Type.String({ format: 'uuid' })),
              kind: Type.Optional(Type.String({ maxLength: 32 })),
              limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 500, default: 100 })),
            },
            { additionalProperties: false },
          ),
          response: { 200: Type.Object({ requests: Type.Array(PrivacyRequestSchema) }), ...errorResponses() },
        },
      },
      async (request) => {
        const { purpose: _purpose, ...filter } = request.query;
        return withCallerAccess(deps, request, 'read', async (scope) => ({
          requests: await listPrivacyRequests(scope, filter),
        }));
      },
    );

    app.get(
      '/privacy-requests/:id',
      {
        schema: {
          operationId: 'getPrivacyRequest',
          tags: ['privacy'],
          summary: 'One privacy request with its evidence and the notifications it sent.',
          description: NOTE.trim(),
          params: IdParams,
          querystring: PurposeQuery,
          response: { 200: RequestWithNotifications, ...errorResponses() },
        },
      },
      async (request) =>
        withCallerAccess(deps, request, 'read', (scope) => readPrivacyRequest(scope, request.params.id)),
    );

    app.post(
      '/privacy-requests/:id/verify',
      {
        schema: {
          operationId: 'verifyPrivacyRequest',
          tags: ['privacy'],
          summary: 'Record how the requester’s identity was verified (the step before completion).',
          description: NOTE.trim(),
          params: IdParams,
          querystring: PurposeQuery,
          body: Type.Object(
            { method: Type.String({ minLength: 1, maxLength: 200 }) },
            { additionalProperties: false },
          ),
          response: { 200: Type.Object({ request: PrivacyRequestSchema }), ...errorResponses() },
        },
      },
      async (request, reply) =>
        governedWrite(deps, request, reply, async (scope) => ({
          status: 200,
          body: { request: await verifyPrivacyRequest(scope, request.params.id, request.body.method) },
        })),
    );

    app.post(
      '/privacy-requests/:id/assign',
      {
        schema: {
          operationId: 'assignPrivacyRequest',
          tags: ['privacy'],
          summary: 'Give the request to someone of the privacy office (null: nobody).',
          description: NOTE.trim(),
          params: IdParams,
          querystring: PurposeQuery,
          body: Type.Object(
            { assignee: Type.Union([Type.String({ minLength: 1, maxLength: 200 }), Type.Null()]) },
            { additionalProperties: false },
          ),
          response: { 200: Type.Object({ request: PrivacyRequestSchema }), ...errorResponses() },
        },
      },
      async (request, reply) =>
        governedWrite(deps, request, reply, async (scope) => ({
          status: 200,
          body: { request: await assignPrivacyRequest(scope, request.params.id, request.body.assignee) },
        })),
    );

    app.post(
      '/privacy-requests/:id/reject',
      {
        schema: {
          operationId: 'rejectPrivacyRequest',
          tags: ['privacy'],
          summary: 'Refuse a request, with the reason as its evidence.',
          description: NOTE.trim(),
          params: IdParams,
          querystring: PurposeQuery,
          body: Reason,
          response: { 200: Type.Object({ request: PrivacyRequestSchema }), ...errorResponses() },
        },
      },
      async (request, reply) =>
        governedWrite(deps, request, reply, async (scope) => ({
          status: 200,
          body: { request: await rejectPrivacyRequest(scope, request.params.id, request.body.reason) },
        })),
    );

    app.post(
      '/privacy-requests/:id/complete',
      {
        schema: {
          operationId: 'completePrivacyRequest',
          tags: ['privacy'],
          summary: 'Carry the request out and record the evidence of completion.',
          description:
            'access and portability: the archive of everything held (data.json and one CSV per table, zipped), ' +
            'answered here base64-encoded with its SHA-256 in the evidence; rectification: each field corrected ' +
            '(the corrections travel to every recipient that received them); erasure: complete, with the ' +
            'identifiers suppressed and every recipient told; restriction: processing restricted, recipients told ' +
            'and queued work stopped; objection and do_not_sell: the objections recorded. 409 ' +
            'PRIVACY_REQUEST_NOT_VERIFIED before verification; completing a completed request answers it as it is.' +
            NOTE,
          params: IdParams,
          querystring: PurposeQuery,
          body: Type.Optional(Note),
          response: {
            200: Type.Object({
              request: PrivacyRequestSchema,
              notifications: Type.Array(PrivacyNotificationSchema),
              archive: Type.Union([
                Type.Object({
                  fileName: Type.String(),
                  contentType: Type.Literal('application/zip'),
                  base64: Type.String(),
                }),
                Type.Null(),
              ]),
            }),
            ...errorResponses(),
          },
        },
      },
      async (request, reply) =>
        // The archive is personal data: the receipt keeps the request's id, and a replay answers the
        // request and its notifications without the archive.
        governedWrite(
          deps,
          request,
          reply,
          async (scope) => {
            const done = await completePrivacyRequest(scope, request.params.id, request.body ?? {});
            return {
              status: 200,
              body: {
                request: done.request,
                notifications: done.notifications,
                archive:
                  done.archive === null
                    ? null
                    : {
                        fileName: `customer-${done.request.customerId}.zip`,
                        contentType: 'application/zip' as const,
                        base64: Buffer.from(done.archive).toString('base64'),
                      },
              },
              receipt: { id: done.request.id },
            };
          },
          async (scope, receipt) => ({ ...(await readPrivacyRequest(scope, receipt.id)), archive: null }),
        ),
    );

    app.get(
      '/customers/:id/recipients',
      {
        schema: {
          operationId: 'listCustomerRecipients',
          tags: ['privacy'],
          summary: 'Every party that holds the customer’s data, and the state of each correction sent to it.',
          description:
            'From the disclosure ledger: which fields each recipient received, for which purposes, when; with the ' +
            'notifications of every rectification, merge, erasure and restriction (pending, delivered, ' +
            'acknowledged, failed, exempt). For service or legal; the customer sees it in their portal.',
          params: IdParams,
          querystring: PurposeQuery,
          response: {
            200: Type.Object({ recipients: Type.Array(CustomerRecipientSchema) }),
            ...errorResponses(),
          },
        },
      },
      async (request) =>
        withCallerAccess(deps, request, 'read', async (scope) => {
          if (scope.purpose !== 'service' && scope.purpose !== 'legal') {
            throw forbidden(
              'PURPOSE_NOT_ALLOWED_HERE',
              `A customer's recipients are read for service or legal, not for ${scope.purpose}.`,
              { purpose: scope.purpose },
            );
          }
          return { recipients: await readCustomerRecipients(scope, request.params.id) };
        }),
    );

    app.get(
      '/privacy-notifications',
      {
        schema: {
          operationId: 'listPrivacyNotifications',
          tags: ['privacy'],
          summary:
            'Notifications of corrections, erasures and restrictions: the manual work queue and their states.',
          description: `\`channel=manual&status=pending\` is the work queue of partners to write to.${NOTE}`,
          querystring: Type.Object(
            {
              ...PurposeParam,
              status: Type.Optional(
                Type.Union(
                  ['pending', 'delivered', 'acknowledged', 'failed', 'exempt'].map((s) => Type.Literal(s)),
                ),
              ),
              channel: Type.Optional(Type.Union([Type.Literal('webhook'), Type.Literal('manual')])),
              customerId: Type.Optional(Type.String({ format: 'uuid' })),
              requestId: Type.Optional(Type.String({ format: 'uuid' })),
            },
            { additionalProperties: false },
          ),
          response: {
            200: Type.Object({ notifications: Type.Array(PrivacyNotificationSchema) }),
            ...errorResponses(),
          },
        },
      },
      async (request) => {
        const { purpose: _purpose, status, channel, ...rest } = request.query;
        return withCallerAccess(deps, request, 'read', async (scope) => ({
          notifications: await readNotifications(scope, {
            ...rest,
            status: status as 'pending' | undefined,
            channel,
          }),
        }));
      },
    );

    const noticeAction = (
      path: string,
      operationId: string,
      summary: string,
      body: typeof Note | typeof Reason | undefined,
      run: (
        scope: Parameters<typeof retryNotification>[0],
        id: string,
        body: { note?: string; reason?: string },
      ) => Promise<unknown>,
    ) =>
      app.post(
        `/privacy-notifications/:id/${path}`,
        {
          schema: {
            operationId,
            tags: ['privacy'],
            summary,
            description: NOTE.trim(),
            params: IdParams,
            querystring: PurposeQuery,
            ...(body === undefined ? {} : { body: Type.Optional(body) }),
            response: { 200: Type.Object({ notification: PrivacyNotificationSchema }), ...errorResponses() },
          },
        },
        async (request, reply) =>
          governedWrite(deps, request, reply, async (scope) => ({
            status: 200,
            body: {
              notification: await run(
                scope,
                (request.params as { id: string }).id,
                (request.body ?? {}) as { note?: string; reason?: string },
              ),
            },
          })),
      );

    noticeAction(
      'acknowledge',
      'acknowledgePrivacyNotification',
      'The recipient confirms it applied the correction (its own integration key, or the privacy office for it).',
      Note,
      (scope, id, body) => acknowledgeNotification(scope, id, body.note),
    );
    noticeAction(
      'sent',
      'markPrivacyNotificationSent',
      'The manual queue: a person sent the notification to the partner.',
      Note,
      (scope, id, body) => markNotificationSent(scope, id, body.note),
    );
    noticeAction(
      'exempt',
      'exemptPrivacyNotification',
      'Mark a notification exempt, with the reason.',
      Reason,
      (scope, id, body) => exemptNotification(scope, id, body.reason ?? ''),
    );
    noticeAction(
      'retry',
      'retryPrivacyNotification',
      'Send a failed notification again: the same delivery id and body, a new round of attempts.',
      undefined,
      (scope, id) => retryNotification(scope, id),
    );
  };
}
