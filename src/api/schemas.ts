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
  const all = [400, 401, 403, 404, 409, 413, 429, ...statuses];
  return Object.fromEntries([...new Set(all)].map((s) => [s, Type.Ref('Error')]));
}

export const IdParams = Type.Object({ id: Type.String({ format: 'uuid' }) }, { additionalProperties: false });

export const PageQuery = {
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000, default: 50 })),
  cursor: Type.Optional(
    Type.String({ maxLength: 500, description: 'Opaque cursor from the previous page.' }),
  ),
};
