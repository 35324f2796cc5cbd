import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import type { GoldenField } from '../../customers/index.ts';
import { type AccessScope, readCustomer } from '../../governance/index.ts';
import {
  decideReview,
  listReviewQueue,
  MergeBody,
  MergeSummarySchema,
  mergeCustomers,
  type Rectification,
  RectificationSchema,
  RectifyBody,
  ResolveWorkspaceBody,
  ResolveWorkspaceSummarySchema,
  ReviewDecisionBody,
  ReviewQuerySchema,
  ReviewSchema,
  rectifyField,
  resolveWorkspace,
  UnmergeSummarySchema,
  unmergeCustomers,
} from '../../identity/index.ts';
import { type ApiDeps, governedWrite, withCallerAccess } from '../context.ts';
import { errorResponses, IdParams, PurposeParam, PurposeQuery } from '../schemas.ts';

const ReviewListQuery = Type.Object(
  { ...ReviewQuerySchema, ...PurposeParam },
  { additionalProperties: false },
);

/** What a rectification keeps for its replay: the outcome, never the value. */
type RectificationReceipt = Pick<Rectification, 'outcome' | 'customerId' | 'field' | 'event'>;

/**
 * A rectification's answer as the caller's governed read of the field allows: with the value when the
 * purpose may read it; otherwise `recorded`, with neither the value nor whether it changed, so a caller
 * cannot confirm a guess of a value it may not read by "correcting" it to the guess.
 */
async function rectificationAnswer(scope: AccessScope, receipt: RectificationReceipt): Promise<unknown> {
  const customer = await readCustomer(scope, receipt.customerId);
  const withheld = customer.withheld.filter((w) => w.field === receipt.field);
  if (withheld.length > 0) {
    return {
      outcome: 'recorded',
      customerId: receipt.customerId,
      field: receipt.field,
      value: null,
      event: null,
      withheld,
    };
  }
  const field = receipt.field as GoldenField;
  return { ...receipt, value: customer[field], provenance: customer.provenance[field] ?? null, withheld: [] };
}

/**
 * Identity resolution in the workspace: resolve (automatic merges and the review queue), the queue and
 * its decisions, manual merge, unmerge, and rectification of a golden-record field. Every write honours
 * Idempotency-Key and is audited; merges and unmerges need an owner, admin or agent key.
 */
export function identityRoutes(deps: ApiDeps): FastifyPluginAsyncTypebox {
  return async (app) => {
    app.post(
      '/identity/resolve',
      {
        schema: {
          operationId: 'resolveIdentities',
          tags: ['identity'],
          summary: "Resolve the workspace's customers into people.",
          description:
            'Compares every active customer (names, birth date, emails, phones, government-id hashes) with a ' +
            'model estimated from the data, merges pairs at or above the automatic threshold (the oldest customer ' +
            'survives), and queues pairs between the thresholds for review. Recorded decisions override the model: a ' +
            'rejected pair is never merged nor asked again, an accepted pair is merged. A cluster never holds two ' +
            'different government ids of one kind or two different verified birth dates. Send {} for the default ' +
            'thresholds. Owner or admin. Audited.',
          querystring: PurposeQuery,
          body: ResolveWorkspaceBody,
          response: { 200: ResolveWorkspaceSummarySchema, ...errorResponses() },
        },
        config: { longRunning: true },
      },
      async (request, reply) =>
        governedWrite(deps, request, reply, async (scope) => ({
          status: 200,
          body: await resolveWorkspace(scope, request.body),
        })),
    );

    app.get(
      '/identity/reviews',
      {
        schema: {
          operationId: 'listIdentityReviews',
          tags: ['identity'],
          summary: 'The review queue: candidate pairs between the thresholds, with their explanation.',
          description:
            'Pending pairs by default (status filters), oldest first; pairs whose customers were merged since are ' +
            'left out of the pending list. Each pair carries its score, probability and per-field explanation. ' +
            'Name the purpose. Audited.',
          querystring: ReviewListQuery,
          response: {
            200: Type.Object({
              reviews: Type.Array(ReviewSchema),
              nextCursor: Type.Union([Type.String(), Type.Null()]),
            }),
            ...errorResponses(),
          },
        },
      },
      async (request) =>
        withCallerAccess(deps, request, 'read', (scope) => {
          const { purpose: _purpose, ...query } = request.query;
          return listReviewQueue(scope, query);
        }),
    );

    app.post(
      '/identity/reviews/:id/decision',
      {
        schema: {
          operationId: 'decideIdentityReview',
          tags: ['identity'],
          summary: 'Accept (merge) or reject a candidate pair.',
          description:
            'accept merges the pair (the older customer survives); reject records that they are two people. Either ' +
            'way the decision is kept as a label the next resolution obeys and learns from. 409 REVIEW_DECIDED ' +
            'when decided already, 409 MERGE_REFUSED when the guard forbids the merge.',
          params: IdParams,
          querystring: PurposeQuery,
          body: ReviewDecisionBody,
          response: {
            200: Type.Object({ review: ReviewSchema, merge: Type.Union([MergeSummarySchema, Type.Null()]) }),
            ...errorResponses(),
          },
        },
      },
      async (request, reply) =>
        governedWrite(deps, request, reply, async (scope) => ({
          status: 200,
          body: await decideReview(scope, request.params.id, request.body.decision),
        })),
    );

    app.post(
      '/customers/:id/merge',
      {
        schema: {
          operationId: 'mergeCustomers',
          tags: ['identity'],
          summary: 'Merge another customer into this one.',
          description:
            'Each golden-record field keeps the value of the most trusted source (workspace setting sourceTrust), ' +
            'then the most recent; every value keeps its provenance. Identities, contact points and interactions ' +
            'move; consent is merged most-restrictive-wins per purpose and channel, so a withdrawal is never ' +
            'resurrected. The absorbed customer then reads as not found. The merge is recorded and can be undone ' +
            'exactly with POST /v1/merges/{id}/unmerge.',
          params: IdParams,
          querystring: PurposeQuery,
          body: MergeBody,
          response: { 200: Type.Object({ merge: MergeSummarySchema }), ...errorResponses() },
        },
      },
      async (request, reply) =>
        governedWrite(deps, request, reply, async (scope) => ({
          status: 200,
          body: {
            merge: await mergeCustomers(
              scope,
              request.params.id,
              request.body.absorbedId,
              request.body.reason,
            ),
          },
        })),
    );

    app.post(
      '/merges/:id/unmerge',
      {
        schema: {
          operationId: 'unmergeCustomers',
          tags: ['identity'],
          summary: 'Undo a merge exactly.',
          description:
            'Both customers get back their fields, provenance, identities, contact points and consents as they were, ' +
            'and the absorbed one its interactions. An interaction that arrived while merged goes to the absorbed ' +
            'customer when only it held an identity of the interaction’s source system before the merge, otherwise ' +
            'it stays. Merges are undone newest first (409 UNMERGE_ORDER names the later ones).',
          params: IdParams,
          querystring: PurposeQuery,
          response: { 200: Type.Object({ unmerge: UnmergeSummarySchema }), ...errorResponses() },
        },
      },
      async (request, reply) =>
        governedWrite(deps, request, reply, async (scope) => ({
          status: 200,
          body: { unmerge: await unmergeCustomers(scope, request.params.id) },
        })),
    );

    app.post(
      '/customers/:id/rectify',
      {
        schema: {
          operationId: 'rectifyCustomer',
          tags: ['identity'],
          summary: 'Correct a golden-record field (rectification).',
          description:
            'Writes the value with provenance (source rectification) and, in the same transaction, a ' +
            'name_corrected (name fields) or field_rectified event (dispatched to subscribers after commit), so the correction travels to ' +
            'every recipient of the field. A value equal to the current one changes nothing. Audited.',
          params: IdParams,
          querystring: PurposeQuery,
          body: RectifyBody,
          response: { 200: RectificationSchema, ...errorResponses() },
        },
      },
      async (request, reply) =>
        governedWrite(
          deps,
          request,
          reply,
          async (scope) => {
            const { outcome, customerId, field, event } = await rectifyField(
              scope,
              request.params.id,
              request.body.field,
              request.body.value,
              request.body.reason,
            );
            const receipt: RectificationReceipt = { outcome, customerId, field, event };
            return { status: 200, body: await rectificationAnswer(scope, receipt), receipt };
          },
          rectificationAnswer,
        ),
    );
  };
}
