import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import {
  CreateCustomerBody,
  CustomerQuerySchema,
  CustomerSchema,
  createCustomer,
  FieldHistoryEntrySchema,
  getCustomer,
  listCustomers,
  listFieldHistory,
  PatchCustomerBody,
  updateCustomer,
} from '../../customers/index.ts';
import { type ApiDeps, idempotentWrite, inCallerWorkspace } from '../context.ts';
import { errorResponses, IdParams, PageQuery } from '../schemas.ts';

const CustomerResponse = Type.Object({ customer: CustomerSchema });

const ListQuery = Type.Object({ ...PageQuery, ...CustomerQuerySchema }, { additionalProperties: false });

/** Customers: create, read, change, list and search. */
export function customerRoutes(deps: ApiDeps): FastifyPluginAsyncTypebox {
  return async (app) => {
    app.post(
      '/customers',
      {
        schema: {
          tags: ['customers'],
          summary: 'Create a customer.',
          description:
            'Names are trimmed, emails lower-cased, phones stored in E.164 (read in the workspace region when written ' +
            'without a country code). Every golden-record field records its provenance. An identity that belongs to ' +
            'another customer is 409 IDENTITY_TAKEN and nothing is stored. Honours Idempotency-Key.',
          body: CreateCustomerBody,
          response: { 201: CustomerResponse, ...errorResponses() },
        },
      },
      async (request, reply) =>
        idempotentWrite(deps, request, reply, async (tx, actor) => ({
          status: 201,
          body: { customer: await createCustomer(tx, actor, request.body) },
        })),
    );

    app.get(
      '/customers',
      {
        schema: {
          tags: ['customers'],
          summary: 'List customers, or search them with q.',
          description:
            'Without q: customers in creation order, paginated with limit and cursor. With q: customers ranked by ' +
            'match: an exact email, phone or external id first, then names by trigram similarity (typos tolerated); ' +
            'cursor optional. email, phone, source and externalId filter exactly.',
          querystring: ListQuery,
          response: {
            200: Type.Object({
              customers: Type.Array(CustomerSchema),
              nextCursor: Type.Union([Type.String(), Type.Null()]),
            }),
            ...errorResponses(),
          },
        },
      },
      async (request) =>
        inCallerWorkspace(deps, request, (tx, actor) => listCustomers(tx, actor, request.query)),
    );

    app.get(
      '/customers/:id',
      {
        schema: {
          tags: ['customers'],
          summary: 'A customer with contact points, identities and the provenance of each field.',
          params: IdParams,
          response: { 200: CustomerResponse, ...errorResponses() },
        },
      },
      async (request) =>
        inCallerWorkspace(deps, request, async (tx, actor) => ({
          customer: await getCustomer(tx, actor, request.params.id),
        })),
    );

    app.patch(
      '/customers/:id',
      {
        schema: {
          tags: ['customers'],
          summary: 'Change a customer.',
          description:
            'Fields given are set (null clears) with provenance; emails, phones and identities given are added; ' +
            'removeEmails, removePhones and removeIdentities remove. Honours Idempotency-Key.',
          params: IdParams,
          body: PatchCustomerBody,
          response: { 200: CustomerResponse, ...errorResponses() },
        },
      },
      async (request, reply) =>
        idempotentWrite(deps, request, reply, async (tx, actor) => ({
          status: 200,
          body: { customer: await updateCustomer(tx, actor, request.params.id, request.body) },
        })),
    );

    app.get(
      '/customers/:id/history',
      {
        schema: {
          tags: ['customers'],
          summary:
            'Every value each golden-record field of a customer has had, with provenance, newest first.',
          params: IdParams,
          response: {
            200: Type.Object({ history: Type.Array(FieldHistoryEntrySchema) }),
            ...errorResponses(),
          },
        },
      },
      async (request) =>
        inCallerWorkspace(deps, request, async (tx, actor) => ({
          history: await listFieldHistory(tx, actor, request.params.id),
        })),
    );
  };
}
