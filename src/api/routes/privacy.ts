import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import {
  ConsentRecordSchema,
  ConsentStateSchema,
  PrivacyFlagBody,
  PrivacyStateSchema,
  RecordConsentBody,
  SetIntimacyBody,
} from '../../consent/index.ts';
import { CustomerSchema } from '../../customers/index.ts';
import { CreateRecipientBody, DisclosureSchema } from '../../disclosures/index.ts';
import {
  changePrivacyFlagGoverned,
  readAccessLog,
  readConsents,
  readDisclosures,
  readPrivacyState,
  recordConsentGoverned,
  setIntimacyGoverned,
  setWorkspacePolicy,
  shareCustomer,
} from '../../governance/index.ts';
import { applyRestriction } from '../../privacy/index.ts';
import { newId } from '../../shared/ids.ts';
import {
  RecipientWithWebhookSchema,
  readRecipientsWithWebhooks,
  registerRecipientWithWebhook,
  withdrawPendingDeliveries,
} from '../../webhooks/index.ts';
import { type ApiDeps, actorOf, governedWrite, purposeOf, withCallerAccess } from '../context.ts';
import {
  errorResponses,
  IdParams,
  PageQuery,
  PurposeParam,
  PurposeQuery,
  WithheldSchema,
} from '../schemas.ts';

const PRIVACY_NOTE =
  ' For the purposes service or legal (query `purpose` or header Cornerstore-Purpose). Audited.';

const AccessLogEntry = Type.Object({
  seq: Type.Union([Type.Integer(), Type.Null()], {
    description: 'Place in the audit chain; null until chained.',
  }),
  at: Type.String(),
  actor: Type.Object({
    keyId: Type.Union([Type.String(), Type.Null()]),
    role: Type.String(),
    label: Type.String(),
  }),
  action: Type.String(),
  purpose: Type.Union([Type.String(), Type.Null()]),
  fields: Type.Array(Type.String()),
  requestId: Type.Union([Type.String(), Type.Null()]),
});

// The shape of each addition is checked here (400 with paths); what its values mean (a storage policy,
// an intimacy level, a lawful basis, a role) is checked by the taxonomy, which answers with its own codes.
const CategoryAdditionBody = Type.Object(
  {
    name: Type.String({ maxLength: 200, description: 'Lower-case words joined by dots: preference.diet.' }),
    policy: Type.Optional(
      Type.String({ description: 'store, declared_only, special, hash_only, do_not_store.' }),
    ),
    minIntimacy: Type.Optional(Type.Number({ description: '0 to 4.' })),
    minIntimacyFor: Type.Optional(Type.String({ description: 'all or outreach.' })),
    directIdentifier: Type.Optional(Type.Boolean()),
    description: Type.Optional(Type.String({ maxLength: 1000 })),
  },
  { additionalProperties: false },
);
const PurposeAdditionBody = Type.Object(
  {
    name: Type.String({ maxLength: 64, description: 'One lower-case word: loyalty_programme.' }),
    lawfulBasis: Type.String({
      description: 'contract, legitimate_interest, legal_obligation, consent, explicit_consent.',
    }),
    description: Type.Optional(Type.String({ maxLength: 1000 })),
    minIntimacy: Type.Optional(Type.Number({ description: '0 to 4.' })),
    outreach: Type.Optional(Type.Boolean()),
    pseudonymised: Type.Optional(Type.Boolean()),
    neverSpecial: Type.Optional(Type.Boolean()),
    roles: Type.Optional(Type.Array(Type.String({ maxLength: 64 }), { maxItems: 20 })),
  },
  { additionalProperties: false },
);

const PolicyBody = Type.Object(
  {
    categories: Type.Optional(Type.Array(CategoryAdditionBody, { maxItems: 200 })),
    purposes: Type.Optional(Type.Array(PurposeAdditionBody, { maxItems: 50 })),
    overrides: Type.Optional(
      Type.Array(
        Type.Object(
          {
            category: Type.String(),
            policy: Type.String(),
            reason: Type.String({ minLength: 1, maxLength: 1000 }),
          },
          { additionalProperties: false },
        ),
        { maxItems: 50 },
      ),
    ),
  },
  { additionalProperties: false },
);

/** Consents, intimacy, restriction and objection, disclosures, the access log, recipients and sharing. */
export function privacyRoutes(deps: ApiDeps): FastifyPluginAsyncTypebox {
  return async (app) => {
    app.post(
      '/customers/:id/consents',
      {
        schema: {
          operationId: 'recordConsent',
          tags: ['privacy'],
          summary: 'Record a consent: granted, denied or withdrawn, for a purpose (optionally a channel).',
          description:
            'Appended to the ledger, never changed. The current state moves at once: a withdrawal is honoured on the ' +
            'very next read. Sale and third-party sharing need "explicit": true.' +
            PRIVACY_NOTE,
          params: IdParams,
          querystring: PurposeQuery,
          body: RecordConsentBody,
          response: {
            201: Type.Object({ consent: ConsentRecordSchema, current: Type.Array(Type.Unknown()) }),
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
            const { record, current } = await recordConsentGoverned(scope, request.params.id, request.body);
            return { status: 201, body: { consent: record, current }, receipt: { id: record.id } };
          },
          // The record's evidence may hold personal data: a replay reads it again from the ledger.
          async (scope, receipt) => {
            const { current, history } = await readConsents(scope, request.params.id);
            return { consent: history.find((r) => r.id === receipt.id) ?? null, current };
          },
        ),
    );

    app.get(
      '/customers/:id/consents',
      {
        schema: {
          operationId: 'getConsents',
          tags: ['privacy'],
          summary: "A customer's current consents and the whole ledger.",
          description: PRIVACY_NOTE.trim(),
          params: IdParams,
          querystring: PurposeQuery,
          response: {
            200: Type.Object({
              current: Type.Array(ConsentStateSchema),
              history: Type.Array(ConsentRecordSchema),
            }),
            ...errorResponses(),
          },
        },
      },
      async (request) =>
        withCallerAccess(deps, request, 'read', (scope) => readConsents(scope, request.params.id)),
    );

    app.get(
      '/customers/:id/privacy',
      {
        schema: {
          operationId: 'getPrivacyState',
          tags: ['privacy'],
          summary: "A customer's intimacy level, restriction of processing and objections, with history.",
          description: PRIVACY_NOTE.trim(),
          params: IdParams,
          querystring: PurposeQuery,
          response: { 200: PrivacyStateSchema, ...errorResponses() },
        },
      },
      async (request) =>
        withCallerAccess(deps, request, 'read', (scope) => readPrivacyState(scope, request.params.id)),
    );

    app.put(
      '/customers/:id/intimacy',
      {
        schema: {
          operationId: 'setIntimacyLevel',
          tags: ['privacy'],
          summary: "Set the customer's intimacy level (0–4), as the customer chose it.",
          description: `A lowering takes effect on the very next read.${PRIVACY_NOTE}`,
          params: IdParams,
          querystring: PurposeQuery,
          body: SetIntimacyBody,
          response: {
            200: Type.Object({
              intimacyLevel: Type.Integer(),
              previousLevel: Type.Integer(),
              at: Type.String(),
            }),
            ...errorResponses(),
          },
        },
      },
      async (request, reply) =>
        governedWrite(deps, request, reply, async (scope) => ({
          status: 200,
          body: await setIntimacyGoverned(scope, request.params.id, request.body),
        })),
    );

    app.post(
      '/customers/:id/privacy-flags',
      {
        schema: {
          operationId: 'changePrivacyFlag',
          tags: ['privacy'],
          summary: 'Restrict processing (or lift it), object to a purpose (or withdraw the objection).',
          description:
            'Under restriction, only legal obligations may use the data; an objection closes one purpose. A ' +
            'restriction is sent to every recipient that received the customer’s data (GET …/recipients) and ' +
            'stops queued webhook deliveries about them.' +
            PRIVACY_NOTE,
          params: IdParams,
          querystring: PurposeQuery,
          body: PrivacyFlagBody,
          response: {
            200: Type.Object({ restricted: Type.Boolean(), objections: Type.Array(Type.String()) }),
            ...errorResponses(),
          },
        },
      },
      async (request, reply) =>
        governedWrite(deps, request, reply, async (scope) => {
          const result = await changePrivacyFlagGoverned(scope, request.params.id, request.body);
          // A restriction travels to every recipient of the customer's data, and queued work stops.
          if (request.body.kind === 'restrict') {
            await applyRestriction(scope, request.params.id.toLowerCase(), {
              causeId: newId(),
              requestId: null,
            });
          } else if (request.body.kind === 'object' && request.body.purpose !== undefined) {
            // Queued work for the purpose objected to stops at once.
            await withdrawPendingDeliveries(
              scope.tx,
              scope.actor.workspaceId,
              [request.params.id.toLowerCase()],
              'withdrawn: the customer objected',
              { purposes: [request.body.purpose] },
            );
          }
          return { status: 200, body: result };
        }),
    );

    app.get(
      '/customers/:id/disclosures',
      {
        schema: {
          operationId: 'listDisclosures',
          tags: ['privacy'],
          summary:
            'Every party that received the customer’s data: which fields, for what purpose, on which basis, when.',
          description: PRIVACY_NOTE.trim(),
          params: IdParams,
          querystring: PurposeQuery,
          response: { 200: Type.Object({ disclosures: Type.Array(DisclosureSchema) }), ...errorResponses() },
        },
      },
      async (request) =>
        withCallerAccess(deps, request, 'read', async (scope) => ({
          disclosures: await readDisclosures(scope, request.params.id),
        })),
    );

    app.get(
      '/customers/:id/access-log',
      {
        schema: {
          operationId: 'getAccessLog',
          tags: ['privacy'],
          summary: 'Who looked at the customer’s data, and why: the audit events naming them, newest first.',
          description:
            'For service or legal, or for an auditor key without a purpose. Reading the log is itself recorded.',
          params: IdParams,
          querystring: Type.Object({ ...PageQuery, ...PurposeParam }, { additionalProperties: false }),
          response: {
            200: Type.Object({
              entries: Type.Array(AccessLogEntry),
              nextCursor: Type.Union([Type.String(), Type.Null()]),
            }),
            ...errorResponses(),
          },
        },
      },
      async (request) =>
        readAccessLog(
          deps.db,
          actorOf(request),
          {
            purpose: purposeOf(request),
            requestId: request.id,
            clientRequestId: request.clientRequestId,
            deadline: request.deadline,
          },
          request.params.id,
          { limit: request.query.limit, cursor: request.query.cursor },
        ),
    );

    app.post(
      '/customers/:id/shares',
      {
        schema: {
          operationId: 'shareCustomer',
          tags: ['privacy'],
          summary: "Give a customer's data to a registered recipient, for the request's purpose.",
          description:
            'The recipient must accept the purpose; the customer must allow it (sale and third-party sharing need ' +
            'their explicit opt-in: otherwise 403 SHARE_REFUSED with the reason). Answers what was shared — only the ' +
            'fields the purpose may use — and records the disclosure.',
          params: IdParams,
          querystring: PurposeQuery,
          body: Type.Object(
            { recipient: Type.String({ minLength: 1, maxLength: 100 }) },
            { additionalProperties: false },
          ),
          response: {
            200: Type.Object({
              recipient: Type.Object({ id: Type.String(), name: Type.String() }),
              customer: Type.Composite([CustomerSchema, Type.Object({ withheld: WithheldSchema })]),
            }),
            ...errorResponses(),
          },
        },
      },
      async (request, reply) =>
        // A replay shares again: the customer's data as the gate allows it now, recorded as a disclosure
        // like the first; the receipt keeps only the recipient's id.
        governedWrite(
          deps,
          request,
          reply,
          async (scope) => {
            const shared = await shareCustomer(scope, request.params.id, request.body.recipient);
            return { status: 200, body: shared, receipt: { recipientId: shared.recipient.id } };
          },
          (scope) => shareCustomer(scope, request.params.id, request.body.recipient),
        ),
    );

    app.post(
      '/recipients',
      {
        schema: {
          operationId: 'createRecipient',
          tags: ['privacy'],
          summary:
            'Register a recipient: a partner, processor, export file or webhook that data may leave to.',
          description:
            'A webhook takes "url" (http or https) and optionally "events" (the event types it wants; without it, ' +
            'every type its purposes allow). Its signing secret (whsec_…) is in this response only: a replay ' +
            '(Idempotency-Key) answers null. Owner or admin.',
          querystring: PurposeQuery,
          body: CreateRecipientBody,
          response: {
            201: Type.Object({
              recipient: RecipientWithWebhookSchema,
              secret: Type.Union([Type.String(), Type.Null()], {
                description: "A webhook's signing secret, shown once; null for other kinds and on a replay.",
              }),
            }),
            ...errorResponses(),
          },
        },
      },
      async (request, reply) =>
        // The secret is never stored in the receipt: a replay answers the recipient without it.
        governedWrite(
          deps,
          request,
          reply,
          async (scope) => {
            const { recipient, secret } = await registerRecipientWithWebhook(scope, request.body);
            return { status: 201, body: { recipient, secret }, receipt: { id: recipient.id } };
          },
          async (scope, receipt) => ({
            recipient: (await readRecipientsWithWebhooks(scope)).find((r) => r.id === receipt.id) ?? null,
            secret: null,
          }),
        ),
    );

    app.get(
      '/recipients',
      {
        schema: {
          operationId: 'listRecipients',
          tags: ['privacy'],
          summary: 'The recipient registry (owner, admin, or the privacy office for legal).',
          description: 'A webhook shows its URL, event filter, status, failures and any notice of disabling.',
          querystring: PurposeQuery,
          response: {
            200: Type.Object({ recipients: Type.Array(RecipientWithWebhookSchema) }),
            ...errorResponses(),
          },
        },
      },
      async (request) =>
        withCallerAccess(deps, request, 'read', async (scope) => ({
          recipients: await readRecipientsWithWebhooks(scope),
        })),
    );

    app.put(
      '/workspace/policy',
      {
        schema: {
          operationId: 'setWorkspacePolicy',
          tags: ['workspace'],
          summary: "Set the workspace's own data categories, purposes and policy overrides (owner or admin).",
          description:
            'Categories added under financial, government_id or special inherit their protection; the only way to ' +
            'weaken a rule is an override with a reason, which is audited. 400 POLICY_INVALID lists every problem.',
          querystring: PurposeQuery,
          body: PolicyBody,
          response: { 200: Type.Object({ policy: Type.Unknown() }), ...errorResponses() },
        },
      },
      async (request, reply) =>
        governedWrite(deps, request, reply, async (scope) => {
          const workspace = await setWorkspacePolicy(scope, request.body as never);
          return { status: 200, body: { policy: workspace.policy } };
        }),
    );
  };
}
