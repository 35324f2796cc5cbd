import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { ChangeFactBody, FACT_KEYS, FactSchema, PrefillBody, RecordFactBody } from '../../facts/index.ts';
import {
  type AccessScope,
  changeFactGoverned,
  forgetFactGoverned,
  prefillGoverned,
  readFactHistory,
  readFacts,
  recordFactGoverned,
  withAccess,
} from '../../governance/index.ts';
import { AppError } from '../../shared/errors.ts';
import { isUuid } from '../../shared/ids.ts';
import { type ApiDeps, actorOf, governedWrite, purposeOf, withCallerAccess } from '../context.ts';
import { errorResponses, IdParams, PurposeQuery, WithheldSchema } from '../schemas.ts';

const FactParams = Type.Object(
  { id: Type.String({ format: 'uuid' }), factId: Type.String({ format: 'uuid' }) },
  { additionalProperties: false },
);
// The history is a read: a malformed fact id is answered after the purpose is checked, as not found.
const HistoryParams = Type.Object(
  { id: Type.String({ format: 'uuid' }), factId: Type.String({ minLength: 1, maxLength: 100 }) },
  { additionalProperties: false },
);

const FactWriteResponse = Type.Object({
  fact: Type.Union([FactSchema, Type.Null()], {
    description: 'The fact as the purpose of the write may see it; null when withheld from it.',
  }),
  outcome: Type.String({ description: 'created, replaced (a new version), unchanged or changed.' }),
  withheld: WithheldSchema,
});

const ProvenanceNote =
  ' Each fact carries its provenance (source, interaction, who captured it, when, confidence, evidence).';
const READ_NOTE =
  ' Name the purpose (query `purpose` or header Cornerstore-Purpose): only the facts it may use are returned, ' +
  'the others are listed in `withheld` with the reason (INTIMACY_LOWERED: the customer lowered their intimacy ' +
  'level since; FACT_STALE: past its expiry, not used for outreach; FACT_NOT_FOR_PURPOSE; or the decision). ' +
  'Forgotten and rejected facts never appear. Audited.';

/** Receipt of a fact write: the customer and the fact, read again through the gate on a replay. */
interface FactReceipt {
  customerId: string;
  factId: string;
}

async function rereadFact(scope: AccessScope, receipt: FactReceipt): Promise<unknown> {
  const { facts, withheld } = await readFacts(scope, receipt.customerId);
  return { fact: facts.find((f) => f.id === receipt.factId) ?? null, outcome: 'unchanged', withheld };
}

/** Facts (SPEC §6): the customer's facts under a purpose, recorded, corrected, forgotten; prefill. */
export function factRoutes(deps: ApiDeps): FastifyPluginAsyncTypebox {
  return async (app) => {
    app.get(
      '/facts/keys',
      {
        schema: {
          operationId: 'listFactKeys',
          tags: ['facts'],
          summary: 'The catalog of fact keys: category, value type, whether several may hold at once.',
          response: { 200: Type.Object({ keys: Type.Array(Type.Unknown()) }), ...errorResponses() },
        },
      },
      async (request) => {
        actorOf(request);
        return {
          keys: FACT_KEYS.map(({ key, category, type, multiple, purposes, description }) => ({
            key,
            category,
            type,
            multiple,
            purposes,
            description,
          })),
        };
      },
    );

    app.get(
      '/customers/:id/facts',
      {
        schema: {
          operationId: 'listCustomerFacts',
          tags: ['facts'],
          summary: 'The facts about a customer the purpose may see, with provenance.',
          description: (ProvenanceNote + READ_NOTE).trim(),
          params: IdParams,
          querystring: PurposeQuery,
          response: {
            200: Type.Object({ facts: Type.Array(FactSchema), withheld: WithheldSchema }),
            ...errorResponses(),
          },
        },
      },
      async (request) =>
        withCallerAccess(deps, request, 'read', (scope) => readFacts(scope, request.params.id)),
    );

    app.get(
      '/customers/:id/facts/:factId/history',
      {
        schema: {
          operationId: 'getFactHistory',
          tags: ['facts'],
          summary: 'Every version of one fact, newest first (nothing is silently overwritten).',
          description: READ_NOTE.trim(),
          params: HistoryParams,
          querystring: PurposeQuery,
          response: {
            200: Type.Object({ versions: Type.Array(FactSchema), withheld: WithheldSchema }),
            ...errorResponses(),
          },
        },
      },
      async (request) =>
        withCallerAccess(deps, request, 'read', (scope) => {
          const { id, factId } = request.params;
          if (!isUuid(factId)) {
            throw new AppError('not_found', 'FACT_NOT_FOUND', `No fact ${factId} of customer ${id}.`, {
              factId,
            });
          }
          return readFactHistory(scope, id, factId);
        }),
    );

    app.post(
      '/customers/:id/facts',
      {
        schema: {
          operationId: 'recordFact',
          tags: ['facts'],
          summary: 'Record a fact the customer declared or staff observed.',
          description:
            'The key must be in the catalog (GET /v1/facts/keys) and the value of its type (a partial date must ' +
            'exist: 31 February is refused with its JSON path); unknown fields are refused. The memory rules ' +
            'decide whether it may be stored: POLICY_DO_NOT_STORE (financial, government ids), ' +
            'FACT_SPECIAL_CATEGORY (special categories need sourceKind declared and consentPurposes), ' +
            'FACT_NOT_DECLARED (personal facts and life events only when declared), 409 FACT_ABOVE_INTIMACY ' +
            "(above the customer's chosen intimacy level: not stored). The same value again is the same fact; a " +
            'new value of a single-valued key is a new version. Honours Idempotency-Key. Audited.',
          params: IdParams,
          querystring: PurposeQuery,
          body: RecordFactBody,
          response: { 201: FactWriteResponse, 200: FactWriteResponse, ...errorResponses() },
        },
      },
      async (request, reply) =>
        governedWrite(
          deps,
          request,
          reply,
          async (scope) => {
            const { expiresAt, validFrom, remember, consentPurposes, ...rest } = request.body;
            const answer = await recordFactGoverned(scope, request.params.id, {
              ...rest,
              ...(expiresAt !== undefined ? { expiresAt } : {}),
              ...(validFrom !== undefined ? { validFrom } : {}),
              ...(remember !== undefined ? { remember } : {}),
              ...(consentPurposes !== undefined ? { consentPurposes } : {}),
            });
            const factId = answer.fact?.id;
            return {
              status: answer.outcome === 'unchanged' ? 200 : 201,
              body: answer,
              receipt: { customerId: request.params.id.toLowerCase(), factId: factId ?? '' },
            };
          },
          rereadFact,
        ),
    );

    app.patch(
      '/customers/:id/facts/:factId',
      {
        schema: {
          operationId: 'updateFact',
          tags: ['facts'],
          summary: "The customer's say on one fact: correct, confirm, reject, remember, expiry.",
          description:
            'A corrected value is a new version declared by the customer (a rectification; the old one stays in ' +
            'the history); confirming an inference or a derived fact makes it declared; a rejected fact leaves ' +
            'every read and is not suggested again. Honours Idempotency-Key. Audited.',
          params: FactParams,
          querystring: PurposeQuery,
          body: ChangeFactBody,
          response: { 200: FactWriteResponse, ...errorResponses() },
        },
      },
      async (request, reply) =>
        governedWrite(
          deps,
          request,
          reply,
          async (scope) => {
            const { id, factId } = request.params;
            const { expiresAt, value, status, remember, source } = request.body;
            const answer = await changeFactGoverned(scope, id, factId, {
              ...(value !== undefined ? { value } : {}),
              ...(status !== undefined ? { status } : {}),
              ...(remember !== undefined ? { remember } : {}),
              ...(expiresAt !== undefined ? { expiresAt } : {}),
              ...(source !== undefined ? { source } : {}),
            });
            return {
              status: 200,
              body: answer,
              receipt: { customerId: id.toLowerCase(), factId: answer.fact?.id ?? factId.toLowerCase() },
            };
          },
          rereadFact,
        ),
    );

    app.delete(
      '/customers/:id/facts/:factId',
      {
        schema: {
          operationId: 'forgetFact',
          tags: ['facts'],
          summary: 'Forget a fact: it disappears from every read, segment and prefill at once.',
          description:
            'Every version loses its value; a tombstone keeps only that it was forgotten. Honours Idempotency-Key. Audited.',
          params: FactParams,
          querystring: PurposeQuery,
          response: {
            200: Type.Object({ id: Type.String(), status: Type.Literal('forgotten') }),
            ...errorResponses(),
          },
        },
      },
      async (request, reply) =>
        governedWrite(deps, request, reply, async (scope) => ({
          status: 200,
          body: await forgetFactGoverned(scope, request.params.id, request.params.factId),
        })),
    );

    app.post(
      '/customers/:id/prefill',
      {
        schema: {
          operationId: 'prefillForm',
          tags: ['facts'],
          summary: 'Prefill a form: the known values the purpose may use, with provenance and freshness.',
          description:
            'For each field (givenName, familyName, preferredName, email, phone, address, language, birthday, or ' +
            "any fact key), the value from the golden record or from facts (the customer's own word first; never " +
            'an inference, a stale fact or one to confirm), with where it came from and how old it is. ' +
            '`withheld` names the fields the purpose may not use and why (a birthday is not for billing), ' +
            '`unknown` those nothing is known of. A read: audited and, for an integration key, disclosed.',
          params: IdParams,
          body: PrefillBody,
          response: {
            200: Type.Object({
              values: Type.Record(Type.String(), Type.Unknown()),
              withheld: WithheldSchema,
              unknown: Type.Array(Type.String()),
            }),
            ...errorResponses(),
          },
        },
      },
      async (request) => {
        const named = purposeOf(request);
        if (named !== undefined && named !== request.body.purpose) {
          throw new AppError(
            'invalid',
            'PURPOSE_CONFLICT',
            'The purpose in the body and the Cornerstore-Purpose header differ: send one purpose.',
            { body: request.body.purpose, header: named },
          );
        }
        return withAccess(
          deps.db,
          actorOf(request),
          {
            purpose: request.body.purpose,
            requestId: request.id,
            clientRequestId: request.clientRequestId,
            mode: 'read',
            deferChaining: true,
            deadline: request.deadline,
          },
          (scope) => prefillGoverned(scope, request.params.id, request.body.fields),
        );
      },
    );
  };
}
