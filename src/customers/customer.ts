import { maskFreeText } from '../policy/index.ts';
import type { AppError, FieldProblem } from '../shared/errors.ts';
import { invalid } from '../shared/errors.ts';
import { isUuid, newId } from '../shared/ids.ts';
import {
  type Normalised,
  normaliseBirthDate,
  normaliseEmail,
  normaliseIdentityPart,
  normaliseLanguage,
  normaliseName,
  normalisePhone,
  normalisePostalAddress,
  type PostalAddress,
  problemError,
} from './contact.ts';

/** Customers, their golden-record fields, identities and contact points: types and pure rules. */

/** The golden-record fields, each written with provenance. */
export const GOLDEN_FIELDS = ['givenName', 'familyName', 'preferredName', 'language', 'birthDate'] as const;
export type GoldenField = (typeof GOLDEN_FIELDS)[number];

/** A golden-record field's column in `customers`. */
export const FIELD_COLUMNS = {
  givenName: 'given_name',
  familyName: 'family_name',
  preferredName: 'preferred_name',
  language: 'language',
  birthDate: 'birth_date',
} as const satisfies Record<GoldenField, string>;

export type GoldenValues = Partial<Record<GoldenField, string | null>>;

/** A `(source system, external id)` pair: a loyalty number, a web account, a billing account. */
export interface Identity {
  source: string;
  externalId: string;
}

export type ContactKind = 'email' | 'phone' | 'address';

export interface ContactPoint {
  kind: ContactKind;
  value: string;
  verified: boolean;
  /** The system the contact point came from. */
  source: string;
  createdAt: string;
  /** From when it holds (an address after a move); absent: always. */
  validFrom?: string;
  /** Until when it holds (the address before a move); absent: still. */
  validUntil?: string;
}

/** Where a golden-record field's current value came from. */
export interface FieldProvenance {
  source: string;
  capturedAt: string;
  capturedBy: string;
  interactionId: string | null;
  confidence: number;
}

export interface Customer {
  id: string;
  givenName: string | null;
  familyName: string | null;
  preferredName: string | null;
  language: string | null;
  birthDate: string | null;
  emails: string[];
  phones: string[];
  /** Postal addresses (contact points of kind `address`, value in canonical JSON). */
  addresses: PostalAddress[];
  identities: Identity[];
  contactPoints: ContactPoint[];
  provenance: Partial<Record<GoldenField, FieldProvenance>>;
  createdAt: string;
  updatedAt: string;
}

/** An email or phone as given: the bare value, or the value with whether it was verified. */
export type ContactInput = string | { value: string; verified?: boolean | undefined };

/** What a caller may say about a new customer. */
export interface CustomerInput {
  givenName?: string | null | undefined;
  familyName?: string | null | undefined;
  preferredName?: string | null | undefined;
  language?: string | null | undefined;
  birthDate?: string | null | undefined;
  emails?: readonly ContactInput[] | undefined;
  phones?: readonly ContactInput[] | undefined;
  /** Postal addresses, added as contact points (see `normalisePostalAddress`). */
  addresses?: readonly PostalAddress[] | undefined;
  identities?: readonly Identity[] | undefined;
  /** The system the data came from; default "api". */
  source?: string | undefined;
  /** When the data was captured (ISO 8601); default now. */
  capturedAt?: string | undefined;
  /** The interaction the data came from, if any. */
  interactionId?: string | undefined;
}

/** A change: scalars set (null clears); emails, phones and identities added; `remove…` removes. */
export interface CustomerPatch extends CustomerInput {
  removeEmails?: readonly string[] | undefined;
  removePhones?: readonly string[] | undefined;
  removeIdentities?: readonly Identity[] | undefined;
}

/** A normalised contact point to add. */
export interface ContactToAdd {
  kind: ContactKind;
  value: string;
  verified: boolean;
}

/** A request normalised and validated: what the repository writes. */
export interface NormalisedChange {
  fields: GoldenValues;
  contacts: ContactToAdd[];
  identities: Identity[];
  removeContacts: { kind: ContactKind; value: string }[];
  removeIdentities: Identity[];
  source: string;
  capturedAt: string;
  interactionId: string | null;
}

/** A reference to a customer in an incoming event: by id, external identity, email or phone. */
export type CustomerRef =
  | { id: string }
  | { identity: { source: string; externalId: string } }
  | { email: string }
  | { phone: string };

const DEFAULT_SOURCE = 'api';

/** Collects problems across a whole request, so the caller sees every one at once. */
class Problems {
  readonly list: FieldProblem[] = [];
  private firstCode: string | undefined;

  take<T>(result: Normalised<T>): T | undefined {
    if (result.ok) return result.value;
    this.firstCode ??= result.code;
    this.list.push(result.problem);
    return undefined;
  }

  add(code: string, path: string, message: string): void {
    this.firstCode ??= code;
    this.list.push({ path, message });
  }

  throwIfAny(): void {
    if (this.list.length > 0) throw problemError(this.firstCode ?? 'VALIDATION_FAILED', this.list);
  }
}

function normaliseField(field: GoldenField, raw: string, problems: Problems): string | null | undefined {
  switch (field) {
    case 'givenName':
    case 'familyName':
    case 'preferredName': {
      // A name is no place for an identifier: a card number, national id or IBAN in it is refused,
      // never stored in clear (government ids go in governmentIds, kept only as a keyed hash).
      const found = maskFreeText(raw).masked[0];
      if (found) {
        problems.add(
          'POLICY_DO_NOT_STORE',
          field,
          `holds what looks like a ${found.kind.replace('_', ' ')}, which is never stored in clear; send government ids in governmentIds`,
        );
        return undefined;
      }
      return normaliseName(raw);
    }
    case 'language':
      return problems.take(normaliseLanguage(raw, field));
    case 'birthDate':
      return problems.take(normaliseBirthDate(raw, field));
  }
}

function contactValue(input: ContactInput): { raw: string; verified: boolean; suffix: string } {
  return typeof input === 'string'
    ? { raw: input, verified: false, suffix: '' }
    : { raw: input.value, verified: input.verified ?? false, suffix: '.value' };
}

function normaliseContacts(
  kind: ContactKind,
  inputs: readonly ContactInput[] | undefined,
  region: string,
  problems: Problems,
  into: ContactToAdd[],
): void {
  const seen = new Map<string, ContactToAdd>();
  (inputs ?? []).forEach((input, i) => {
    const { raw, verified, suffix } = contactValue(input);
    const path = `${kind}s[${i}]${suffix}`;
    const value = problems.take(
      kind === 'email' ? normaliseEmail(raw, path) : normalisePhone(raw, region, path),
    );
    if (value === undefined) return;
    const already = seen.get(value);
    if (already) already.verified ||= verified;
    else {
      const contact = { kind, value, verified };
      seen.set(value, contact);
      into.push(contact);
    }
  });
}

function normaliseIdentities(
  inputs: readonly Identity[] | undefined,
  name: string,
  problems: Problems,
): Identity[] {
  const out: Identity[] = [];
  const seen = new Set<string>();
  (inputs ?? []).forEach((input, i) => {
    const source = problems.take(normaliseIdentityPart(input.source, `${name}[${i}].source`));
    const externalId = problems.take(normaliseIdentityPart(input.externalId, `${name}[${i}].externalId`));
    if (source === undefined || externalId === undefined) return;
    const key = identityKey({ source, externalId });
    if (!seen.has(key)) {
      seen.add(key);
      out.push({ source, externalId });
    }
  });
  return out;
}

/**
 * `count` new ids in ascending order. Rows written by one statement share their `created_at`, and the
 * id breaks the tie: ascending ids keep them in the order they were given.
 */
export function newIds(count: number): string[] {
  return Array.from({ length: count }, () => newId()).sort();
}

/** A map key for an identity. */
export function identityKey(identity: Identity): string {
  return `${identity.source}\u0000${identity.externalId}`;
}

/**
 * Normalises and validates a create or patch request against the workspace's phone region, reporting
 * every problem with its JSON path. `now` is the default capture time.
 */
export function normaliseChange(input: CustomerPatch, region: string, now: Date): NormalisedChange {
  const problems = new Problems();
  const fields: GoldenValues = {};
  for (const field of GOLDEN_FIELDS) {
    const raw = input[field];
    if (raw === undefined) continue;
    if (raw === null) fields[field] = null;
    else {
      const value = normaliseField(field, raw, problems);
      if (value !== undefined) fields[field] = value;
    }
  }
  const contacts: ContactToAdd[] = [];
  normaliseContacts('email', input.emails, region, problems, contacts);
  normaliseContacts('phone', input.phones, region, problems, contacts);
  const addresses = new Set<string>();
  (input.addresses ?? []).forEach((raw, i) => {
    const value = problems.take(normalisePostalAddress(raw, `addresses[${i}]`));
    if (value === undefined || addresses.has(value)) return;
    addresses.add(value);
    contacts.push({ kind: 'address', value, verified: false });
  });
  const identities = normaliseIdentities(input.identities, 'identities', problems);
  const removeContacts: { kind: ContactKind; value: string }[] = [];
  (input.removeEmails ?? []).forEach((raw, i) => {
    const value = problems.take(normaliseEmail(raw, `removeEmails[${i}]`));
    if (value !== undefined) removeContacts.push({ kind: 'email', value });
  });
  (input.removePhones ?? []).forEach((raw, i) => {
    const value = problems.take(normalisePhone(raw, region, `removePhones[${i}]`));
    if (value !== undefined) removeContacts.push({ kind: 'phone', value });
  });
  const removeIdentities = normaliseIdentities(input.removeIdentities, 'removeIdentities', problems);
  const source =
    input.source === undefined
      ? DEFAULT_SOURCE
      : problems.take(normaliseIdentityPart(input.source, 'source'));
  let capturedAt = now.toISOString();
  if (input.capturedAt !== undefined) {
    const parsed = Date.parse(input.capturedAt);
    if (Number.isNaN(parsed))
      problems.add('CAPTURED_AT_INVALID', 'capturedAt', 'is not an ISO 8601 date-time.');
    else capturedAt = new Date(parsed).toISOString();
  }
  if (input.interactionId !== undefined && !isUuid(input.interactionId)) {
    problems.add('INTERACTION_ID_INVALID', 'interactionId', 'is not an interaction id (a UUID).');
  }
  problems.throwIfAny();
  return {
    fields,
    contacts,
    identities,
    removeContacts,
    removeIdentities,
    source: source ?? DEFAULT_SOURCE,
    capturedAt,
    interactionId: input.interactionId ?? null,
  };
}

/** True when a normalised patch changes nothing at all. */
export function isEmptyChange(change: NormalisedChange): boolean {
  return (
    Object.keys(change.fields).length === 0 &&
    change.contacts.length === 0 &&
    change.identities.length === 0 &&
    change.removeContacts.length === 0 &&
    change.removeIdentities.length === 0
  );
}

/** The error for a patch that names no field to change. */
export function emptyPatchError(): AppError {
  return invalid(
    'PATCH_EMPTY',
    'Name at least one field to change (a golden-record field, emails, phones, identities or remove…).',
  );
}

/** A position in the list ordered by (created_at, id): the creation time to the microsecond and the id. */
export interface ListPosition {
  /** ISO 8601 with microseconds, as the database keeps it. */
  createdAt: string;
  id: string;
}

/** Encodes a list position as an opaque cursor. */
export function encodeCursor(position: ListPosition | { offset: number }): string {
  const payload = 'offset' in position ? ['o', position.offset] : ['k', position.createdAt, position.id];
  return Buffer.from(JSON.stringify(payload)).toString('base64url');
}

const MICRO_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$/;

/** The error for a cursor this API did not return for this query. */
export function cursorError(message: string): AppError {
  return invalid('CURSOR_INVALID', message, {
    errors: [{ path: 'cursor', message: 'is not a valid cursor' }],
  });
}

/** Decodes a cursor made by `encodeCursor`, or throws CURSOR_INVALID. */
export function decodeCursor(cursor: string): ListPosition | { offset: number } {
  const bad = cursorError('The cursor is not one this API returned; start again without a cursor.');
  let payload: unknown;
  try {
    payload = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    throw bad;
  }
  if (!Array.isArray(payload)) throw bad;
  const [tag, a, b] = payload as unknown[];
  if (tag === 'o' && Number.isSafeInteger(a) && (a as number) >= 0) return { offset: a as number };
  if (tag === 'k' && typeof a === 'string' && MICRO_TIME.test(a) && typeof b === 'string' && isUuid(b)) {
    return { createdAt: a, id: b };
  }
  throw bad;
}

/** What a free-text search query may also be: an email or a phone number, normalised. */
export function classifyQuery(q: string, region: string): { name: string; email?: string; phone?: string } {
  const name = q.normalize('NFC').replace(/\s+/gu, ' ').trim().toLowerCase();
  const out: { name: string; email?: string; phone?: string } = { name };
  if (q.includes('@')) {
    const email = normaliseEmail(q);
    if (email.ok) out.email = email.value;
  }
  if (/^[\d\s()+.-]+$/.test(q.trim()) && (q.match(/\d/g)?.length ?? 0) >= 5) {
    const phone = normalisePhone(q, region);
    if (phone.ok) out.phone = phone.value;
  }
  return out;
}
