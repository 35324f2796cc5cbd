import { type Static, type TSchema, Type } from '@sinclair/typebox';
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import formatsPlugin from 'ajv-formats';
import type { FieldProblem } from '../shared/errors.ts';
import { findJsonBoundsProblem, type JsonBoundsCode } from '../shared/json-bounds.ts';
import { checkAmount, isCurrencyCode } from '../shared/money.ts';
import type { InitiatedBy, InteractionCustomerRef, InteractionInput, LineItem } from './interaction.ts';

/**
 * Input validation of interactions: one JSON schema for the shape every interaction shares, one small
 * schema per built-in type for what that type must carry, all compiled once at load. Validation is pure
 * and never throws: any JSON value yields either a normalised `InteractionInput` or a list of
 * `{path, message}` problems.
 */

const DAY_MS = 86_400_000;
/** Nothing a company records happened before this; it also keeps dates inside every engine's range. */
const EARLIEST_OCCURRED_AT = Date.UTC(1900, 0, 1);
const CURRENCY_MESSAGE = 'must be a current ISO 4217 currency code in capitals, e.g. EUR, USD, GBP, JPY';
/** numeric(18, 4) holds 14 digits before the decimal point. */
const AMOUNT_LIMIT = 1e14;

const CONSENT_TIME_PATTERN = '^\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}:\\d{2}(\\.\\d{1,9})?(Z|[+-]\\d{2}:\\d{2})$';

/** A type name: lower-case letters, digits and "_", starting with a letter, at most 64 characters. */
export const TYPE_PATTERN = '^[a-z][a-z0-9_]{0,63}$';
/** A channel name: letters, digits, "_", "-", "." and ":", starting with a letter or digit. */
export const CHANNEL_PATTERN = '^[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}$';

/** The JSON-schema `type` keyword widened to accept null, which means "absent" for optional fields. */
function nullable<T extends TSchema>(schema: T) {
  const { type } = schema as unknown as { type: string };
  return Type.Unsafe<Static<T> | null>({ ...schema, type: [type, 'null'] });
}

/** A source-system name or external id. */
const Key = (description: string) =>
  Type.String({ maxLength: 200, pattern: '\\S', 'x-message': 'must not be blank', description });

const TypeName = Type.String({
  pattern: TYPE_PATTERN,
  'x-message': 'must be 1–64 lower-case letters, digits or "_", starting with a letter (e.g. purchase)',
  description: 'A built-in type (purchase, complaint, …) or a custom one.',
});

const CustomerRefSchema = Type.Object(
  {
    id: Type.Optional(
      Type.String({ format: 'uuid', 'x-message': 'must be a UUID', description: 'Cornerstore id.' }),
    ),
    identity: Type.Optional(
      Type.Object(
        { source: Key('The source system.'), externalId: Key("The customer's id in that system.") },
        { additionalProperties: false },
      ),
    ),
    email: Type.Optional(
      Type.String({ format: 'email', maxLength: 320, 'x-message': 'must be an email address' }),
    ),
    phone: Type.Optional(
      Type.String({
        minLength: 3,
        maxLength: 40,
        pattern: '\\d',
        'x-message': 'must be a phone number',
        description: 'E.164, or national format read with the workspace region.',
      }),
    ),
  },
  {
    additionalProperties: false,
    minProperties: 1,
    maxProperties: 1,
    'x-message': 'must name the customer by exactly one of id, identity, email or phone',
    description: 'The customer, by exactly one of: id, identity (source system + external id), email, phone.',
  },
);

const LineItemSchema = Type.Object(
  {
    sku: Key('Stock-keeping unit.'),
    name: Type.Optional(Type.String({ maxLength: 500 })),
    quantity: Type.Number({ exclusiveMinimum: 0, maximum: 1e9 }),
    unitPrice: Type.Optional(
      Type.Number({ exclusiveMinimum: -AMOUNT_LIMIT, exclusiveMaximum: AMOUNT_LIMIT }),
    ),
  },
  { additionalProperties: false },
);

/** The shape of every interaction (the body of a single-item ingest), documented in the OpenAPI document. */
export const InteractionInputSchema = Type.Object(
  {
    type: TypeName,
    channel: Type.String({
      pattern: CHANNEL_PATTERN,
      'x-message': 'must be 1–64 letters, digits, "_", "-", "." or ":" (e.g. web, store, phone)',
      description: 'Where it happened: web, store, phone, email, app, …',
    }),
    occurredAt: Type.String({
      format: 'date-time',
      description: 'ISO 8601 with a time zone; at most one day in the future.',
    }),
    source: Key('The system that recorded the interaction; with externalId, the idempotency key.'),
    externalId: Key("The interaction's id in the source system."),
    customer: CustomerRefSchema,
    initiatedBy: Type.Optional(
      Type.Unsafe<InitiatedBy | null>({
        type: ['string', 'null'],
        enum: ['customer', 'company', null],
        description: 'Defaults by type (see the type table).',
      }),
    ),
    amount: Type.Optional(
      nullable(
        Type.Number({
          exclusiveMinimum: -AMOUNT_LIMIT,
          exclusiveMaximum: AMOUNT_LIMIT,
          description:
            "A JSON number with at most the currency's minor-unit decimals (2 for EUR, 0 for JPY, 3 for KWD) " +
            'and 15 significant digits: stored exactly as written.',
        }),
      ),
    ),
    currency: Type.Optional(
      nullable(
        Type.String({
          pattern: '^[A-Z]{3}$',
          'x-message': CURRENCY_MESSAGE,
          description: 'A current ISO 4217 code (EUR, USD, JPY…); required with amount.',
        }),
      ),
    ),
    sentiment: Type.Optional(nullable(Type.Number({ minimum: -1, maximum: 1 }))),
    text: Type.Optional(nullable(Type.String({ maxLength: 20_000 }))),
    lineItems: Type.Optional(nullable(Type.Array(LineItemSchema, { maxItems: 1000 }))),
    properties: Type.Optional(
      nullable(
        Type.Object(
          {},
          { additionalProperties: true, maxProperties: 200, description: 'Type-specific fields.' },
        ),
      ),
    ),
    explicitConsentFor: Type.Optional(
      nullable(
        Type.Array(Type.String({ pattern: '^[a-z][a-z0-9_]{0,63}$' }), {
          minItems: 1,
          maxItems: 10,
          uniqueItems: true,
          description:
            'The purposes the customer explicitly consented to for special-category data (health, religion…) ' +
            'they declare in this interaction; without it, such data is refused.',
        }),
      ),
    ),
  },
  { additionalProperties: false },
);

interface TypeRule {
  initiatedBy: InitiatedBy;
  /** What the type must carry beyond the common shape: a schema over amount, currency, text, properties. */
  schema?: TSchema;
}

/** A string from a fixed list, as `enum` (one clear error, unlike a union of literals). */
const OneOf = <T extends string>(values: readonly T[]) =>
  Type.Unsafe<T>({ type: 'string', enum: [...values] });
const Money = { amount: Type.Number({ minimum: 0 }), currency: Type.String() };
const OptionalText = Type.Optional(Type.String({ minLength: 1, maxLength: 500 }));
const Props = (properties: Parameters<typeof Type.Object>[0], required = true) =>
  required ? { properties: Type.Object(properties) } : { properties: Type.Optional(Type.Object(properties)) };

export const LIFE_EVENTS = [
  'moved_house',
  'married',
  'new_baby',
  'bereavement',
  'retired',
  'new_job',
  'graduated',
  'divorce',
  'separation',
  /** Health data (special category): kept only when declared with explicit consent (`explicitConsentFor`). */
  'illness',
  'job_loss',
  'other',
] as const;

/** Life events that are special-category data: kept only when the customer declares them with explicit consent. */
export const SPECIAL_LIFE_EVENTS: readonly string[] = ['illness'];

/**
 * The built-in types (SPEC §3) and what each must carry. Other type names are custom types: any name
 * matching TYPE_PATTERN, free-form properties, initiated by the customer unless told otherwise.
 * Every type may carry properties beyond those listed; the listed ones are checked.
 *
 * | type                 | initiatedBy | rules                                                                         |
 * |----------------------|-------------|-------------------------------------------------------------------------------|
 * | purchase             | customer    | amount ≥ 0 and currency required                                              |
 * | return               | customer    | amount ≥ 0 and currency required                                              |
 * | service_request      | customer    | properties.category, when given, a non-empty string                           |
 * | complaint            | customer    | properties.severity, when given, low / medium / high                          |
 * | compliment           | customer    | —                                                                             |
 * | cancellation_request | customer    | properties.subject (what to cancel), when given, a non-empty string           |
 * | billing_event        | company     | properties.event (invoice_issued, refund, …), when given, a non-empty string  |
 * | payment_failed       | company     | amount ≥ 0 and currency required; properties.reason, when given, a string     |
 * | shipment             | company     | properties.carrier and properties.trackingNumber, when given, strings         |
 * | delivery_failed      | company     | properties.reason, when given, a non-empty string                             |
 * | visit                | customer    | —                                                                             |
 * | call                 | customer    | properties.durationSeconds, when given, a number ≥ 0                          |
 * | email                | customer    | —                                                                             |
 * | chat                 | customer    | —                                                                             |
 * | feedback             | customer    | —                                                                             |
 * | suggestion           | customer    | text required (the suggestion itself)                                         |
 * | survey_response      | customer    | properties.score required, a number; properties.survey, when given, a string  |
 * | preference_stated    | customer    | properties.key (1–100 chars) and properties.value (not null) required         |
 * | life_event_declared  | customer    | properties.event required, one of LIFE_EVENTS; properties.date, when given,   |
 * |                      |             |   a string of at most 40 characters                                           |
 * | consent_changed      | customer    | properties.purpose (a purpose name) and properties.status required            |
 * |                      |             |   (granted / denied / withdrawn); optional: channel (the one channel it       |
 * |                      |             |   covers), explicit, noticeVersion, evidence (string or object), expiresAt.  |
 * |                      |             |   The ledger's rules (a known purpose…) are checked at ingest (governance/).  |
 * | intimacy_chosen      | customer    | properties.level required, an integer 0–4: the intimacy level the customer   |
 * |                      |             |   chose where they said it (a store form, the app); it sets the level at      |
 * |                      |             |   ingest, before the facts of the same batch are captured (governance/).      |
 *
 * Everywhere: currency is required when amount is given; occurredAt may not be more than one day in the
 * future nor before 1900.
 */
export const BUILT_IN_TYPES: Readonly<Record<string, TypeRule>> = {
  purchase: { initiatedBy: 'customer', schema: Type.Object(Money) },
  return: { initiatedBy: 'customer', schema: Type.Object(Money) },
  service_request: { initiatedBy: 'customer', schema: Type.Object(Props({ category: OptionalText }, false)) },
  complaint: {
    initiatedBy: 'customer',
    schema: Type.Object(Props({ severity: Type.Optional(OneOf(['low', 'medium', 'high'])) }, false)),
  },
  compliment: { initiatedBy: 'customer' },
  cancellation_request: {
    initiatedBy: 'customer',
    schema: Type.Object(Props({ subject: OptionalText }, false)),
  },
  billing_event: { initiatedBy: 'company', schema: Type.Object(Props({ event: OptionalText }, false)) },
  payment_failed: {
    initiatedBy: 'company',
    schema: Type.Object({
      ...Money,
      ...Props({ reason: Type.Optional(Type.String({ maxLength: 500 })) }, false),
    }),
  },
  shipment: {
    initiatedBy: 'company',
    schema: Type.Object(
      Props(
        {
          carrier: Type.Optional(Type.String({ maxLength: 200 })),
          trackingNumber: Type.Optional(Type.String({ maxLength: 200 })),
        },
        false,
      ),
    ),
  },
  delivery_failed: { initiatedBy: 'company', schema: Type.Object(Props({ reason: OptionalText }, false)) },
  visit: { initiatedBy: 'customer' },
  call: {
    initiatedBy: 'customer',
    schema: Type.Object(Props({ durationSeconds: Type.Optional(Type.Number({ minimum: 0 })) }, false)),
  },
  email: { initiatedBy: 'customer' },
  chat: { initiatedBy: 'customer' },
  feedback: { initiatedBy: 'customer' },
  suggestion: { initiatedBy: 'customer', schema: Type.Object({ text: Type.String({ minLength: 1 }) }) },
  survey_response: {
    initiatedBy: 'customer',
    schema: Type.Object(
      Props({ score: Type.Number(), survey: Type.Optional(Type.String({ maxLength: 200 })) }),
    ),
  },
  preference_stated: {
    initiatedBy: 'customer',
    schema: Type.Object(
      Props({
        key: Type.String({ minLength: 1, maxLength: 100 }),
        value: Type.Unsafe<unknown>({ not: { type: 'null' }, 'x-message': 'must not be null' }),
      }),
    ),
  },
  life_event_declared: {
    initiatedBy: 'customer',
    schema: Type.Object(
      Props({ event: OneOf(LIFE_EVENTS), date: Type.Optional(Type.String({ maxLength: 40 })) }),
    ),
  },
  intimacy_chosen: {
    initiatedBy: 'customer',
    schema: Type.Object(
      Props({ level: Type.Integer({ minimum: 0, maximum: 4, 'x-message': 'must be 0 to 4' }) }),
    ),
  },
  consent_changed: {
    initiatedBy: 'customer',
    schema: Type.Object(
      Props({
        purpose: Type.String({
          pattern: TYPE_PATTERN,
          'x-message': 'must be a purpose name such as marketing or personalization',
        }),
        status: OneOf(['granted', 'denied', 'withdrawn']),
        channel: Type.Optional(
          Type.String({
            pattern: '^[a-z][a-z0-9_.-]{0,63}$',
            'x-message': 'must be a channel the consent covers, such as email, sms, phone or post',
          }),
        ),
        explicit: Type.Optional(Type.Boolean()),
        noticeVersion: Type.Optional(Type.String({ minLength: 1, maxLength: 100 })),
        evidence: Type.Optional(
          Type.Unsafe<unknown>({
            type: ['string', 'object'],
            description: 'How the choice was captured: a string or a JSON object.',
          }),
        ),
        expiresAt: Type.Optional(
          Type.String({
            pattern: CONSENT_TIME_PATTERN,
            'x-message': 'must be an ISO 8601 timestamp with a time zone, e.g. 2027-05-01T10:00:00Z',
          }),
        ),
      }),
    ),
  },
};

/** The default `initiatedBy` of a type: the table's for a built-in type, `customer` for a custom one. */
export function defaultInitiatedBy(type: string): InitiatedBy {
  return BUILT_IN_TYPES[type]?.initiatedBy ?? 'customer';
}

const TIMESTAMP = /^(\d{4})-(\d\d)-(\d\d)[Tt](\d\d):(\d\d):(\d\d)(\.\d{1,9})?(?:[Zz]|([+-])(\d\d):?(\d\d))$/;
const LOWER_CASE_T_OR_Z = /[tz]/;
const TIMESTAMP_MESSAGE = 'must be an ISO 8601 timestamp with a time zone, e.g. 2024-05-01T10:00:00Z';
const DAYS_IN_MONTH = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

/**
 * Reads an ISO 8601 timestamp with a zone (`2024-05-01T10:00:00.123+02:00`) into epoch milliseconds, or
 * undefined when it is not one or names an impossible date (Feb 30, hour 24, leap seconds, zones
 * beyond ±14:00). Stricter and much faster than the platform parser, which rolls Feb 30 over to March.
 */
export function parseTimestamp(text: string): number | undefined {
  const m = TIMESTAMP.exec(text);
  if (!m) return undefined;
  const year = Number(m[1]);
  const month = Number(m[2]);
  const day = Number(m[3]);
  const hour = Number(m[4]);
  const minute = Number(m[5]);
  const second = Number(m[6]);
  if (month < 1 || month > 12 || day < 1 || hour > 23 || minute > 59 || second > 59) return undefined;
  const leap = month === 2 && year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0);
  if (day > (DAYS_IN_MONTH[month - 1] ?? 31) + (leap ? 1 : 0)) return undefined;
  let offsetMinutes = 0;
  if (m[8] !== undefined) {
    const offsetHour = Number(m[9]);
    const offsetMinute = Number(m[10]);
    if (offsetHour > 14 || offsetMinute > 59) return undefined;
    offsetMinutes = (m[8] === '-' ? -1 : 1) * (offsetHour * 60 + offsetMinute);
  }
  const fraction = m[7] === undefined ? 0 : Math.floor(Number(m[7]) * 1000);
  return Date.UTC(year, month - 1, day, hour, minute, second, fraction) - offsetMinutes * 60_000;
}

interface Validators {
  shape: ValidateFunction;
  byType: Map<string, ValidateFunction>;
}

let validators: Validators | undefined;

/**
 * The compiled validators, built on first use: compiling them is most of what loading this module would
 * cost, and most commands (and the server until its first ingest) never validate an interaction.
 */
function getValidators(): Validators {
  if (validators) return validators;
  const ajv = new Ajv({ allErrors: true, strict: true, allowUnionTypes: true, coerceTypes: false });
  (formatsPlugin as unknown as (ajv: Ajv) => Ajv)(ajv);
  ajv.addKeyword({ keyword: 'x-message', schemaType: 'string' });
  // `date-time` stays in the schema for the API document; `parseTimestamp` checks it (stricter, faster).
  ajv.addFormat('date-time', true);
  validators = {
    shape: ajv.compile(InteractionInputSchema),
    byType: new Map<string, ValidateFunction>(
      Object.entries(BUILT_IN_TYPES).flatMap(([type, rule]) =>
        rule.schema ? [[type, ajv.compile(rule.schema)]] : [],
      ),
    ),
  };
  return validators;
}

const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]*$/;

function keySegment(key: string): string {
  return IDENTIFIER.test(key) ? `.${key}` : `[${JSON.stringify(key)}]`;
}

/** `/lineItems/0/sku` → `.lineItems[0].sku` (joined to the item's own path by the caller). */
function pointerToPath(pointer: string): string {
  if (pointer === '') return '';
  let out = '';
  for (const raw of pointer.slice(1).split('/')) {
    const segment = raw.replaceAll('~1', '/').replaceAll('~0', '~');
    out += /^\d+$/.test(segment) ? `[${segment}]` : keySegment(segment);
  }
  return out;
}

function joinPath(prefix: string, suffix: string): string {
  const path = `${prefix}${suffix}`;
  return path.startsWith('.') ? path.slice(1) : path;
}

const ARTICLE: Record<string, string> = {
  object: 'an object',
  array: 'an array',
  string: 'a string',
  number: 'a number',
  integer: 'an integer',
  boolean: 'a boolean',
};

/** Keywords whose failure is best explained by the schema's own `x-message`. */
const CUSTOM_MESSAGE_KEYWORDS = new Set(['pattern', 'format', 'minProperties', 'maxProperties', 'not']);

/** The `x-message` of the schema an error came from (found by its schema path: errors are rare). */
function customMessage(root: unknown, schemaPath: string): unknown {
  const segments = schemaPath.split('/').slice(1, -1);
  let node: unknown = root;
  for (const segment of segments) {
    if (typeof node !== 'object' || node === null) return undefined;
    node = (node as Record<string, unknown>)[segment.replaceAll('~1', '/').replaceAll('~0', '~')];
  }
  return typeof node === 'object' && node !== null
    ? (node as Record<string, unknown>)['x-message']
    : undefined;
}

/** A problem whose path is relative to the item (`.lineItems[0].sku`); the item's own path is added last. */
interface RelativeProblem {
  suffix: string;
  message: string;
}

function toProblem(error: ErrorObject, root: unknown): RelativeProblem {
  const params = error.params as Record<string, unknown>;
  let suffix = pointerToPath(error.instancePath);
  let message: string;
  const custom = CUSTOM_MESSAGE_KEYWORDS.has(error.keyword)
    ? customMessage(root, error.schemaPath)
    : undefined;
  if (error.keyword === 'required') {
    suffix += keySegment(String(params.missingProperty));
    message = 'is required';
  } else if (error.keyword === 'additionalProperties') {
    suffix += keySegment(String(params.additionalProperty));
    message = 'is not a known field';
  } else if (typeof custom === 'string') {
    message = custom;
  } else {
    switch (error.keyword) {
      case 'type': {
        const type = String(params.type).split(',')[0] ?? '';
        message = `must be ${ARTICLE[type] ?? type}`;
        break;
      }
      case 'enum':
        message = `must be one of ${(params.allowedValues as unknown[]).filter((v) => v !== null).join(', ')}`;
        break;
      case 'const':
        message = `must be ${String(params.allowedValue)}`;
        break;
      case 'minimum':
        message = `must be ≥ ${String(params.limit)}`;
        break;
      case 'maximum':
        message = `must be ≤ ${String(params.limit)}`;
        break;
      case 'exclusiveMinimum':
        message = `must be > ${String(params.limit)}`;
        break;
      case 'exclusiveMaximum':
        message = `must be < ${String(params.limit)}`;
        break;
      case 'minLength':
        message =
          params.limit === 1 ? 'must not be empty' : `must be at least ${String(params.limit)} characters`;
        break;
      case 'maxLength':
        message = `must be at most ${String(params.limit)} characters`;
        break;
      case 'maxItems':
        message = `must have at most ${String(params.limit)} items`;
        break;
      case 'maxProperties':
        message = `must have at most ${String(params.limit)} fields`;
        break;
      case 'anyOf':
        message = 'must be one of the allowed values';
        break;
      default:
        message = error.message ?? 'is invalid';
    }
  }
  return { suffix, message };
}

function collect(validator: ValidateFunction, into: RelativeProblem[]): void {
  const errors = validator.errors ?? [];
  // A union's branches each report; the summary error of the union says it once, naming the values
  // when the union is one of constants.
  const constants = new Map<string, string[]>();
  for (const error of errors) {
    const union =
      error.keyword === 'const' ? /^(.*\/anyOf)\/\d+\/const$/.exec(error.schemaPath)?.[1] : undefined;
    if (union === undefined) continue;
    const key = `${error.instancePath}|${union}`;
    constants.set(key, [
      ...(constants.get(key) ?? []),
      String((error.params as { allowedValue?: unknown }).allowedValue),
    ]);
  }
  for (const error of errors) {
    if (error.schemaPath.includes('/anyOf/')) continue;
    const values =
      error.keyword === 'anyOf' ? constants.get(`${error.instancePath}|${error.schemaPath}`) : undefined;
    const problem = toProblem(error, validator.schema);
    add(
      into,
      values && problem.message === 'must be one of the allowed values'
        ? { ...problem, message: `must be one of: ${values.join(', ')}` }
        : problem,
    );
  }
}

function add(into: RelativeProblem[], problem: RelativeProblem): void {
  if (!into.some((p) => p.suffix === problem.suffix && p.message === problem.message)) into.push(problem);
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * Money beyond its JSON shape: the currency is a current ISO 4217 code and the amount has at most the
 * currency's minor-unit decimals and 15 significant digits (shared/money.ts), so it is stored exactly.
 */
function checkMoney(item: Record<string, unknown>, problems: RelativeProblem[]): void {
  const { amount, currency } = item;
  let known: string | null = null;
  if (typeof currency === 'string' && !problems.some((p) => p.suffix === '.currency')) {
    if (isCurrencyCode(currency)) known = currency;
    else problems.push({ suffix: '.currency', message: CURRENCY_MESSAGE });
  }
  if (typeof amount === 'number' && !problems.some((p) => p.suffix === '.amount')) {
    const problem = checkAmount(amount, known);
    if (problem) problems.push({ suffix: '.amount', message: problem });
  }
}

/** A refused item: its problems, and the code of the refusal when it is not a plain validation failure. */
export type ValidationOutcome =
  | { ok: true; value: InteractionInput }
  | { ok: false; problems: FieldProblem[]; code?: JsonBoundsCode };

type Checked =
  | { ok: true; value: InteractionInput }
  | { ok: false; problems: RelativeProblem[]; code?: JsonBoundsCode };

function check(item: unknown, now: number): Checked {
  if (!isPlainObject(item))
    return { ok: false, problems: [{ suffix: '', message: 'must be a JSON object' }] };
  // Before any other walk of the item: nesting within bounds, text the database can hold.
  const bounds = findJsonBoundsProblem(item);
  if (bounds) {
    const suffix = bounds.path === '' ? '' : bounds.path.startsWith('[') ? bounds.path : `.${bounds.path}`;
    return { ok: false, code: bounds.code, problems: [{ suffix, message: bounds.message }] };
  }
  const problems: RelativeProblem[] = [];
  const { shape: validateShape, byType: typeValidators } = getValidators();
  if (!validateShape(item)) collect(validateShape, problems);

  const type = item.type;
  const typeValidator = typeof type === 'string' ? typeValidators.get(type) : undefined;
  if (typeValidator) {
    const view: Record<string, unknown> = { properties: item.properties ?? {} };
    if (item.amount != null) view.amount = item.amount;
    if (item.currency != null) view.currency = item.currency;
    if (item.text != null) view.text = item.text;
    if (!typeValidator(view)) collect(typeValidator, problems);
  }

  if (item.amount != null && item.currency == null && !problems.some((p) => p.suffix === '.currency')) {
    problems.push({ suffix: '.currency', message: 'is required when amount is given' });
  }
  checkMoney(item, problems);

  let occurredAt = '';
  if (typeof item.occurredAt === 'string') {
    const ms = parseTimestamp(item.occurredAt);
    const problem =
      ms === undefined
        ? TIMESTAMP_MESSAGE
        : ms > now + DAY_MS
          ? 'must not be more than one day in the future'
          : ms < EARLIEST_OCCURRED_AT
            ? 'must not be before 1900-01-01'
            : undefined;
    if (problem) problems.push({ suffix: '.occurredAt', message: problem });
    // The database reads the text itself, keeping sub-millisecond digits; only the case is normalised.
    else
      occurredAt = LOWER_CASE_T_OR_Z.test(item.occurredAt) ? item.occurredAt.toUpperCase() : item.occurredAt;
  }

  if (problems.length > 0) return { ok: false, problems };
  const initiatedBy = item.initiatedBy as InitiatedBy | null | undefined;
  return {
    ok: true,
    value: {
      type: type as string,
      channel: item.channel as string,
      initiatedBy: initiatedBy ?? defaultInitiatedBy(type as string),
      occurredAt,
      source: item.source as string,
      externalId: item.externalId as string,
      customer: item.customer as InteractionCustomerRef,
      amount: (item.amount as number | null | undefined) ?? null,
      currency: (item.currency as string | null | undefined) ?? null,
      sentiment: (item.sentiment as number | null | undefined) ?? null,
      text: (item.text as string | null | undefined) ?? null,
      lineItems: (item.lineItems as LineItem[] | null | undefined) ?? null,
      properties: (item.properties as Record<string, unknown> | null | undefined) ?? {},
      declaredFor: (item.explicitConsentFor as string[] | null | undefined) ?? null,
    },
  };
}

function withPath(problems: readonly RelativeProblem[], path: string): FieldProblem[] {
  return problems.map((p) => ({ path: joinPath(path, p.suffix), message: p.message }));
}

function refused(checked: Checked & { ok: false }, path: string): ValidationOutcome & { ok: false } {
  const problems = withPath(checked.problems, path);
  return checked.code === undefined ? { ok: false, problems } : { ok: false, problems, code: checked.code };
}

/**
 * Validates one interaction. `path` is where the item sits in its request (`interactions[3]`, or '' for
 * a single item) and prefixes every problem's path; `now` bounds `occurredAt` (at most one day ahead).
 * Pure, compiled once, never throws.
 */
export function validateInteraction(item: unknown, path = '', now: number = Date.now()): ValidationOutcome {
  const checked = check(item, now);
  return checked.ok ? checked : refused(checked, path);
}

/**
 * Validates many interactions, item `i` reported under `${pathPrefix}[i]` (or with no item path at all
 * when `pathPrefix` is '', for a call of one item): the batch form, which builds paths only for the
 * items that fail.
 */
export function validateInteractions(
  items: readonly unknown[],
  pathPrefix = 'interactions',
  now: number = Date.now(),
): ValidationOutcome[] {
  const outcomes: ValidationOutcome[] = new Array(items.length);
  for (let i = 0; i < items.length; i++) {
    const checked = check(items[i], now);
    if (checked.ok) outcomes[i] = checked;
    else {
      outcomes[i] = refused(checked, pathPrefix === '' ? '' : `${pathPrefix}[${i}]`);
    }
  }
  return outcomes;
}
