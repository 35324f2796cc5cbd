import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import {
  countSegmentGoverned,
  createSegmentGoverned,
  deleteSegmentGoverned,
  explainSegmentMemberGoverned,
  getSegmentGoverned,
  listSegmentMembersGoverned,
  listSegmentsGoverned,
  previewSegmentGoverned,
  runValueRefit,
  withAccess,
} from '../../governance/index.ts';
import {
  CreateSegmentBody,
  PreviewSegmentBody,
  SegmentExplanationSchema,
  SegmentMemberSchema,
  SegmentSchema,
} from '../../segments/index.ts';
import { AppError } from '../../shared/errors.ts';
import { MAX_ANNUAL_DISCOUNT_RATE, MAX_HORIZON_DAYS } from '../../value/index.ts';
import { type ApiDeps, actorOf, governedWrite, purposeOf, withCallerAccess } from '../context.ts';
import { errorResponses, IdParams, PageQuery, PurposeParam, PurposeQuery } from '../schemas.ts';

const SegmentResponse = Type.Object({ segment: SegmentSchema });
const CountResponse = Type.Object({ count: Type.Integer() });
const MembersQuery = Type.Object({ ...PageQuery, ...PurposeParam }, { additionalProperties: false });
const MemberParams = Type.Object(
  { id: Type.String({ format: 'uuid' }), customerId: Type.String({ format: 'uuid' }) },
  { additionalProperties: false },
);
const RefitBody = Type.Object(
  {
    period: Type.Optional(Type.Union([Type.Literal('week'), Type.Literal('day')])),
    horizon: Type.Optional(
      Type.Number({
        exclusiveMinimum: 0,
        maximum: MAX_HORIZON_DAYS,
        description: `In periods (default 52 weeks); at most ten years (${Math.floor(MAX_HORIZON_DAYS / 7)} weeks or ${MAX_HORIZON_DAYS} days).`,
      }),
    ),
    annualDiscountRate: Type.Optional(Type.Number({ minimum: 0, maximum: MAX_ANNUAL_DISCOUNT_RATE })),
  },
  { additionalProperties: false },
);

const PURPOSE_NOTE =
  ' Name the purpose (query `purpose` or header Cornerstore-Purpose): members are only customers the purpose ' +
  'may process, a definition reading a category the purpose may not read is 403 FILTER_NOT_ALLOWED, and the ' +
  'read is audited.';

function requirePurpose(purpose: string | undefined): string {
  if (purpose === undefined) {
    throw new AppError(
      'invalid',
      'PURPOSE_REQUIRED',
      'Name the purpose the segment is for: the "purpose" query parameter or the Cornerstore-Purpose header.',
    );
  }
  return purpose;
}

/** Segments (saved filters with live counts, members and explanations) and the value refit job. */
export function segmentRoutes(deps: ApiDeps): FastifyPluginAsyncTypebox {
  return async (app) => {
    app.post(
      '/segments',
      {
        schema: {
          operationId: 'createSegment',
          tags: ['segments'],
          summary: 'Save a segment for a purpose and materialise its membership.',
          description:
            'The definition is validated (400 SEGMENT_DEFINITION_INVALID with JSON paths); it may read only ' +
            'categories the purpose may read (403 FILTER_NOT_ALLOWED); names are unique (409 SEGMENT_NAME_TAKEN). ' +
            'The purpose must be named. Honours Idempotency-Key. Audited.',
          querystring: PurposeQuery,
          body: CreateSegmentBody,
          response: {
            201: Type.Object({
              segment: SegmentSchema,
              membership: Type.Object({ entered: Type.Integer(), left: Type.Integer() }),
            }),
            ...errorResponses(),
          },
        },
      },
      async (request, reply) => {
        requirePurpose(purposeOf(request));
        return governedWrite(deps, request, reply, async (scope) => ({
          status: 201,
          body: await createSegmentGoverned(scope, request.body),
        }));
      },
    );

    app.get(
      '/segments',
      {
        schema: {
          operationId: 'listSegments',
          tags: ['segments'],
          summary: "The workspace's segments.",
          querystring: PurposeQuery,
          response: { 200: Type.Object({ segments: Type.Array(SegmentSchema) }), ...errorResponses() },
        },
      },
      async (request) =>
        withCallerAccess(deps, request, 'read', async (scope) => ({
          segments: await listSegmentsGoverned(scope),
        })),
    );

    app.get(
      '/segments/:id',
      {
        schema: {
          operationId: 'getSegment',
          tags: ['segments'],
          summary: 'A segment.',
          params: IdParams,
          querystring: PurposeQuery,
          response: { 200: SegmentResponse, ...errorResponses() },
        },
      },
      async (request) =>
        withCallerAccess(deps, request, 'read', async (scope) => ({
          segment: await getSegmentGoverned(scope, request.params.id),
        })),
    );

    app.delete(
      '/segments/:id',
      {
        schema: {
          operationId: 'deleteSegment',
          tags: ['segments'],
          summary: 'Delete a segment and its membership.',
          params: IdParams,
          querystring: PurposeQuery,
          response: { 200: Type.Object({ deleted: Type.Boolean() }), ...errorResponses() },
        },
      },
      async (request, reply) =>
        governedWrite(deps, request, reply, async (scope) => {
          await deleteSegmentGoverned(scope, request.params.id);
          return { status: 200, body: { deleted: true } };
        }),
    );

    app.get(
      '/segments/:id/count',
      {
        schema: {
          operationId: 'countSegment',
          tags: ['segments'],
          summary: 'How many customers are in the segment now.',
          description: PURPOSE_NOTE.trim(),
          params: IdParams,
          querystring: PurposeQuery,
          response: { 200: CountResponse, ...errorResponses() },
        },
      },
      async (request) =>
        withCallerAccess(deps, request, 'read', (scope) => countSegmentGoverned(scope, request.params.id)),
    );

    app.get(
      '/segments/:id/members',
      {
        schema: {
          operationId: 'listSegmentMembers',
          tags: ['segments'],
          summary: 'The members of the segment now, in id order, with a cursor.',
          description:
            'Each member: the customer id, when the materialised membership began, and the value fields the ' +
            'purpose may see for that customer (others null and listed in withheld).' +
            PURPOSE_NOTE,
          params: IdParams,
          querystring: MembersQuery,
          response: {
            200: Type.Object({
              members: Type.Array(SegmentMemberSchema),
              nextCursor: Type.Union([Type.String(), Type.Null()]),
            }),
            ...errorResponses(),
          },
        },
      },
      async (request) =>
        withCallerAccess(deps, request, 'read', (scope) =>
          listSegmentMembersGoverned(scope, request.params.id, {
            cursor: request.query.cursor,
            limit: request.query.limit,
          }),
        ),
    );

    app.get(
      '/segments/:id/members/:customerId/why',
      {
        schema: {
          operationId: 'explainSegmentMember',
          tags: ['segments'],
          summary:
            'Why a customer is (or is not) in the segment: each condition, whether it held, its value.',
          description:
            'Conditions on a category the customer has not opened to the purpose (intimacy) are unknown and ' +
            'their value withheld. 404 CUSTOMER_NOT_FOUND for a customer the purpose may not process.' +
            PURPOSE_NOTE,
          params: MemberParams,
          querystring: PurposeQuery,
          response: { 200: SegmentExplanationSchema, ...errorResponses() },
        },
      },
      async (request) =>
        withCallerAccess(deps, request, 'read', (scope) =>
          explainSegmentMemberGoverned(scope, request.params.id, request.params.customerId),
        ),
    );

    app.post(
      '/segments/preview',
      {
        schema: {
          operationId: 'previewSegment',
          tags: ['segments'],
          summary: 'The count of an unsaved definition.',
          description: PURPOSE_NOTE.trim(),
          querystring: PurposeQuery,
          body: PreviewSegmentBody,
          response: { 200: CountResponse, ...errorResponses() },
        },
      },
      async (request) =>
        withCallerAccess(deps, request, 'read', (scope) =>
          previewSegmentGoverned(scope, request.body.definition),
        ),
    );

    app.post(
      '/value/refit',
      {
        schema: {
          operationId: 'refitValue',
          tags: ['value'],
          summary: 'Refit the value model and every profile, then refresh every segment.',
          description:
            "BG/NBD and Gamma-Gamma fitted by maximum likelihood on the purchases up to the workspace's value clock " +
            '(`asOf`: its `valueAsOf` setting, or now; returns reduce spend), profiles written for every customer ' +
            'with a purchase, RFM quintiles over all of them. `status` is `fitted`, `no_purchases`, or a refused ' +
            'fit: `not_converged` (the optimiser stopped before a maximum) or `boundary` (the maximum lies at the ' +
            'edge of the parameter space, so the estimates are limits); a refused fit stores nothing, keeps the ' +
            'previous model (`model`) and its profiles, and carries `refused.reason` and the fit with its ' +
            'convergence diagnostics (`refused.model`). Owners and admins only; purpose analytics unless named. Audited. ' +
            'Money is counted in the workspace valueCurrency (default: the currency most purchases are in); purchases in ' +
            'another currency count only through the workspace exchangeRates, and those without a rate are left out and ' +
            'listed in `unconverted`.',
          querystring: PurposeQuery,
          body: Type.Optional(RefitBody),
          response: { 200: Type.Object({}, { additionalProperties: true }), ...errorResponses() },
        },
        config: { longRunning: true },
      },
      async (request) =>
        withAccess(
          deps.db,
          actorOf(request),
          {
            purpose: purposeOf(request) ?? 'analytics',
            requestId: request.id,
            mode: 'write',
            deadline: request.deadline,
          },
          async (scope) => {
            const { refit, segments } = await runValueRefit(scope, request.body ?? {});
            return {
              status: refit.status,
              customers: refit.customers,
              currency: refit.currency,
              unconverted: refit.unconverted,
              fittedAt: refit.fittedAt,
              asOf: refit.asOf,
              model: refit.model,
              refused: refit.refused,
              rfmSegments: refit.segments,
              removed: refit.removed,
              seconds: refit.seconds,
              segments,
            };
          },
        ),
    );
  };
}
