import { parsePhoneNumberFromString } from 'libphonenumber-js';
import { type AppError, type FieldProblem, invalid } from '../shared/errors.ts';

/**
 * Normalisers of what people type about themselves: emails, phones, names, birth dates and languages.
 * Pure and idempotent (normalising a normalised value changes nothing), so the same person typed twice
 * by two systems lands on the same stored value. Each either returns the normalised value or a problem
 * at a JSON path; `assert…` variants throw an `invalid` AppError instead.
 */

/** A normalised value, or the problem that prevented it. */
export type Normalised<T> = { ok: true; value: T } | { ok: false; code: string; problem: FieldProblem };

function fail<T>(code: string, path: string, message: string): Normalised<T> {
  return { ok: false, code, problem: { path, message } };
}

/** Turns a failed normalisation into the AppError callers throw or report. */
export function problemError(code: string, problems: readonly FieldProblem[]): AppError {
  const first = problems[0];
  return invalid(code, first ? `${first.path} ${first.message}` : 'The input is invalid.', {
    errors: problems,
  });
}

/** Returns the value or throws the `invalid` AppError describing why it could not be normalised. */
export function unwrap<T>(result: Normalised<T>): T {
  if (result.ok) return result.value;
  throw problemError(result.code, [result.problem]);
}

const EMAIL_MAX = 254;
const LOCAL_PART = /^[\p{L}\p{N}!#$%&'*+/=?^_`{|}~-]+(\.[\p{L}\p{N}!#$%&'*+/=?^_`{|}~-]+)*$/u;
const DOMAIN_LABEL = /^[\p{L}\p{N}]([\p{L}\p{N}-]{0,61}[\p{L}\p{N}])?$/u;

/** Trims, lower-cases and validates an email address (`local@domain.tld`). */
export function normaliseEmail(input: string, path = 'email'): Normalised<string> {
  const value = input.normalize('NFC').trim().toLowerCase();
  const at = value.lastIndexOf('@');
  const local = value.slice(0, at);
  const labels = value.slice(at + 1).split('.');
  const valid =
    at > 0 &&
    value.length <= EMAIL_MAX &&
    local.length <= 64 &&
    LOCAL_PART.test(local) &&
    labels.length >= 2 &&
    labels.every((label) => DOMAIN_LABEL.test(label)) &&
    /^\p{L}{2,}$/u.test(labels[labels.length - 1] ?? '');
  if (!valid) {
    return fail(
      'EMAIL_INVALID',
      path,
      `is not a valid email address (got "${input}"); expected name@example.com.`,
    );
  }
  return { ok: true, value };
}

/**
 * Reads a phone number, written with a country code (+44 …) or without one (read in `defaultRegion`),
 * into E.164 (`+14155552671`). A number that cannot possibly exist (wrong length) is refused.
 */
export function normalisePhone(input: string, defaultRegion: string, path = 'phone'): Normalised<string> {
  const region = defaultRegion.toUpperCase() as Parameters<typeof parsePhoneNumberFromString>[1];
  const parsed = input.length <= 64 ? parsePhoneNumberFromString(input.trim(), region) : undefined;
  if (!parsed?.isPossible()) {
    return fail(
      'PHONE_INVALID',
      path,
      `is not a possible phone number (got "${input}"); write it with its country code, e.g. +14155552671, or as dialled in ${defaultRegion}.`,
    );
  }
  return { ok: true, value: parsed.number };
}

/** Trims a name and collapses its inner whitespace to single spaces; an empty name is no name (null). */
export function normaliseName(input: string): string | null {
  const value = input.normalize('NFC').replace(/\s+/gu, ' ').trim();
  return value === '' ? null : value;
}

const DATE = /^(\d{4})-(\d{2})-(\d{2})$/;

/** Validates a birth date: a real calendar date written YYYY-MM-DD, from 1850 on and not in the future. */
export function normaliseBirthDate(
  input: string,
  path = 'birthDate',
  today: Date = new Date(),
): Normalised<string> {
  const value = input.trim();
  const match = DATE.exec(value);
  const problem = `is not a valid birth date (got "${input}"); expected a real calendar date YYYY-MM-DD.`;
  if (!match) return fail('BIRTH_DATE_INVALID', path, problem);
  const [year, month, day] = [Number(match[1]), Number(match[2]), Number(match[3])];
  const date = new Date(Date.UTC(year, month - 1, day));
  if (date.getUTCFullYear() !== year || date.getUTCMonth() !== month - 1 || date.getUTCDate() !== day) {
    return fail('BIRTH_DATE_INVALID', path, problem);
  }
  // A day of slack: a customer's "today" may already be tomorrow in UTC.
  if (year < 1850 || date.getTime() > today.getTime() + 86_400_000) {
    return fail('BIRTH_DATE_INVALID', path, `is not a plausible birth date (got "${input}").`);
  }
  return { ok: true, value };
}

const LANGUAGE_TAG = /^[a-z]{2,3}(-[a-z]{4})?(-([a-z]{2}|\d{3}))?$/i;

/** Canonicalises a language tag: language, optional script and region (`en`, `es-MX`, `zh-Hant-TW`). */
export function normaliseLanguage(input: string, path = 'language'): Normalised<string> {
  const value = input.trim().replaceAll('_', '-');
  const message = `is not a language tag (got "${input}"); expected e.g. "en", "es-MX" or "zh-Hant-TW".`;
  if (!LANGUAGE_TAG.test(value)) return fail('LANGUAGE_INVALID', path, message);
  try {
    const [canonical] = Intl.getCanonicalLocales(value);
    if (canonical === undefined || !LANGUAGE_TAG.test(canonical))
      return fail('LANGUAGE_INVALID', path, message);
    return { ok: true, value: canonical };
  } catch {
    return fail('LANGUAGE_INVALID', path, message);
  }
}

const IDENTITY_PART_MAX = 255;

/** Validates one part of an external identity (source system or external id): trimmed, 1–255 characters. */
export function normaliseIdentityPart(input: string, path: string): Normalised<string> {
  const value = input.trim();
  if (value === '' || value.length > IDENTITY_PART_MAX) {
    return fail('IDENTITY_INVALID', path, `must be 1–${IDENTITY_PART_MAX} characters (got "${input}").`);
  }
  return { ok: true, value };
}

/** A postal address as given and as read: lines, town, optional region, postcode, ISO 3166 country. */
export interface PostalAddress {
  line1: string;
  line2?: string;
  city: string;
  region?: string;
  postcode: string;
  /** ISO 3166-1 alpha-2, upper case: `GB`, `US`. */
  country: string;
}

const ADDRESS_PART_MAX = 200;

function addressPart(raw: unknown): string {
  return typeof raw === 'string' ? raw.normalize('NFC').replace(/\s+/gu, ' ').trim() : '';
}

/**
 * Validates a postal address and returns its canonical stored form: every part trimmed with inner
 * whitespace collapsed, the postcode upper-cased, the country as an upper-case ISO 3166 alpha-2 code,
 * empty optional parts left out, serialised as JSON in a fixed key order, so the same address typed
 * twice is one value. `line1`, `city` and `country` are required; `postcode` may be empty where a
 * country has none.
 */
export function normalisePostalAddress(input: unknown, path = 'address'): Normalised<string> {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) {
    return fail(
      'ADDRESS_INVALID',
      path,
      'is not an address object {line1, line2?, city, region?, postcode, country}.',
    );
  }
  const raw = input as Record<string, unknown>;
  const address = {
    line1: addressPart(raw.line1),
    line2: addressPart(raw.line2),
    city: addressPart(raw.city),
    region: addressPart(raw.region),
    postcode: addressPart(raw.postcode).toUpperCase(),
    country: addressPart(raw.country).toUpperCase(),
  };
  for (const part of ['line1', 'city'] as const) {
    if (address[part] === '') return fail('ADDRESS_INVALID', `${path}.${part}`, 'must not be empty.');
  }
  if (!/^[A-Z]{2}$/.test(address.country)) {
    return fail(
      'ADDRESS_INVALID',
      `${path}.country`,
      `must be an ISO 3166 two-letter country code such as "GB" (got "${String(raw.country ?? '')}").`,
    );
  }
  for (const [part, value] of Object.entries(address)) {
    if (value.length > ADDRESS_PART_MAX) {
      return fail('ADDRESS_INVALID', `${path}.${part}`, `must be at most ${ADDRESS_PART_MAX} characters.`);
    }
  }
  const canonical: PostalAddress = {
    line1: address.line1,
    ...(address.line2 === '' ? {} : { line2: address.line2 }),
    city: address.city,
    ...(address.region === '' ? {} : { region: address.region }),
    postcode: address.postcode,
    country: address.country,
  };
  return { ok: true, value: JSON.stringify(canonical) };
}

/** The address of a stored `address` contact point (its canonical form, see `normalisePostalAddress`). */
export function parsePostalAddress(value: string): PostalAddress {
  return JSON.parse(value) as PostalAddress;
}
