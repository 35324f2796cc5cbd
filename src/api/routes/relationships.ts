import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import {
  readRelationshipGoverned,
  readRelationshipMixGoverned,
  readRelationshipRulesGoverned,
  runRelationshipRecompute,
  setRelationshipRulesGoverned,
  withAccess,
} from '../../governance/index.ts';
import { ARCHETYPES, DIMENSIONS } from '../../relationships/index.ts';
import { invalid } from '../../shared/errors.ts';
import { type ApiDeps, actorOf, governedWrite, purposeOf, withCallerAccess } from '../context.ts';
import { errorResponses, IdParams, PurposeParam, PurposeQuery, WithheldSchema } from '../schemas.ts';

const RelationshipResponse = Type.Object({
  subject: Type.String({ description: 'The customer id, or a keyed pseudonym for a pseudonymised purpose.' }),
  relationship: Type.Union([
    Type.Unknown({
      description:
        'archetype, since, guidance {do, dont}, modifiers {highDemand, discretion}, dimensions (each value 0..1, ' +
        'confidence, evidence interaction ids), reasons (the matching rule’s conditions with value, threshold and ' +
        'evidence, most decisive first), pending (a different archetype held back by hysteresis), ruleVersion, ' +
        'computedAt, history (changes with their reasons). Evidence ids are empty for a pseudonymised purpose.',
    }),
    Type.Null(),
  ]),
  outreach: Type.Object({
    allowed: Type.Boolean(),
    reason: Type.Union([Type.String(), Type.Null()]),
  }),
  withheld: WithheldSchema,
});

const MixQuery = Type.Object(
  {
    ...PurposeParam,
    since: Type.Optional(
      Type.String({
        format: 'date-time',
        description: 'Movements between archetypes from this instant (default: 90 days ago).',
      }),
    ),
  },
  { additionalProperties: false },
);

const Condition = Type.Object(
  {
    dimension: Type.String({ description: `One of ${DIMENSIONS.join(', ')}.` }),
    op: Type.String({ description: 'gte (at least) or lte (at most).' }),
    value: Type.Number({ description: 'A threshold from 0 to 1.' }),
  },
  { additionalProperties: true },
);
const RuleTableBody = Type.Object(
  {
    rules: Type.Array(
      Type.Object(
        {
          archetype: Type.String({ description: `One of ${ARCHETYPES.join(', ')}.` }),
          when: Type.Array(Condition, { maxItems: 40 }),
        },
        { additionalProperties: true },
      ),
      { maxItems: 100 },
    ),
    hysteresis: Type.Optional(Type.Unknown({ description: '{recomputations, days}: default 2 and 14.' })),
    highDemand: Type.Optional(Type.Unknown({ description: '{contacts, days}: default 6 in 90 days.' })),
  },
  { additionalProperties: true },
);
const RulesResponse = Type.Object({}, { additionalProperties: true });

function parseSince(since: string | undefined): Date | undefined {
  if (since === undefined) return undefined;
  const at = new Date(since);
  if (Number.isNaN(at.getTime())) {
    throw invalid('SINCE_INVALID', 'since must be an ISO 8601 date-time.', { since });
  }
  return at;
}

/** Relationships: a customer's relationship, the workspace's mix, the rule table and the recompute job. */
export function relationshipRoutes(deps: ApiDeps): FastifyPluginAsyncTypebox {
  return async (app) => {
    app.get(
      '/customers/:id/relationship',
      {
        schema: {
          operationId: 'getRelationship',
          tags: ['relationships'],
          summary:
            "A customer's relationship: archetype, modifiers, dimensions, reasons with evidence, history.",
          description:
            'Derived behavioural data: shown only when the purpose may use behavioural data for this customer ' +
            '(otherwise `relationship` is null and listed in `withheld`); `outreach` says whether the archetype may ' +
            'steer outreach (never at intimacy level 0, nor below the level behavioural data opens to outreach). ' +
            'A pseudonymised purpose (analytics) sees a keyed pseudonym and no evidence ids. 404 ' +
            'RELATIONSHIP_NOT_COMPUTED before the first computation. Name the purpose. Audited.',
          params: IdParams,
          querystring: PurposeQuery,
          response: { 200: RelationshipResponse, ...errorResponses() },
        },
      },
      async (request) =>
        withCallerAccess(deps, request, 'read', (scope) =>
          readRelationshipGoverned(scope, request.params.id),
        ),
    );

    app.get(
      '/relationships/mix',
      {
        schema: {
          operationId: 'getRelationshipMix',
          tags: ['relationships'],
          summary: 'The relationship mix: customers, value and movements per archetype.',
          description:
            'Among the customers the purpose may process (typically analytics): per archetype the number of customers, ' +
            'how many are high-demand or asked for discretion, the sum of CLV and spend of those with a value profile ' +
            '(in `currency`), the do and don’t; and the movements between archetypes since `since`. Aggregates only. ' +
            'Name the purpose. Audited.',
          querystring: MixQuery,
          response: { 200: Type.Object({}, { additionalProperties: true }), ...errorResponses() },
        },
      },
      async (request) =>
        withCallerAccess(deps, request, 'read', (scope) =>
          readRelationshipMixGoverned(scope, { since: parseSince(request.query.since) }),
        ),
    );

    app.get(
      '/relationships/rules',
      {
        schema: {
          operationId: 'getRelationshipRules',
          tags: ['relationships'],
          summary: 'The active relationship rule table and its version (0: the built-in default).',
          querystring: PurposeQuery,
          response: { 200: RulesResponse, ...errorResponses() },
        },
      },
      async (request) =>
        withCallerAccess(deps, request, 'read', async (scope) => readRelationshipRulesGoverned(scope)),
    );

    app.put(
      '/relationships/rules',
      {
        schema: {
          operationId: 'replaceRelationshipRules',
          tags: ['relationships'],
          summary: 'Replace the relationship rule table with a new version.',
          description:
            'Ordered rules, first match wins, the last without conditions (the default). Validated whole: an unknown ' +
            'archetype or dimension, a threshold outside 0..1, or a rule that can never match is 400 ' +
            'RELATIONSHIP_RULES_INVALID with every problem at its JSON path, and the previous version stays active. ' +
            'Profiles follow at their next recomputation. Owners and admins. Honours Idempotency-Key. Audited.',
          querystring: PurposeQuery,
          body: RuleTableBody,
          response: { 200: RulesResponse, ...errorResponses() },
        },
      },
      async (request, reply) =>
        governedWrite(deps, request, reply, async (scope) => ({
          status: 200,
          body: await setRelationshipRulesGoverned(scope, request.body),
        })),
    );

    app.post(
      '/relationships/recompute',
      {
        schema: {
          operationId: 'recomputeRelationships',
          tags: ['relationships'],
          summary: "Recompute every customer's relationship (the job).",
          description:
            'The intensity norm, then every active customer: dimensions, archetype with hysteresis, modifiers, and a ' +
            'history row for each change. Owners and admins; purpose analytics unless named. Audited.',
          querystring: PurposeQuery,
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
          (scope) => runRelationshipRecompute(scope),
        ),
    );
  };
}
