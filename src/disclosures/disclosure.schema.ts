import { Type } from '@sinclair/typebox';
import { RECIPIENT_KINDS } from './disclosure.ts';

/** Schemas of the recipient and disclosure requests and responses. */

/** The body of POST /v1/recipients. */
export const CreateRecipientBody = Type.Object(
  {
    name: Type.String({
      pattern: '^[a-z0-9][a-z0-9_.:-]{0,99}$',
      description: 'A unique name: lower-case letters, digits, ".", ":", "-", "_".',
    }),
    kind: Type.Union(
      RECIPIENT_KINDS.filter((k) => k !== 'integration_key').map((k) => Type.Literal(k)),
      { description: 'partner, processor, export_file or webhook (integration keys register themselves).' },
    ),
    purposes: Type.Array(Type.String({ pattern: '^[a-z][a-z0-9_]{0,63}$' }), {
      minItems: 1,
      maxItems: 20,
      uniqueItems: true,
      description: 'The purposes data may be given to it for.',
    }),
    description: Type.Optional(Type.String({ maxLength: 1000 })),
    url: Type.Optional(
      Type.String({
        minLength: 1,
        maxLength: 2048,
        description: 'Kind webhook only: the http:// or https:// URL deliveries are POSTed to.',
      }),
    ),
    events: Type.Optional(
      Type.Array(Type.String({ pattern: '^[a-z][a-z0-9_.]{0,63}$' }), {
        minItems: 1,
        maxItems: 50,
        uniqueItems: true,
        description:
          'Kind webhook only: the event types to receive; without it, every type the purposes allow.',
      }),
    ),
  },
  { additionalProperties: false },
);

const Nullable = <T extends ReturnType<typeof Type.String>>(schema: T) => Type.Union([schema, Type.Null()]);

/** A recipient as read. */
export const RecipientSchema = Type.Object({
  id: Type.String(),
  name: Type.String(),
  kind: Type.String(),
  purposes: Type.Array(Type.String()),
  description: Nullable(Type.String()),
  apiKeyId: Nullable(Type.String()),
  createdAt: Type.String(),
});

/** A disclosure as read. */
export const DisclosureSchema = Type.Object({
  id: Type.String(),
  recipient: Type.Object({ id: Type.String(), name: Type.String(), kind: Type.String() }),
  fields: Type.Array(Type.String()),
  purpose: Type.String(),
  lawfulBasis: Type.String(),
  requestId: Nullable(Type.String()),
  at: Type.String(),
});
