import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { type TSchema, Type } from '@sinclair/typebox';
import {
  type AccessScope,
  type CapturedFact,
  ingestGoverned,
  readInteraction,
  readTimeline,
} from '../../governance/index.ts';
import { type IngestResult, InteractionInputSchema, MAX_BATCH_ITEMS } from '../../interactions/index.ts';
import { AppError, type FieldProblem, invalid } from '../../shared/errors.ts';
import { type ApiDeps, governedWrite, withCallerAccess } from '../context.ts';
import { errorResponses, IdParams, PurposeParam, PurposeQuery, WithheldSchema } from '../schemas.ts';

const Nullable = <T extends TSchema>(schema: T) => Type.Union([schema, Type.Null()]);

/** An interaction as a read returns it (withheld fields null). */
export const InteractionOut = Type.Object(
  {
    id: Type.String({ format: 'uuid' }),
    customerId: Type.String({ format: 'uuid' }),
    type: Type.String(),
    channel: Type.String(),
    initiatedBy: Type.Union([Type.Literal('customer'), Type.Literal('company')]),
    occurredAt: Type.String({ format: 'date-time' }),
    source: Type.String(),
    externalId: Type.String(),
    amount: Nullable(Type.Number()),
    currency: Nullable(Type.String()),
    sentiment: Nullable(Type.Number()),
    text: Nullable(Type.String()),
    lineItems: Nullable(
      Type.Array(
        Type.Object({
          sku: Type.String(),
          name: Type.Optional(Type.String()),
          quantity: Type.Number(),
          unitPrice: Type.Optional(Type.Number()),
        }),
      ),
    ),
    properties: Type.Record(Type.String(), Type.Unknown()),
    declaredFor: Nullable(
      Type.Array(Type.String(), {
        description:
          'The purposes the customer explicitly consented to for the special-category data declared.',
      }),
    ),
    receivedAt: Type.String({ format: 'date-time', description: 'When Cornerstore stored it.' }),
  },
  { description: 'A stored interaction.' },
);

const BatchBody = Type.Object(
  {
    interactions: Type.Array(InteractionInputSchema, {
      minItems: 1,
      maxItems: MAX_BATCH_ITEMS,
      description:
        'Each item is validated on its own: a bad item is reported in its result, not for the whole batch.',
    }),
    atomic: Type.Optional(
      Type.Boolean({
        default: false,
        description: 'When true, one rejected item rejects the batch: nothing is stored.',
      }),
    ),
  },
  { additionalProperties: false },
);

const ItemResult = Type.Object({
  index: Type.Integer(),
  status: Type.Union([Type.Literal('created'), Type.Literal('duplicate'), Type.Literal('rejected')]),
  id: Type.Optional(Type.String({ description: 'The stored interaction; for a duplicate, the original.' })),
  customerId: Type.Optional(Type.String()),
  dropped: Type.Optional(
    Type.Array(Type.Object({ path: Type.String(), category: Type.String(), reason: Type.String() }), {
      description: 'Fields the storage policy dropped before storing (workspace doNotStore: strip).',
    }),
  ),
  masked: Type.Optional(
    Type.Array(Type.Object({ path: Type.String(), kind: Type.String() }), {
      description: 'Text masked before storing: card numbers, national ids, IBANs.',
    }),
  ),
  error: Type.Optional(
    Type.Object({ code: Type.String(), message: Type.String(), details: Type.Optional(Type.Unknown()) }),
  ),
});

const BatchResponse = Type.Object({
  results: Type.Array(ItemResult),
  counts: Type.Object({ created: Type.Integer(), duplicate: Type.Integer(), rejected: Type.Integer() }),
});

const SingleResponse = (status: 'created' | 'duplicate') =>
  Type.Object({
    status: Type.Literal(status),
    id: Type.String({ description: 'The stored interaction; for a duplicate, the original.' }),
    interaction: Type.Union([InteractionOut, Type.Null()], {
      description: "As the request's purpose may read it; null when it may not read this interaction.",
    }),
    withheld: WithheldSchema,
    dropped: ItemResult.properties.dropped,
    masked: ItemResult.properties.masked,
  });

/** What a single ingest keeps for a replay: the outcome, never the interaction. */
type SingleReceipt = Pick<IngestResult, 'status' | 'dropped' | 'masked'> & {
  id: string;
  fact?: CapturedFact;
};

/** What a batch ingest keeps for a replay: outcomes and codes; an error's message may quote the input. */
function batchReceipt(results: readonly IngestResult[]): unknown {
  return {
    results: results.map(({ error, ...result }) =>
      error
        ? {
            ...result,
            error: {
              code: error.code,
              message: `The item was rejected (${error.code}) when this request was first sent.`,
            },
          }
        : result,
    ),
    counts: countsOf(results),
  };
}

const NAME_LIST = (item: string) => `^${item}(,${item})*$`;

const TimelineQuery = Type.Object(
  {
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 500, default: 50 })),
    cursor: Type.Optional(
      Type.String({ maxLength: 500, description: 'Opaque cursor from the previous page.' }),
    ),
    type: Type.Optional(
      Type.String({ pattern: NAME_LIST('[a-z][a-z0-9_]{0,63}'), description: 'Types, comma-separated.' }),
    ),
    channel: Type.Optional(
      Type.String({
        pattern: NAME_LIST('[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}'),
        description: 'Channels, comma-separated.',
      }),
    ),
    from: Type.Optional(Type.String({ format: 'date-time', description: 'occurredAt ≥ from.' })),
    to: Type.Optional(Type.String({ format: 'date-time', description: 'occurredAt < to.' })),
    order: Type.Optional(
      Type.Union([Type.Literal('desc'), Type.Literal('asc')], {
        default: 'desc',
        description: 'desc: newest first.',
      }),
    ),
    ...PurposeParam,
  },
  { additionalProperties: false },
);

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function envelopeError(problem: FieldProblem): AppError {
  return invalid('VALIDATION_FAILED', `${problem.path} ${problem.message}.`, { errors: [problem] });
}

/**
 * Reads a batch envelope loosely: `interactions` must be an array of 1–10,000 entries and `atomic` a
 * boolean; the entries themselves are left to the item validator, so one bad item never fails the rest.
 */
function readBatch(body: Record<string, unknown>): { items: unknown[]; atomic: boolean } {
  for (const key of Object.keys(body)) {
    if (key !== 'interactions' && key !== 'atomic')
      throw envelopeError({ path: key, message: 'is not a known field' });
  }
  const { interactions, atomic } = body;
  if (!Array.isArray(interactions))
    throw envelopeError({ path: 'interactions', message: 'must be an array' });
  if (interactions.length === 0) {
    throw envelopeError({ path: 'interactions', message: 'must have at least one interaction' });
  }
  if (interactions.length > MAX_BATCH_ITEMS) {
    throw new AppError(
      'too_large',
      'BATCH_TOO_LARGE',
      `A batch carries at most ${MAX_BATCH_ITEMS} interactions, not ${interactions.length}: split it.`,
      { limit: MAX_BATCH_ITEMS, count: interactions.length },
    );
  }
  if (atomic !== undefined && typeof atomic !== 'boolean') {
    throw envelopeError({ path: 'atomic', message: 'must be a boolean' });
  }
  return { items: interactions, atomic: atomic ?? false };
}

function countsOf(results: readonly IngestResult[]): {
  created: number;
  duplicate: number;
  rejected: number;
} {
  const counts = { created: 0, duplicate: 0, rejected: 0 };
  for (const r of results) counts[r.status] += 1;
  return counts;
}

/**
 * The answer to a single ingest, first time or replayed: the outcome and the interaction as the
 * request's purpose may read it — a duplicate of an interaction the caller may not read answers its id
 * and nothing of its content.
 */
async function singleAnswer(scope: AccessScope, receipt: SingleReceipt): Promise<unknown> {
  const { interaction, withheld } = await readInteraction(scope, receipt.id);
  return { ...receipt, interaction, withheld };
}

/** Interaction ingest (one or a batch), one interaction, and a customer's timeline. */
export function interactionRoutes(deps: ApiDeps): FastifyPluginAsyncTypebox {
  return async (app) => {
    app.post(
      '/interactions',
      {
        schema: {
          operationId: 'recordInteractions',
          tags: ['interactions'],
          summary: 'Record one interaction, or a batch of up to 10,000.',
          description:
            'Idempotent per (source, externalId): a repeat answers `duplicate` with the original interaction. ' +
            'A single interaction answers 201 (created), 200 (duplicate) or 400; a batch answers 200 with one ' +
            'result per item (or 400 BATCH_REJECTED when `atomic` is true and any item is rejected). ' +
            'An item is rejected with INTERACTION_INVALID (a field against its rule: a currency that is not a ' +
            "current ISO 4217 code, an amount with more decimals than its currency's), PURCHASE_TOO_OLD (a " +
            'purchase or return before the workspace earliestPurchaseDate), or, for a consent_changed, a rule ' +
            'of the consent ledger (PURPOSE_UNKNOWN, CONSENT_NOT_EXPLICIT, CONSENT_EFFECTIVE_IN_FUTURE, ' +
            'CONSENT_EXPIRY_INVALID), each with the JSON path of the field. A stored consent_changed is recorded ' +
            'in the consent ledger in the same transaction. ' +
            'Send `Idempotency-Key` to make retries of the whole request safe.',
          body: Type.Union([InteractionInputSchema, BatchBody]),
          response: {
            200: Type.Union([SingleResponse('duplicate'), BatchResponse]),
            201: SingleResponse('created'),
            ...errorResponses(),
          },
        },
        // Items are validated one by one by the interaction validator (paths like interactions[3].type),
        // so one bad item is reported on its own instead of failing the whole request here.
        validatorCompiler: () => (data) => ({ value: data }),
        // NUL or a lone surrogate rejects only its own item (interactions[3].text), not the batch.
        config: { textCheckedPerItem: true },
      },
      async (request, reply) => {
        const body: unknown = request.body;
        if (!isPlainObject(body)) {
          throw invalid(
            'VALIDATION_FAILED',
            'The body must be a JSON object: an interaction or {"interactions": […]}.',
          );
        }
        if ('interactions' in body) {
          const { items, atomic } = readBatch(body);
          return governedWrite(
            deps,
            request,
            reply,
            async (scope) => {
              const results = await ingestGoverned(scope, items, { atomic });
              return {
                status: 200,
                body: { results, counts: countsOf(results) },
                receipt: batchReceipt(results),
              };
            },
            async (_scope, receipt) => receipt,
          );
        }
        return governedWrite(
          deps,
          request,
          reply,
          async (scope) => {
            const [result] = await ingestGoverned(scope, [body], { atomic: false, pathPrefix: '' });
            if (!result || result.status === 'rejected' || result.id === undefined) {
              const error = result?.error ?? {
                code: 'INTERACTION_INVALID',
                message: 'The interaction is invalid.',
              };
              throw new AppError(
                'invalid',
                error.code,
                error.message,
                error.details as Record<string, unknown>,
              );
            }
            const receipt: SingleReceipt = {
              status: result.status,
              id: result.id,
              ...(result.dropped ? { dropped: result.dropped } : {}),
              ...(result.masked ? { masked: result.masked } : {}),
              ...(result.fact ? { fact: result.fact } : {}),
            };
            return {
              status: result.status === 'created' ? 201 : 200,
              body: await singleAnswer(scope, receipt),
              receipt,
            };
          },
          singleAnswer,
        );
      },
    );

    app.get(
      '/interactions/:id',
      {
        schema: {
          operationId: 'getInteraction',
          tags: ['interactions'],
          summary: 'One interaction.',
          description:
            'Under a purpose (query `purpose` or header Cornerstore-Purpose): an interaction of a type the purpose ' +
            'may not read is 403 INTERACTION_WITHHELD; withheld fields are null (properties left out) and listed. Audited.',
          params: IdParams,
          querystring: PurposeQuery,
          response: {
            200: Type.Object({ interaction: InteractionOut, withheld: WithheldSchema }),
            ...errorResponses(),
          },
        },
      },
      async (request) =>
        withCallerAccess(deps, request, 'read', async (scope) => {
          const { interaction, withheld } = await readInteraction(scope, request.params.id);
          if (!interaction) {
            throw new AppError(
              'forbidden',
              'INTERACTION_WITHHELD',
              `The purpose "${scope.purpose}" may not read this interaction.`,
              { withheld },
            );
          }
          return { interaction, withheld };
        }),
    );

    app.get(
      '/customers/:id/timeline',
      {
        schema: {
          operationId: 'getCustomerTimeline',
          tags: ['interactions'],
          summary: "A customer's interactions, newest first, with cursor pagination and filters.",
          description:
            'Under a purpose (query `purpose` or header Cornerstore-Purpose): interactions of types the purpose may ' +
            'not read are left out (named in `withheld` as type:<type>), withheld fields are null. A page may hold ' +
            'fewer than `limit` interactions; follow nextCursor. Audited.',
          params: IdParams,
          querystring: TimelineQuery,
          response: {
            200: Type.Object({
              interactions: Type.Array(InteractionOut),
              nextCursor: Type.Union([Type.String(), Type.Null()], { description: 'Null on the last page.' }),
              withheld: WithheldSchema,
            }),
            ...errorResponses(),
          },
        },
      },
      async (request) => {
        const q = request.query;
        return withCallerAccess(deps, request, 'read', (scope) =>
          readTimeline(scope, request.params.id, {
            limit: q.limit,
            cursor: q.cursor,
            types: q.type?.split(','),
            channels: q.channel?.split(','),
            from: q.from,
            to: q.to,
            order: q.order,
          }),
        );
      },
    );
  };
}
