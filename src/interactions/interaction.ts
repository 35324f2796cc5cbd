import { invalid } from '../shared/errors.ts';

/** Interactions: types and pure rules (no I/O). */

/** Who started an interaction. */
export type InitiatedBy = 'customer' | 'company';

/**
 * How an interaction names its customer: by Cornerstore id, by an identity in a source system, or by a
 * contact point. The same shape the customers domain resolves.
 */
export type InteractionCustomerRef =
  | { id: string }
  | { identity: { source: string; externalId: string } }
  | { email: string }
  | { phone: string };

export interface LineItem {
  sku: string;
  name?: string;
  quantity: number;
  unitPrice?: number;
}

/** A validated, normalised interaction, ready to store (absent optional fields are null). */
export interface InteractionInput {
  type: string;
  channel: string;
  initiatedBy: InitiatedBy;
  /** ISO 8601 in UTC with milliseconds, as `Date.prototype.toISOString` writes it. */
  occurredAt: string;
  source: string;
  externalId: string;
  customer: InteractionCustomerRef;
  amount: number | null;
  currency: string | null;
  sentiment: number | null;
  text: string | null;
  lineItems: LineItem[] | null;
  properties: Record<string, unknown>;
  /** The purposes the customer explicitly consented to for the special-category data they declared. */
  declaredFor: string[] | null;
}

/** A stored interaction as the API shows it (camelCase, timestamps ISO 8601). */
export interface Interaction {
  id: string;
  customerId: string;
  type: string;
  channel: string;
  initiatedBy: InitiatedBy;
  occurredAt: string;
  source: string;
  externalId: string;
  amount: number | null;
  currency: string | null;
  sentiment: number | null;
  text: string | null;
  lineItems: LineItem[] | null;
  properties: Record<string, unknown>;
  /** The purposes the customer explicitly consented to for the special-category data they declared. */
  declaredFor: string[] | null;
  receivedAt: string;
}

/** The error of one rejected item, in the wire form of an AppError. */
export interface ItemError {
  code: string;
  message: string;
  details?: unknown;
}

/** The outcome of one item of an ingest call, by its index in the call. */
export interface IngestResult {
  index: number;
  status: 'created' | 'duplicate' | 'rejected';
  /** The stored interaction: the new one, or for a duplicate the ORIGINAL one. */
  id?: string;
  customerId?: string;
  error?: ItemError;
  /** Fields the storage policy dropped before storing (strip mode), as JSON paths with the reason. */
  dropped?: { path: string; category: string; reason: string }[];
  /** Text the storage policy masked (card numbers, national ids, IBANs), as JSON paths. */
  masked?: { path: string; kind: string }[];
}

/** Largest number of items one ingest call accepts. */
export const MAX_BATCH_ITEMS = 10_000;

/** Timeline page size bounds. */
export const TIMELINE_MAX_LIMIT = 500;
export const TIMELINE_DEFAULT_LIMIT = 50;

export type TimelineOrder = 'desc' | 'asc';

export interface TimelineOptions {
  limit?: number | undefined;
  cursor?: string | undefined;
  types?: readonly string[] | undefined;
  channels?: readonly string[] | undefined;
  /** Inclusive lower bound of `occurredAt` (ISO 8601). */
  from?: string | undefined;
  /** Exclusive upper bound of `occurredAt` (ISO 8601). */
  to?: string | undefined;
  order?: TimelineOrder | undefined;
}

export interface TimelinePage {
  interactions: Interaction[];
  nextCursor: string | null;
}

/** Where a timeline page stopped: the sort key of its last row, exact to the database's microsecond. */
export interface TimelinePosition {
  order: TimelineOrder;
  /** `occurred_at` as text the database reads back exactly. */
  occurredAt: string;
  id: string;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
/** The exact text form of a cursor's timestamp: UTC with microseconds. */
const CURSOR_TIME = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/;

/** Encodes a timeline position as an opaque cursor (base64url of a small JSON array). */
export function encodeCursor(position: TimelinePosition): string {
  return Buffer.from(JSON.stringify([position.order, position.occurredAt, position.id])).toString(
    'base64url',
  );
}

/** Decodes a cursor made by `encodeCursor` for the given order, or throws CURSOR_INVALID. */
export function decodeCursor(cursor: string, order: TimelineOrder): TimelinePosition {
  const fail = () =>
    invalid('CURSOR_INVALID', 'The cursor is not one this endpoint returned; start again without a cursor.', {
      cursor,
    });
  let decoded: unknown;
  try {
    decoded = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    throw fail();
  }
  if (!Array.isArray(decoded) || decoded.length !== 3) throw fail();
  const [cursorOrder, occurredAt, id] = decoded as unknown[];
  if (cursorOrder !== 'asc' && cursorOrder !== 'desc') throw fail();
  if (typeof occurredAt !== 'string' || !CURSOR_TIME.test(occurredAt)) throw fail();
  if (typeof id !== 'string' || !UUID.test(id)) throw fail();
  if (cursorOrder !== order) {
    throw invalid(
      'CURSOR_ORDER_MISMATCH',
      `This cursor continues an order=${cursorOrder} listing; keep that order.`,
      {
        cursor,
      },
    );
  }
  return { order: cursorOrder, occurredAt, id };
}

/**
 * Turns an exported interaction back into an ingest item naming its customer by id: what a restore
 * feeds to `ingestInteractions`. Null fields are left out.
 */
export function toIngestItem(interaction: Interaction): Record<string, unknown> {
  const { id: _id, customerId, receivedAt: _receivedAt, declaredFor, ...rest } = interaction;
  const item: Record<string, unknown> = { customer: { id: customerId } };
  for (const [key, value] of Object.entries(rest)) if (value !== null) item[key] = value;
  if (declaredFor !== null) item.explicitConsentFor = declaredFor;
  return item;
}

/**
 * The data category (SPEC §5.1) of each built-in interaction type: what reading the interaction reveals.
 * A custom type is `service` unless the workspace's taxonomy says otherwise.
 */
export const TYPE_CATEGORIES: Readonly<Record<string, string>> = {
  purchase: 'transaction',
  return: 'transaction',
  cancellation_request: 'transaction',
  billing_event: 'transaction',
  payment_failed: 'transaction',
  shipment: 'transaction',
  delivery_failed: 'transaction',
  service_request: 'service',
  complaint: 'service',
  compliment: 'service',
  visit: 'service',
  call: 'service',
  email: 'service',
  chat: 'service',
  feedback: 'service',
  suggestion: 'service',
  survey_response: 'service',
  consent_changed: 'service',
  preference_stated: 'preference',
  life_event_declared: 'life_event',
};

/** The data category of an interaction type. */
export function categoryOfType(type: string): string {
  return TYPE_CATEGORIES[type] ?? 'service';
}
