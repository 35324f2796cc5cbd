import { Type } from '@sinclair/typebox';

/** TypeBox schemas of the facts API: request bodies (strict) and the facts as read. */

const TIME_PATTERN = '^\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}(:\\d{2}(\\.\\d{1,9})?)?(Z|[+-]\\d{2}:\\d{2})$';
const Time = (description: string) => Type.String({ pattern: TIME_PATTERN, maxLength: 40, description });
const PurposeName = Type.String({ pattern: '^[a-z][a-z0-9_]{0,63}$' });

/** The body of POST /v1/customers/{id}/facts. */
export const RecordFactBody = Type.Object(
  {
    key: Type.String({
      minLength: 1,
      maxLength: 100,
      description: 'A key of the catalog (GET /v1/facts/keys) or a category the workspace added.',
    }),
    value: Type.Unknown({ description: "The value, of the key's type (text, enum, partial date…)." }),
    sourceKind: Type.Union([Type.Literal('declared'), Type.Literal('observed')], {
      description: 'declared: the customer said it; observed: staff saw it.',
    }),
    source: Type.String({
      minLength: 1,
      maxLength: 100,
      description: 'Where it was captured: store, call, portal…',
    }),
    expiresAt: Type.Optional(Time('When the fact goes stale ("moving next month").')),
    validFrom: Type.Optional(Time('From when the fact holds.')),
    remember: Type.Optional(Type.Boolean({ description: '"Please remember this".' })),
    consentPurposes: Type.Optional(
      Type.Array(PurposeName, {
        maxItems: 20,
        description: 'Special-category facts: the purposes the customer explicitly consented to.',
      }),
    ),
  },
  { additionalProperties: false },
);

/** The body of PATCH /v1/customers/{id}/facts/{factId}: the customer's say on one fact. */
export const ChangeFactBody = Type.Object(
  {
    value: Type.Optional(Type.Unknown({ description: 'A correction: stored as a new version, declared.' })),
    status: Type.Optional(
      Type.Union([Type.Literal('confirmed'), Type.Literal('rejected')], {
        description: 'Confirm (an inference confirmed becomes declared) or reject.',
      }),
    ),
    remember: Type.Optional(Type.Boolean({ description: '"Please remember this".' })),
    expiresAt: Type.Optional(Type.Union([Time('When the fact goes stale.'), Type.Null()])),
    source: Type.Optional(Type.String({ minLength: 1, maxLength: 100 })),
  },
  { additionalProperties: false, minProperties: 1 },
);

/** A fact as read. */
export const FactSchema = Type.Object({
  id: Type.String({ description: 'The fact (stable across its versions).' }),
  versionId: Type.String(),
  key: Type.String(),
  category: Type.String(),
  value: Type.Unknown(),
  sourceKind: Type.String(),
  status: Type.String(),
  stale: Type.Boolean({ description: 'The expiry has passed: shown, never used for outreach.' }),
  remember: Type.Boolean(),
  provenance: Type.Unknown({
    description: 'source, interactionId, capturedBy, capturedAt, confidence, evidence (interaction ids).',
  }),
  consentPurposes: Type.Array(Type.String()),
  minIntimacy: Type.Integer(),
  validFrom: Type.Union([Type.String(), Type.Null()]),
  expiresAt: Type.Union([Type.String(), Type.Null()]),
  supersedes: Type.Union([Type.String(), Type.Null()]),
});

/** The body of POST /v1/customers/{id}/prefill. */
export const PrefillBody = Type.Object(
  {
    fields: Type.Array(Type.String({ minLength: 1, maxLength: 100 }), {
      minItems: 1,
      maxItems: 100,
      description:
        'The form fields: givenName, familyName, email, phone, address, language, birthday, or any fact key.',
    }),
    purpose: PurposeName,
  },
  { additionalProperties: false },
);
