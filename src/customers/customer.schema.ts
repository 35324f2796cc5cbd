import { type Static, type TSchema, Type } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import { type FieldProblem, invalid } from '../shared/errors.ts';
import { pointerToPath } from '../shared/json-path.ts';
import { GOLDEN_FIELDS } from './customer.ts';

/**
 * Schemas of what crosses the domain's boundary: the create and patch requests, the customer as read,
 * and the export record. They validate input and describe the HTTP API. Formats are written as
 * patterns so any JSON-schema validator checks them the same way.
 */

const UUID_PATTERN = '^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$';
const TIME_PATTERN = '^\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}:\\d{2}(\\.\\d{1,9})?(Z|[+-]\\d{2}:\\d{2})$';
const DATE_PATTERN = '^\\d{4}-\\d{2}-\\d{2}$';

const Nullable = <T extends TSchema>(schema: T) => Type.Union([schema, Type.Null()]);
const Uuid = (description?: string) =>
  Type.String({ pattern: UUID_PATTERN, ...(description ? { description } : {}) });
const Time = (description: string) => Type.String({ pattern: TIME_PATTERN, description });

const Name = (description: string) => Nullable(Type.String({ maxLength: 200, description }));
const Source = Type.String({ minLength: 1, maxLength: 255, description: 'The system the data came from.' });

/** A `(source, externalId)` pair as written in requests. */
export const IdentitySchema = Type.Object(
  {
    source: Type.String({ minLength: 1, maxLength: 255, description: 'The system, e.g. "pos" or "web".' }),
    externalId: Type.String({
      minLength: 1,
      maxLength: 255,
      description: 'The id the system knows the customer by.',
    }),
  },
  { additionalProperties: false },
);

const ContactInputSchema = (what: string) =>
  Type.Union([
    Type.String({ maxLength: 320, description: what }),
    Type.Object(
      {
        value: Type.String({ maxLength: 320, description: what }),
        verified: Type.Optional(Type.Boolean({ description: 'Whether the customer proved they own it.' })),
      },
      { additionalProperties: false },
    ),
  ]);

/** A postal address as written and as read. */
export const PostalAddressSchema = Type.Object(
  {
    line1: Type.String({ minLength: 1, maxLength: 200, description: 'Street and number.' }),
    line2: Type.Optional(Type.String({ maxLength: 200 })),
    city: Type.String({ minLength: 1, maxLength: 200 }),
    region: Type.Optional(Type.String({ maxLength: 200, description: 'State, county or province.' })),
    postcode: Type.String({ maxLength: 200 }),
    country: Type.String({ minLength: 2, maxLength: 2, description: 'ISO 3166-1 alpha-2: "GB", "US".' }),
  },
  { additionalProperties: false },
);

const inputFields = {
  givenName: Type.Optional(Name('Given name; trimmed, inner whitespace collapsed. null clears.')),
  familyName: Type.Optional(Name('Family name. null clears.')),
  preferredName: Type.Optional(Name('What the customer likes to be called. null clears.')),
  language: Type.Optional(
    Nullable(Type.String({ maxLength: 35, description: 'Language tag: "en", "es-MX".' })),
  ),
  birthDate: Type.Optional(
    Nullable(Type.String({ maxLength: 10, description: 'A calendar date, YYYY-MM-DD.' })),
  ),
  emails: Type.Optional(
    Type.Array(ContactInputSchema('An email address; trimmed and lower-cased.'), { maxItems: 50 }),
  ),
  phones: Type.Optional(
    Type.Array(ContactInputSchema("A phone number; stored in E.164 using the workspace's region."), {
      maxItems: 50,
    }),
  ),
  addresses: Type.Optional(
    Type.Array(PostalAddressSchema, {
      maxItems: 20,
      description:
        'Postal addresses; stored once each (parts trimmed, postcode and country upper-cased), and used as ' +
        'evidence by identity resolution.',
    }),
  ),
  identities: Type.Optional(Type.Array(IdentitySchema, { maxItems: 50 })),
  governmentIds: Type.Optional(
    Type.Array(
      Type.Object(
        {
          kind: Type.Union([Type.Literal('national_id'), Type.Literal('passport'), Type.Literal('tax_id')]),
          value: Type.String({ minLength: 1, maxLength: 64 }),
        },
        { additionalProperties: false },
      ),
      {
        maxItems: 5,
        description:
          'Government ids, for identity matching only: never stored in clear, only as a keyed hash (HMAC with ' +
          "the workspace's secret), shown as an identity with source government_id.<kind>.",
      },
    ),
  ),
  source: Type.Optional(
    Type.String({ ...Source, description: 'The system the data came from; default "api".' }),
  ),
  capturedAt: Type.Optional(Time('When the data was captured (ISO 8601); default now.')),
};

/** The body of a customer creation. */
export const CreateCustomerBody = Type.Object(inputFields, { additionalProperties: false });

/** The body of a customer change: fields set (null clears), lists added, `remove…` lists removed. */
export const PatchCustomerBody = Type.Object(
  {
    ...inputFields,
    removeEmails: Type.Optional(Type.Array(Type.String({ maxLength: 320 }), { maxItems: 50 })),
    removePhones: Type.Optional(Type.Array(Type.String({ maxLength: 320 }), { maxItems: 50 })),
    removeIdentities: Type.Optional(Type.Array(IdentitySchema, { maxItems: 50 })),
  },
  { additionalProperties: false, minProperties: 1 },
);

const ProvenanceSchema = Type.Object({
  source: Type.String(),
  capturedAt: Type.String(),
  capturedBy: Type.String({ description: 'The key or operator that wrote it.' }),
  interactionId: Nullable(Type.String()),
  confidence: Type.Number(),
});

/** A customer as read. */
export const CustomerSchema = Type.Object({
  id: Type.String(),
  givenName: Nullable(Type.String()),
  familyName: Nullable(Type.String()),
  preferredName: Nullable(Type.String()),
  language: Nullable(Type.String()),
  birthDate: Nullable(Type.String()),
  emails: Type.Array(Type.String()),
  phones: Type.Array(Type.String(), { description: 'E.164.' }),
  addresses: Type.Array(PostalAddressSchema),
  identities: Type.Array(IdentitySchema),
  contactPoints: Type.Array(
    Type.Object({
      kind: Type.Union([Type.Literal('email'), Type.Literal('phone'), Type.Literal('address')], {
        description: 'An address value is the canonical JSON of the address.',
      }),
      value: Type.String(),
      verified: Type.Boolean(),
      source: Type.String(),
      createdAt: Type.String(),
      validFrom: Type.Optional(Type.String({ description: 'From when it holds (an address after a move).' })),
      validUntil: Type.Optional(
        Type.String({ description: 'Until when it holds (the address before a move); absent: still.' }),
      ),
    }),
  ),
  provenance: Type.Partial(
    Type.Object(
      Object.fromEntries(GOLDEN_FIELDS.map((field) => [field, ProvenanceSchema])) as Record<
        (typeof GOLDEN_FIELDS)[number],
        typeof ProvenanceSchema
      >,
    ),
    { description: 'Where the current value of each golden-record field came from.' },
  ),
  createdAt: Type.String(),
  updatedAt: Type.String(),
});

/** One field value in a customer's history. */
export const FieldHistoryEntrySchema = Type.Object({
  field: Type.String(),
  value: Nullable(Type.String()),
  source: Type.String(),
  capturedAt: Type.String(),
  capturedBy: Type.String(),
  interactionId: Nullable(Type.String()),
  confidence: Type.Number(),
  recordedAt: Type.String(),
  supersededAt: Nullable(Type.String()),
});

/** The query of the customer list and search. */
export const CustomerQuerySchema = {
  q: Type.Optional(
    Type.String({
      maxLength: 200,
      description:
        'Search: a name (typo-tolerant), an email, a phone number or an external id; ranked by match.',
    }),
  ),
  email: Type.Optional(Type.String({ maxLength: 320, description: 'Only customers with this email.' })),
  phone: Type.Optional(Type.String({ maxLength: 64, description: 'Only customers with this phone number.' })),
  source: Type.Optional(
    Type.String({ maxLength: 255, description: 'Only customers with an identity in this system.' }),
  ),
  externalId: Type.Optional(
    Type.String({ maxLength: 255, description: 'Only customers with this external id.' }),
  ),
};

/** A customer as exported for backup and restored: everything needed to recreate it with its id. */
export const ExportedCustomerSchema = Type.Object(
  {
    id: Uuid(),
    givenName: Nullable(Type.String({ maxLength: 200 })),
    familyName: Nullable(Type.String({ maxLength: 200 })),
    preferredName: Nullable(Type.String({ maxLength: 200 })),
    language: Nullable(Type.String({ maxLength: 35 })),
    birthDate: Nullable(Type.String({ pattern: DATE_PATTERN })),
    createdAt: Time('When the customer was created.'),
    updatedAt: Time('When the customer was last changed.'),
    identities: Type.Array(
      Type.Object(
        {
          source: Type.String({ minLength: 1, maxLength: 255 }),
          externalId: Type.String({ minLength: 1, maxLength: 255 }),
          createdAt: Time('When the identity was attached.'),
        },
        { additionalProperties: false },
      ),
    ),
    contactPoints: Type.Array(
      Type.Object(
        {
          id: Uuid(),
          kind: Type.Union([Type.Literal('email'), Type.Literal('phone'), Type.Literal('address')]),
          value: Type.String({ minLength: 1, maxLength: 1400 }),
          verified: Type.Boolean(),
          source: Source,
          createdAt: Time('When the contact point was added.'),
          validFrom: Type.Optional(Time('From when it holds.')),
          validUntil: Type.Optional(Time('Until when it holds.')),
        },
        { additionalProperties: false },
      ),
    ),
    provenance: Type.Array(
      Type.Object(
        {
          id: Uuid(),
          field: Type.Union(GOLDEN_FIELDS.map((f) => Type.Literal(f))),
          value: Nullable(Type.String()),
          source: Source,
          capturedAt: Time('When the value was captured.'),
          capturedBy: Type.String({ minLength: 1 }),
          interactionId: Nullable(Uuid('The interaction the value came from.')),
          confidence: Type.Number({ minimum: 0, maximum: 1 }),
          recordedAt: Time('When the value was recorded.'),
        },
        { additionalProperties: false },
      ),
      { description: 'The current value of each golden-record field with its provenance.' },
    ),
  },
  { additionalProperties: false },
);

/** A customer as exported; JSON-serialisable. */
export type ExportedCustomer = Static<typeof ExportedCustomerSchema>;

/**
 * Validates one exported customer (a line of an export file) and returns it typed, or throws
 * EXPORT_RECORD_INVALID listing each problem at its JSON path under `path`.
 */
export function parseExportedCustomer(value: unknown, path = ''): ExportedCustomer {
  if (Value.Check(ExportedCustomerSchema, value)) return value;
  const problems: FieldProblem[] = [];
  for (const error of Value.Errors(ExportedCustomerSchema, value)) {
    problems.push({ path: pointerToPath(error.path, path), message: error.message });
    if (problems.length >= 20) break;
  }
  const first = problems[0];
  throw invalid(
    'EXPORT_RECORD_INVALID',
    `Not an exported customer: ${first ? `${first.path} ${first.message}` : 'invalid'}.`,
    { errors: problems },
  );
}

/** The body of POST /v1/customers/{id}/moves. */
export const MoveCustomerBody = Type.Object(
  {
    address: PostalAddressSchema,
    movedAt: Type.Optional(
      Type.String({
        maxLength: 40,
        description: 'When the customer moves (ISO 8601 with a zone); default now.',
      }),
    ),
    source: Type.String({
      minLength: 1,
      maxLength: 100,
      description: 'Where the customer said it (portal, store…).',
    }),
    verified: Type.Optional(
      Type.Boolean({ description: 'The address was checked (a delivery reached it).' }),
    ),
  },
  { additionalProperties: false },
);
