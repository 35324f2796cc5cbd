import { type TSchema, Type } from '@sinclair/typebox';

/**
 * Schemas of what crosses the domain's boundary: a segment to create, a segment as read, a member and
 * an explanation. The definition itself is checked by `assertSegmentDefinition` (paths and messages
 * specific to the filter language); here it is only described.
 */

const Nullable = <T extends TSchema>(schema: T) => Type.Union([schema, Type.Null()]);

/** A definition: {all}, {any}, {not} or a condition (see the filter language). */
export const SegmentDefinitionSchema = Type.Unknown({
  description:
    'A JSON tree of {"all": [...]}, {"any": [...]}, {"not": node} and conditions. A field condition: ' +
    '{"field": "rfm.segment", "op": "in", "value": ["champions", "loyal"]} over language, birthDate, ' +
    'birthDate.month, givenName, familyName, intimacyLevel, createdAt, rfm.segment, rfm.r, rfm.f, rfm.m, clv, ' +
    'pAlive, expectedPurchases, expectedSpend, purchases, totalSpend, firstPurchaseAt, lastPurchaseAt. An ' +
    'aggregate condition: {"aggregate": "count"|"sum"|"last", "type": "purchase", "channel": "web", ' +
    '"currency": "EUR" (required with sum: amounts in two currencies never add up), ' +
    '"within": "P90D", "op": "gte", "value": 2}. Operators eq, ne, lt, lte, gt, gte, in, between ([low, high]), ' +
    'exists (true|false). Timestamps compare with an ISO timestamp or a duration meaning that long ago (P30D).',
});

/** A segment to create. */
export const CreateSegmentBody = Type.Object(
  {
    name: Type.String({ minLength: 1, maxLength: 200, description: 'Unique in the workspace.' }),
    description: Type.Optional(Type.String({ maxLength: 2000 })),
    definition: SegmentDefinitionSchema,
  },
  { additionalProperties: false },
);

/** An unsaved definition to count. */
export const PreviewSegmentBody = Type.Object(
  { definition: SegmentDefinitionSchema },
  { additionalProperties: false },
);

/** A segment as read. */
export const SegmentSchema = Type.Object({
  id: Type.String(),
  name: Type.String(),
  description: Nullable(Type.String()),
  definition: SegmentDefinitionSchema,
  purpose: Type.String({ description: 'The purpose the segment was defined for.' }),
  dynamic: Type.Boolean({
    description: 'Reads interaction aggregates or value fields: kept current as events arrive.',
  }),
  createdBy: Type.String(),
  createdAt: Type.String(),
  refreshedAt: Nullable(Type.String()),
});

/** One member of a page. */
export const SegmentMemberSchema = Type.Object({
  customerId: Type.String(),
  since: Nullable(Type.String({ description: 'When the materialised membership first held.' })),
  value: Nullable(
    Type.Object({
      rfmSegment: Nullable(Type.String()),
      clv: Nullable(Type.Number()),
      pAlive: Nullable(Type.Number()),
      purchases: Nullable(Type.Number()),
      totalSpend: Nullable(Type.Number()),
    }),
  ),
  withheld: Type.Array(Type.Object({ field: Type.String(), reason: Type.String() })),
});

/** Why a customer is (or is not) in a segment. */
export const SegmentExplanationSchema = Type.Object({
  customerId: Type.String(),
  member: Type.Boolean(),
  conditions: Type.Array(
    Type.Object({
      path: Type.String({ description: 'JSON path of the condition in the definition.' }),
      condition: Type.Unknown(),
      description: Type.String(),
      holds: Nullable(Type.Boolean({ description: 'null: unknown (no value, or withheld).' })),
      value: Type.Unknown({ description: 'The value the condition read (null when withheld or missing).' }),
      withheld: Nullable(Type.String({ description: 'Why the value may not be used for this customer.' })),
    }),
  ),
});
