import { Type } from '@sinclair/typebox';

/** Request and response schemas of identity resolution in the database (HTTP and OpenAPI). */

const Probability = (description: string) =>
  Type.Number({ exclusiveMinimum: 0, exclusiveMaximum: 1, description });

/** Body of POST /v1/identity/resolve. */
export const ResolveWorkspaceBody = Type.Object(
  {
    autoThreshold: Type.Optional(
      Probability('Merge automatically at or above this match probability (default 0.5).'),
    ),
    reviewThreshold: Type.Optional(
      Probability('Queue for review from this match probability up to the automatic one (default 0.1).'),
    ),
  },
  { additionalProperties: false },
);

/** Query of GET /v1/identity/reviews (without the purpose). */
export const ReviewQuerySchema = {
  status: Type.Optional(
    Type.Union([Type.Literal('pending'), Type.Literal('accepted'), Type.Literal('rejected')], {
      default: 'pending',
    }),
  ),
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 500, default: 50 })),
  cursor: Type.Optional(Type.String({ maxLength: 100, description: 'nextCursor of the previous page.' })),
};

/** Body of POST /v1/identity/reviews/{id}/decision. */
export const ReviewDecisionBody = Type.Object(
  { decision: Type.Union([Type.Literal('accept'), Type.Literal('reject')]) },
  { additionalProperties: false },
);

/** Body of POST /v1/customers/{id}/merge. */
export const MergeBody = Type.Object(
  {
    absorbedId: Type.String({ format: 'uuid', description: 'The customer merged into the one in the path.' }),
    reason: Type.Optional(Type.String({ minLength: 1, maxLength: 500 })),
  },
  { additionalProperties: false },
);

/** Body of POST /v1/customers/{id}/rectify. */
export const RectifyBody = Type.Object(
  {
    field: Type.Union(
      ['givenName', 'familyName', 'preferredName', 'language', 'birthDate'].map((f) => Type.Literal(f)),
    ),
    value: Type.Union([Type.String({ maxLength: 500 }), Type.Null()]),
    reason: Type.String({ minLength: 1, maxLength: 1000, description: 'Why the value is corrected.' }),
  },
  { additionalProperties: false },
);

const FieldContributionSchema = Type.Object({
  field: Type.String(),
  level: Type.String(),
  weight: Type.Number(),
  detail: Type.Optional(Type.String()),
});

/** A candidate pair in the review queue. */
export const ReviewSchema = Type.Object({
  id: Type.String(),
  customerA: Type.String(),
  customerB: Type.String(),
  score: Type.Number({ description: 'Evidence in bits (log2 odds of a match).' }),
  probability: Type.Number(),
  reason: Type.Union([Type.Literal('band'), Type.Literal('guard')], {
    description: 'band: between the thresholds; guard: above, but the anti-chaining guard refused it.',
  }),
  explanation: Type.Object({
    prior: Type.Number(),
    fields: Type.Array(FieldContributionSchema),
    namesSwapped: Type.Boolean(),
    score: Type.Number(),
    probability: Type.Number(),
  }),
  status: Type.Union([Type.Literal('pending'), Type.Literal('accepted'), Type.Literal('rejected')]),
  decidedBy: Type.Union([Type.String(), Type.Null()]),
  decidedAt: Type.Union([Type.String(), Type.Null()]),
  mergeId: Type.Union([Type.String(), Type.Null()]),
  createdAt: Type.String(),
});

/** What a merge did. */
export const MergeSummarySchema = Type.Object({
  id: Type.String(),
  survivorId: Type.String(),
  absorbedId: Type.String(),
  origin: Type.String(),
  mergedAt: Type.String(),
  mergedBy: Type.String(),
  fieldsChanged: Type.Array(Type.Object({ field: Type.String(), source: Type.String() })),
  moved: Type.Object({
    identities: Type.Integer(),
    contactPoints: Type.Integer(),
    interactions: Type.Integer(),
    fieldValues: Type.Integer(),
  }),
  consentsChanged: Type.Array(
    Type.Object({
      purpose: Type.String(),
      channel: Type.Union([Type.String(), Type.Null()]),
      status: Type.String(),
    }),
  ),
});

/** What an unmerge did. */
export const UnmergeSummarySchema = Type.Object({
  mergeId: Type.String(),
  survivorId: Type.String(),
  absorbedId: Type.String(),
  unmergedAt: Type.String(),
  unmergedBy: Type.String(),
  restored: Type.Object({
    identities: Type.Integer(),
    contactPoints: Type.Integer(),
    interactions: Type.Integer(),
    fieldValues: Type.Integer(),
  }),
  arrivedDuringMerge: Type.Object({ total: Type.Integer(), toAbsorbed: Type.Integer() }),
});

/** What a workspace resolution did. */
export const ResolveWorkspaceSummarySchema = Type.Object({
  customers: Type.Integer(),
  candidatePairs: Type.Integer(),
  merges: Type.Array(
    Type.Object({
      mergeId: Type.String(),
      survivorId: Type.String(),
      absorbedId: Type.String(),
      probability: Type.Union([Type.Number(), Type.Null()]),
    }),
  ),
  queued: Type.Integer(),
  skipped: Type.Object({
    decided: Type.Integer(),
    alreadyQueued: Type.Integer(),
    learnedNonMatch: Type.Integer(),
  }),
  learnedMatch: Type.Integer(),
  refusedByGuard: Type.Integer(),
  model: Type.Object({
    emIterations: Type.Integer(),
    emConverged: Type.Boolean(),
    expectedMatches: Type.Number(),
  }),
  milliseconds: Type.Object({
    loading: Type.Number(),
    resolving: Type.Number(),
    writing: Type.Number(),
    total: Type.Number(),
  }),
});

/** The outcome of a rectification. */
export const RectificationSchema = Type.Object({
  outcome: Type.Union([Type.Literal('rectified'), Type.Literal('unchanged'), Type.Literal('recorded')], {
    description:
      'recorded: the request was applied, but the purpose may not read the field, so neither the value nor ' +
      'whether it changed is told.',
  }),
  customerId: Type.String(),
  field: Type.String(),
  value: Type.Union([Type.String(), Type.Null()]),
  provenance: Type.Optional(Type.Unknown()),
  event: Type.Union([
    Type.Object({
      id: Type.String(),
      type: Type.String({ description: 'name_corrected or field_rectified' }),
    }),
    Type.Null(),
  ]),
  withheld: Type.Optional(Type.Array(Type.Object({ field: Type.String(), reason: Type.String() }))),
});
