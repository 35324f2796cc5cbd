import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { ConsentStateSchema } from '../../consent/index.ts';
import {
  CreateCustomerBody,
  CustomerQuerySchema,
  CustomerSchema,
  FieldHistoryEntrySchema,
  MoveCustomerBody,
  PatchCustomerBody,
} from '../../customers/index.ts';
import {
  type AccessScope,
  CUSTOMER_360_INTERACTIONS,
  createGovernedCustomer,
  listGovernedCustomers,
  moveGovernedCustomer,
  readCustomer,
  readCustomer360,
  readFieldHistory,
  updateGovernedCustomer,
} from '../../governance/index.ts';
import { type ApiDeps, governedWrite, withCallerAccess } from '../context.ts';
import {
  errorResponses,
  IdParams,
  PageQuery,
  PurposeParam,
  PurposeQuery,
  WithheldSchema,
} from '../schemas.ts';
import { InteractionOut } from './interactions.ts';

const GovernedCustomerSchema = Type.Composite([
  CustomerSchema,
  Type.Object({
    withheld: WithheldSchema,
    value: Type.Optional(
      Type.Unknown({
        description:
          'In a single read, the value profile (P(alive), expected purchases and spend, CLV, RFM scores and segment, ' +
          'purchase figures) and `asOf`, the value clock it is scored as (its calibration end); each field null when ' +
          'the purpose may not use it; absent before a first value refit.',
      }),
    ),
    relationship: Type.Optional(
      Type.Unknown({
        description:
          'In a single read, the relationship: archetype, since, guidance {do, dont}, modifiers, the top three ' +
          'reasons with evidence, and `outreach` (whether the archetype may steer outreach). Behavioural data: ' +
          'absent (and listed in withheld) when the purpose may not use it for this customer; absent before the ' +
          'first computation.',
      }),
    ),
  }),
]);
const CustomerResponse = Type.Object({ customer: GovernedCustomerSchema });

const Customer360Response = Type.Object({
  customer: GovernedCustomerSchema,
  privacy: Type.Union(
    [
      Type.Object({
        intimacyLevel: Type.Integer(),
        restricted: Type.Boolean(),
        objections: Type.Array(Type.String()),
        consents: Type.Array(ConsentStateSchema),
      }),
      Type.Null(),
    ],
    {
      description:
        'Consents (current), intimacy level, restriction, objections; null outside service and legal.',
    },
  ),
  interactions: Type.Array(InteractionOut, {
    description: `The newest ${CUSTOMER_360_INTERACTIONS} interactions the purpose may read, newest first.`,
  }),
  interactionsCursor: Type.Union([Type.String(), Type.Null()], {
    description: 'Continue with GET /v1/customers/{id}/timeline?cursor=…; null when nothing is older.',
  }),
  segments: Type.Array(
    Type.Object({
      id: Type.String({ format: 'uuid' }),
      name: Type.String(),
      since: Type.String({ format: 'date-time' }),
    }),
    { description: 'The segments saved for the same purpose that hold the customer.' },
  ),
  withheld: WithheldSchema,
});

const ListQuery = Type.Object(
  { ...PageQuery, ...CustomerQuerySchema, ...PurposeParam },
  { additionalProperties: false },
);

const READ_NOTE =
  ' Name the purpose (query `purpose` or header Cornerstore-Purpose): only the fields it may use are returned, ' +
  'the others are null and listed in `withheld` with the reason. The read is audited.';

/** Customers: create, read, change, list and search, each under a purpose. */
/** A created or changed customer, read again through the gate when its write is replayed. */
async function rereadCustomer(scope: AccessScope, receipt: { id: string }): Promise<unknown> {
  return { customer: await readCustomer(scope, receipt.id) };
}

export function customerRoutes(deps: ApiDeps): FastifyPluginAsyncTypebox {
  return async (app) => {
    app.post(
      '/customers',
      {
        schema: {
          operationId: 'createCustomer',
          tags: ['customers'],
          summary: 'Create a customer.',
          description:
            'Names are trimmed, emails lower-cased, phones stored in E.164 (read in the workspace region when written ' +
            'without a country code). Every golden-record field records its provenance. Government ids are kept only ' +
            'as a keyed hash. An identity that belongs to another customer is 409 IDENTITY_TAKEN and nothing is ' +
            'stored. Honours Idempotency-Key. Audited.',
          querystring: PurposeQuery,
          body: CreateCustomerBody,
          response: { 201: CustomerResponse, ...errorResponses() },
        },
      },
      async (request, reply) =>
        governedWrite(
          deps,
          request,
          reply,
          async (scope) => {
            const customer = await createGovernedCustomer(scope, request.body);
            return { status: 201, body: { customer }, receipt: { id: customer.id } };
          },
          rereadCustomer,
        ),
    );

    app.get(
      '/customers',
      {
        schema: {
          operationId: 'listCustomers',
          tags: ['customers'],
          summary: 'List customers, or search them with q.',
          description:
            'Without q: customers in creation order, paginated with limit and cursor. With q: customers ranked by ' +
            'match: an exact email, phone or external id first, then names by trigram similarity (typos tolerated); ' +
            'cursor optional. email, phone, source and externalId filter exactly. Only customers the purpose may ' +
            'process are listed (for marketing: those who consented, not restricted, not objecting); filtering on a ' +
            'field the purpose may not read is 403 FILTER_NOT_ALLOWED.' +
            READ_NOTE,
          querystring: ListQuery,
          response: {
            200: Type.Object({
              customers: Type.Array(GovernedCustomerSchema),
              nextCursor: Type.Union([Type.String(), Type.Null()]),
            }),
            ...errorResponses(),
          },
        },
      },
      async (request) =>
        withCallerAccess(deps, request, 'read', (scope) => {
          const { purpose: _purpose, ...query } = request.query;
          return listGovernedCustomers(scope, query);
        }),
    );

    app.get(
      '/customers/:id',
      {
        schema: {
          operationId: 'getCustomer',
          tags: ['customers'],
          summary: 'A customer with contact points, identities and the provenance of each field.',
          description: READ_NOTE.trim(),
          params: IdParams,
          querystring: PurposeQuery,
          response: { 200: CustomerResponse, ...errorResponses() },
        },
      },
      async (request) =>
        withCallerAccess(deps, request, 'read', async (scope) => ({
          customer: await readCustomer(scope, request.params.id),
        })),
    );

    app.patch(
      '/customers/:id',
      {
        schema: {
          operationId: 'updateCustomer',
          tags: ['customers'],
          summary: 'Change a customer.',
          description:
            'Fields given are set (null clears) with provenance; emails, phones and identities given are added; ' +
            'removeEmails, removePhones and removeIdentities remove. Honours Idempotency-Key. Audited.',
          params: IdParams,
          querystring: PurposeQuery,
          body: PatchCustomerBody,
          response: { 200: CustomerResponse, ...errorResponses() },
        },
      },
      async (request, reply) =>
        governedWrite(
          deps,
          request,
          reply,
          async (scope) => {
            const customer = await updateGovernedCustomer(scope, request.params.id, request.body);
            return { status: 200, body: { customer }, receipt: { id: customer.id } };
          },
          rereadCustomer,
        ),
    );

    app.post(
      '/customers/:id/moves',
      {
        schema: {
          operationId: 'recordCustomerMove',
          tags: ['customers'],
          summary: 'Record that a customer moves to a new address.',
          description:
            'The addresses holding at `movedAt` (default now) end then and stay in `contactPoints` with their ' +
            '`validUntil`; the new address holds from `movedAt` (`validFrom`) and is the current one from that ' +
            'moment: `addresses`, prefill and every form use only the addresses valid now. A future `movedAt` is a ' +
            'move ahead ("moving next month"). Moving back to an earlier address reopens it. Honours ' +
            'Idempotency-Key. Audited.',
          params: IdParams,
          querystring: PurposeQuery,
          body: MoveCustomerBody,
          response: { 200: CustomerResponse, ...errorResponses() },
        },
      },
      async (request, reply) =>
        governedWrite(
          deps,
          request,
          reply,
          async (scope) => {
            const customer = await moveGovernedCustomer(scope, request.params.id, request.body);
            return { status: 200, body: { customer }, receipt: { id: customer.id } };
          },
          rereadCustomer,
        ),
    );

    app.get(
      '/customers/:id/360',
      {
        schema: {
          operationId: 'getCustomerOverview',
          tags: ['customers'],
          summary: 'The customer 360: profile, value, consents and intimacy, newest interactions, segments.',
          description:
            "Everything of the agent's screen in one read, under one access decision and one audit event: the " +
            `customer as GET /v1/customers/{id} gives it (with the value profile), the newest ${CUSTOMER_360_INTERACTIONS} ` +
            'interactions the purpose may read, the current consents with the intimacy level, restriction and ' +
            'objections (for service and legal; otherwise null and listed in `withheld`), and the segments saved for ' +
            'the same purpose that hold the customer. A customer the purpose may not process comes back with every ' +
            'personal field withheld and empty sections.' +
            READ_NOTE,
          params: IdParams,
          querystring: PurposeQuery,
          response: { 200: Customer360Response, ...errorResponses() },
        },
      },
      async (request) =>
        withCallerAccess(deps, request, 'read', (scope) => readCustomer360(scope, request.params.id)),
    );

    app.get(
      '/customers/:id/history',
      {
        schema: {
          operationId: 'getCustomerHistory',
          tags: ['customers'],
          summary:
            'Every value each golden-record field of a customer has had, with provenance, newest first.',
          description: READ_NOTE.trim(),
          params: IdParams,
          querystring: PurposeQuery,
          response: {
            200: Type.Object({ history: Type.Array(FieldHistoryEntrySchema), withheld: WithheldSchema }),
            ...errorResponses(),
          },
        },
      },
      async (request) =>
        withCallerAccess(deps, request, 'read', (scope) => readFieldHistory(scope, request.params.id)),
    );
  };
}
