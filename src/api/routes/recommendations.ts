import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { readRecommendations } from '../../governance/index.ts';
import { type ApiDeps, withCallerAccess } from '../context.ts';
import { errorResponses, IdParams, PurposeParam, WithheldSchema } from '../schemas.ts';

const RecommendationsQuery = Type.Object(
  {
    ...PurposeParam,
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 50, default: 10 })),
  },
  { additionalProperties: false },
);

const RecommendationSchema = Type.Object({
  item: Type.String({ description: 'The item key (SKU).' }),
  name: Type.String({ description: 'The item as named on purchases.' }),
  score: Type.Number(),
  kind: Type.Union([Type.Literal('own_history'), Type.Literal('collective')]),
  reason: Type.String({
    description: "One customer-facing sentence citing only the customer's own purchases.",
  }),
});

const RecommendationsResponse = Type.Object({
  customerId: Type.String({ format: 'uuid' }),
  trainedAt: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
  asOf: Type.Union([Type.String(), Type.Null()]),
  items: Type.Array(RecommendationSchema),
  withheld: WithheldSchema,
});

/** A customer's recommendations under an outreach purpose. */
export function recommendationRoutes(deps: ApiDeps): FastifyPluginAsyncTypebox {
  return async (app) => {
    app.get(
      '/customers/:id/recommendations',
      {
        schema: {
          operationId: 'listRecommendations',
          tags: ['recommendations'],
          summary: "A customer's recommendations, each with its reason.",
          description:
            "Own-history suggestions (repeats, replenishment when due) need the purpose's consent and intimacy ≥ 2; " +
            'collective ones (bought with what the customer bought, popular with buyers of it; popular items for a ' +
            'customer without purchases) need intimacy ≥ 3. A customer who objected, restricted processing or did not ' +
            'consent gets none; each kind the policy stops is listed in `withheld` with the reason. Only outreach ' +
            'purposes (personalization, marketing): another is 400 RECOMMENDATION_PURPOSE_INVALID. Read from the lists ' +
            'the last training stored (`trainedAt`; null before a first `recommend train`). Audited.',
          params: IdParams,
          querystring: RecommendationsQuery,
          response: { 200: RecommendationsResponse, ...errorResponses() },
        },
      },
      async (request) =>
        withCallerAccess(deps, request, 'read', (scope) =>
          readRecommendations(scope, request.params.id, request.query.limit ?? 10),
        ),
    );
  };
}
