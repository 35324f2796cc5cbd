import { isSupportedCountry } from 'libphonenumber-js';
import { ADMIN_ROLES, isPurpose, isRole, type Purpose, ROLE_PURPOSES, type Role } from '../shared/access.ts';
import { invalid } from '../shared/errors.ts';
import { isCurrencyCode } from '../shared/money.ts';

/** Workspaces, their settings and API keys: types and pure rules. */

export interface Workspace {
  id: string;
  name: string;
  settings: WorkspaceSettings;
  /** The workspace's additions to the data taxonomy and its audited overrides (see policy/). */
  policy: WorkspacePolicy;
  createdAt: string;
}

/** What a workspace does with a payload carrying a do-not-store category (SPEC §5.1). */
export type DoNotStoreMode = 'reject' | 'strip';

/** The workspace's own categories, purposes and overrides, stored as given; policy/ validates them. */
export interface WorkspacePolicy {
  categories: unknown[];
  purposes: unknown[];
  overrides: unknown[];
}

export interface WorkspaceSettings {
  /** ISO 3166 region used to read phone numbers written without a country code. */
  defaultRegion: string;
  /** Whether an interaction naming an unknown identity creates the customer (otherwise it is rejected). */
  autoCreateCustomers: boolean;
  /** reject: the item is refused with POLICY_DO_NOT_STORE; strip: stored without the field, and said so. */
  doNotStore: DoNotStoreMode;
  /**
   * A reference by email or phone links to the customer holding that value verified, before any older
   * customer holding it unverified; off: to the oldest holder, verified or not.
   */
  linkVerifiedContacts: boolean;
  /** Source systems from most to least trusted: which value survives a merge (unlisted sources rank last). */
  sourceTrust: string[];
  /** Purchases and returns dated before this day (`YYYY-MM-DD`, UTC) are refused with PURCHASE_TOO_OLD. */
  earliestPurchaseDate: string;
  /**
   * The ISO 4217 currency value profiles are computed in; null: the currency most of the workspace's
   * purchases are in. Amounts in other currencies count only through `exchangeRates`, never summed as is.
   */
  valueCurrency: string | null;
  /** Units of `valueCurrency` one unit of another currency is worth (`{"GBP": 1.27}`), set by the workspace. */
  exchangeRates: Record<string, number>;
  /**
   * The value clock: the instant value profiles are scored as of (ISO 8601, UTC), or null for the time
   * of each refit or update. A fixed clock looks at data that ends in the past (an import of history,
   * a demo world) as of its end; purchases after it are not read.
   */
  valueAsOf: string | null;
  /** Days a privacy request (access, erasure, …) must be answered within, counted from its receipt (SPEC §5.4). */
  privacyRequestDays: number;
}

/** The default legal deadline of a privacy request, in days. */
export const DEFAULT_PRIVACY_REQUEST_DAYS = 30;

/** A privacy request deadline of 1 to 365 days, or PRIVACY_REQUEST_DAYS_INVALID. */
export function normalisePrivacyRequestDays(value: number): number {
  if (!Number.isInteger(value) || value < 1 || value > 365) {
    throw invalid(
      'PRIVACY_REQUEST_DAYS_INVALID',
      'privacyRequestDays is a whole number of days from 1 to 365.',
      {
        errors: [{ path: 'privacyRequestDays', message: 'must be an integer from 1 to 365' }],
      },
    );
  }
  return value;
}

/** The default earliest purchase date. */
export const DEFAULT_EARLIEST_PURCHASE_DATE = '1970-01-01';

const ISO_DATE = /^(\d{4})-(\d\d)-(\d\d)$/;

/** Validates an earliest purchase date: a real day from 1900-01-01 to today, `YYYY-MM-DD`. */
export function normaliseEarliestPurchaseDate(value: string, now: Date = new Date()): string {
  const m = ISO_DATE.exec(value.trim());
  const ms = m ? Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3])) : Number.NaN;
  const real = m !== null && new Date(ms).toISOString().slice(0, 10) === m[0];
  if (!real || ms < Date.UTC(1900, 0, 1) || ms > now.getTime()) {
    throw invalid(
      'EARLIEST_PURCHASE_DATE_INVALID',
      'earliestPurchaseDate is a day written YYYY-MM-DD, from 1900-01-01 to today.',
      {
        errors: [
          { path: 'earliestPurchaseDate', message: 'must be a date YYYY-MM-DD from 1900-01-01 to today' },
        ],
      },
    );
  }
  return m[0];
}

/** Validates the value currency: a current ISO 4217 code, or null (the workspace's main currency). */
export function normaliseValueCurrency(value: string | null): string | null {
  if (value === null) return null;
  if (!isCurrencyCode(value)) {
    throw invalid(
      'CURRENCY_INVALID',
      `"${value}" is not a current ISO 4217 currency code (e.g. EUR, USD, GBP).`,
      {
        errors: [{ path: 'valueCurrency', message: 'must be a current ISO 4217 currency code' }],
      },
    );
  }
  return value;
}

/**
 * Validates an exchange-rate table against its value currency: at most 200 current ISO 4217 codes
 * other than the value currency, each worth a positive number of value-currency units with at most 15
 * significant digits (the rate is applied exactly, in the database).
 */
export function normaliseExchangeRates(
  rates: Readonly<Record<string, number>>,
  valueCurrency: string | null,
): Record<string, number> {
  const entries = Object.entries(rates);
  const errors: { path: string; message: string }[] = [];
  if (entries.length > 0 && valueCurrency === null) {
    errors.push({ path: 'valueCurrency', message: 'must be set for exchangeRates to convert into it' });
  }
  if (entries.length > 200) errors.push({ path: 'exchangeRates', message: 'must have at most 200 rates' });
  for (const [code, rate] of entries) {
    const path = `exchangeRates.${code}`;
    if (!isCurrencyCode(code)) errors.push({ path, message: 'must be a current ISO 4217 currency code' });
    else if (code === valueCurrency) errors.push({ path, message: 'is the value currency itself' });
    if (typeof rate !== 'number' || !(rate > 0) || !Number.isFinite(rate))
      errors.push({ path, message: 'must be a positive number' });
    else if (String(rate).includes('e') || String(rate).replace('.', '').replace(/^0+/, '').length > 15)
      errors.push({ path, message: 'must have at most 15 significant digits, written without an exponent' });
  }
  if (errors.length > 0) {
    throw invalid(
      'EXCHANGE_RATES_INVALID',
      'exchangeRates maps ISO 4217 codes to the positive number of valueCurrency units one unit is worth, e.g. {"GBP": 1.27} with valueCurrency USD.',
      { errors },
    );
  }
  return Object.fromEntries(entries.sort(([a], [b]) => (a < b ? -1 : 1)));
}

/** The default trust order of sources: a correction, a checked document, the customer's own word, billing. */
export const DEFAULT_SOURCE_TRUST: readonly string[] = [
  'rectification',
  'document',
  'portal',
  'billing',
  'api',
];

/** Validates a source trust order: 0–50 distinct, non-empty source names of at most 100 characters. */
export function normaliseSourceTrust(sources: readonly string[]): string[] {
  const out: string[] = [];
  for (const raw of sources) {
    const source = raw.trim();
    if (source.length === 0 || source.length > 100) {
      throw invalid('SOURCE_TRUST_INVALID', 'Each source in sourceTrust is 1–100 characters.', {
        source: raw,
      });
    }
    if (!out.includes(source)) out.push(source);
  }
  if (out.length > 50) {
    throw invalid('SOURCE_TRUST_INVALID', 'sourceTrust names at most 50 sources.', { count: out.length });
  }
  return out;
}

/**
 * Validates a value clock: null, or an ISO 8601 date (midnight UTC) or date-time not in the future
 * (`now`); returns it as a UTC date-time.
 */
export function normaliseValueAsOf(value: string | null, now: Date): string | null {
  if (value === null) return null;
  const dateOnly = /^\d{4}-\d{2}-\d{2}$/.test(value);
  const ms = Date.parse(dateOnly ? `${value}T00:00:00Z` : value);
  // The engine rolls 2025-02-30 over into March: a real date reads back as written.
  const real = dateOnly ? Number.isFinite(ms) && new Date(ms).toISOString().startsWith(value) : true;
  if (!Number.isFinite(ms) || !real || !/^\d{4}-\d{2}-\d{2}/.test(value)) {
    throw invalid('VALUE_AS_OF_INVALID', 'valueAsOf is an ISO 8601 date or date-time, or null for now.', {
      errors: [{ path: 'valueAsOf', message: 'must be an ISO 8601 date or date-time, or null' }],
    });
  }
  if (ms > now.getTime()) {
    throw invalid(
      'VALUE_AS_OF_INVALID',
      'valueAsOf may not be in the future: profiles score purchases up to it.',
      {
        errors: [{ path: 'valueAsOf', message: 'must not be in the future' }],
      },
    );
  }
  return new Date(ms).toISOString();
}

export interface ApiKeyInfo {
  id: string;
  workspaceId: string;
  name: string;
  role: Role;
  purposes: Purpose[];
  createdAt: string;
  revokedAt: string | null;
  lastUsedAt: string | null;
}

/** Who is calling: the verified key behind a request or a CLI operator acting on a workspace. */
export interface Actor {
  workspaceId: string;
  keyId: string | null;
  role: Role;
  purposes: readonly Purpose[];
  /** What provenance records as "captured by". */
  label: string;
}

const WORKSPACE_NAME = /^[a-z0-9][a-z0-9_-]{0,62}$/;

/** Validates a workspace name: lower-case letters, digits, '-' and '_', at most 63 characters. */
export function assertWorkspaceName(name: string): void {
  if (!WORKSPACE_NAME.test(name)) {
    throw invalid(
      'WORKSPACE_NAME_INVALID',
      'A workspace name is 1–63 characters of lower-case letters, digits, "-" and "_", starting with a letter or digit.',
      { name },
    );
  }
}

/** Validates and upper-cases a phone region (ISO 3166 alpha-2). */
export function normaliseRegion(region: string): string {
  const upper = region.trim().toUpperCase();
  if (!isSupportedCountry(upper)) {
    throw invalid(
      'REGION_INVALID',
      `"${region}" is not a supported ISO 3166 region code (for example US, GB, DE).`,
      {
        region,
      },
    );
  }
  return upper;
}

/**
 * The purposes a new key gets: those asked for (each must be one the role may use), or all of the role's.
 * An integration key must name its purposes.
 */
export function resolveKeyPurposes(
  role: string,
  requested: readonly string[] | undefined,
): { role: Role; purposes: Purpose[] } {
  if (!isRole(role)) {
    throw invalid('ROLE_INVALID', `Unknown role "${role}".`, { role, allowed: Object.keys(ROLE_PURPOSES) });
  }
  const allowed = ROLE_PURPOSES[role];
  if (requested === undefined || requested.length === 0) {
    if (role === 'integration') {
      throw invalid(
        'PURPOSES_REQUIRED',
        'An integration key must name the purposes it may use (--purposes a,b).',
        {
          allowed,
        },
      );
    }
    return { role, purposes: [...allowed] };
  }
  const purposes: Purpose[] = [];
  for (const purpose of requested) {
    if (!isPurpose(purpose))
      throw invalid('PURPOSE_INVALID', `Unknown purpose "${purpose}".`, { purpose, allowed });
    if (!allowed.includes(purpose)) {
      throw invalid('PURPOSE_NOT_ALLOWED_FOR_ROLE', `Role "${role}" may not use purpose "${purpose}".`, {
        role,
        purpose,
        allowed,
      });
    }
    if (!purposes.includes(purpose)) purposes.push(purpose);
  }
  return { role, purposes };
}

/** True when the actor may manage the workspace (keys, settings). */
export function isAdmin(actor: Actor): boolean {
  return ADMIN_ROLES.includes(actor.role);
}
