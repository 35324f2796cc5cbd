import { type TSchema, Type } from '@sinclair/typebox';

/** Shared pieces of the HTTP contract, used by every route's schema and so by the OpenAPI document. */

export const ErrorResponse = Type.Object(
  {
    error: Type.Object({
      code: Type.String({ description: 'Stable machine-readable code, e.g. CUSTOMER_NOT_FOUND.' }),
      message: Type.String({ description: 'What went wrong and what to fix.' }),
      details: Type.Optional(Type.Unknown()),
    }),
  },
  { $id: 'Error', description: 'Every error has this shape.' },
);

/** The error responses common to authenticated routes, for the OpenAPI document. */
export function errorResponses(...statuses: number[]): Record<number, TSchema> {
  const all = [400, 401, 403, 404, 409, 413, 415, 429, ...statuses];
  return Object.fromEntries([...new Set(all)].map((s) => [s, Type.Ref('Error')]));
}

export const IdParams = Type.Object({ id: Type.String({ format: 'uuid' }) }, { additionalProperties: false });

export const PageQuery = {
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000, default: 50 })),
  cursor: Type.Optional(
    Type.String({ maxLength: 500, description: 'Opaque cursor from the previous page.' }),
  ),
};

/** The purpose of a request, as a query parameter (or the Cornerstore-Purpose header). */
export const PurposeParam = {
  purpose: Type.Optional(
    Type.String({
      pattern: '^[a-z][a-z0-9_]{0,63}$',
      description:
        'Why the data is used: service, billing, fulfilment, personalization, marketing, analytics, ' +
        'third_party_sharing, sale, legal (or a purpose of the workspace). Required on reads of personal ' +
        'data (or the Cornerstore-Purpose header); writes default to service.',
    }),
  ),
};

/** A query string carrying only the purpose. */
export const PurposeQuery = Type.Object(PurposeParam, { additionalProperties: false });

/** The fields a read left out, and why. */
export const WithheldSchema = Type.Array(
  Type.Object({
    field: Type.String({ description: 'The field (or `type:<interaction type>`, `*` for everything).' }),
    reason: Type.String({
      description:
        'CONSENT_REQUIRED, CONSENT_WITHDRAWN, CONSENT_EXPIRED, EXPLICIT_OPT_IN_REQUIRED, PROCESSING_RESTRICTED, ' +
        'OBJECTED, INTIMACY_TOO_LOW, SPECIAL_CATEGORY, INFERRED_NOT_USABLE, PSEUDONYMISED, DO_NOT_STORE…',
    }),
  }),
  { description: 'What the purpose may not see, and why (SPEC §5.2).' },
);
