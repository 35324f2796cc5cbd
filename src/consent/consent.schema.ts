import { Type } from '@sinclair/typebox';
import { CONSENT_STATUSES, PRIVACY_FLAG_KINDS } from './consent.ts';

/** Schemas of the consent, intimacy and privacy-flag requests and responses. */

const TIME_PATTERN = '^\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}:\\d{2}(\\.\\d{1,9})?(Z|[+-]\\d{2}:\\d{2})$';
const NAME_PATTERN = '^[a-z][a-z0-9_]{0,63}$';

/** The lawful bases a record may name. */
export const LAWFUL_BASES = [
  'consent',
  'explicit_consent',
  'contract',
  'legal_obligation',
  'legitimate_interest',
  'vital_interest',
  'public_task',
] as const;

const Evidence = Type.Optional(
  Type.Record(Type.String(), Type.Unknown(), {
    description: 'How it was captured: form id, page, recording reference, IP… (JSON object).',
  }),
);
const Source = Type.Optional(
  Type.String({ minLength: 1, maxLength: 255, description: 'The system it came from; default "api".' }),
);

/** The body of POST /v1/customers/{id}/consents. */
export const RecordConsentBody = Type.Object(
  {
    purpose: Type.String({ pattern: NAME_PATTERN, description: 'A purpose: marketing, analytics, sale…' }),
    status: Type.Union(
      CONSENT_STATUSES.map((s) => Type.Literal(s)),
      { description: 'granted, denied or withdrawn.' },
    ),
    channel: Type.Optional(
      Type.String({
        pattern: '^[a-z][a-z0-9_.-]{0,63}$',
        description: 'Only for this channel (email, sms, phone, post…); omitted: every channel.',
      }),
    ),
    explicit: Type.Optional(
      Type.Boolean({
        description:
          'An affirmative opt-in by the customer (not a pre-ticked box). Required for sale and third_party_sharing.',
      }),
    ),
    lawfulBasis: Type.Optional(
      Type.Union(
        LAWFUL_BASES.map((b) => Type.Literal(b)),
        { description: "Default: the purpose's lawful basis." },
      ),
    ),
    noticeVersion: Type.Optional(
      Type.String({ minLength: 1, maxLength: 100, description: 'The privacy notice shown.' }),
    ),
    evidence: Evidence,
    source: Source,
    effectiveFrom: Type.Optional(
      Type.String({
        pattern: TIME_PATTERN,
        description: 'When it took effect; default now; not in the future.',
      }),
    ),
    expiresAt: Type.Optional(
      Type.String({ pattern: TIME_PATTERN, description: 'When a grant lapses; after effectiveFrom.' }),
    ),
  },
  { additionalProperties: false },
);

/** The body of PUT /v1/customers/{id}/intimacy. */
export const SetIntimacyBody = Type.Object(
  {
    level: Type.Integer({
      minimum: 0,
      maximum: 4,
      description:
        '0 just the transaction, 1 know my basics, 2 remember the little things, 3 reach out when it matters, 4 treat me like a regular.',
    }),
    evidence: Evidence,
    source: Source,
  },
  { additionalProperties: false },
);

/** The body of POST /v1/customers/{id}/privacy-flags. */
export const PrivacyFlagBody = Type.Object(
  {
    kind: Type.Union(
      PRIVACY_FLAG_KINDS.map((k) => Type.Literal(k)),
      {
        description:
          'restrict / lift_restriction: restriction of processing (only legal obligations survive it); object / withdraw_objection: objection to one purpose.',
      },
    ),
    purpose: Type.Optional(
      Type.String({ pattern: NAME_PATTERN, description: 'For object and withdraw_objection.' }),
    ),
    evidence: Evidence,
    source: Source,
  },
  { additionalProperties: false },
);

const Nullable = <T extends ReturnType<typeof Type.String>>(schema: T) => Type.Union([schema, Type.Null()]);

/** A consent record as read. */
export const ConsentRecordSchema = Type.Object({
  id: Type.String(),
  customerId: Type.String(),
  purpose: Type.String(),
  channel: Nullable(Type.String()),
  status: Type.String(),
  explicit: Type.Boolean(),
  lawfulBasis: Type.String(),
  noticeVersion: Nullable(Type.String()),
  evidence: Type.Unknown(),
  source: Type.String(),
  capturedBy: Type.String(),
  effectiveFrom: Type.String(),
  expiresAt: Nullable(Type.String()),
  recordedAt: Type.String(),
});

/** A current consent as read. */
export const ConsentStateSchema = Type.Object({
  purpose: Type.String(),
  channel: Nullable(Type.String()),
  status: Type.String(),
  explicit: Type.Boolean(),
  effectiveFrom: Type.String(),
  expiresAt: Nullable(Type.String()),
  recordId: Type.String(),
  expired: Type.Boolean({ description: 'A grant past its expiry counts as no consent.' }),
});

/** A customer's privacy state as read. */
export const PrivacyStateSchema = Type.Object({
  intimacyLevel: Type.Integer(),
  restricted: Type.Boolean(),
  objections: Type.Array(Type.String()),
  history: Type.Array(
    Type.Object({
      kind: Type.String(),
      level: Type.Union([Type.Integer(), Type.Null()]),
      previousLevel: Type.Union([Type.Integer(), Type.Null()]),
      purpose: Nullable(Type.String()),
      source: Type.String(),
      capturedBy: Type.String(),
      evidence: Type.Unknown(),
      at: Type.String(),
    }),
  ),
});
