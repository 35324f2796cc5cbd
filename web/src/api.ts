import createClient, { type Client, type Middleware } from 'openapi-fetch';
import type { components, paths } from '../generated/schema';

/**
 * The only way the pages talk to the server: a client typed by the OpenAPI document the server
 * serves (generated at build time into web/generated). Staff pages authenticate by their HttpOnly
 * session cookie and send the session's CSRF token on every change; the portal sends its link.
 */

export type Api = Client<paths>;
export type ApiError = components['schemas']['Error']['error'];

/** The error of a failed call, or a network failure in the same shape. */
export function errorOf(error: unknown): ApiError {
  if (error && typeof error === 'object' && 'error' in error) {
    const inner = (error as { error: unknown }).error;
    if (inner && typeof inner === 'object' && 'code' in inner && 'message' in inner) return inner as ApiError;
  }
  return { code: 'NETWORK', message: 'The server could not be reached; try again.' };
}

/** The message of a field's error in an error's details (`details.errors[].path`), if any. */
export function fieldError(error: ApiError | undefined, path: string): string | undefined {
  const errors = (error?.details as { errors?: { path?: string; message?: string }[] } | undefined)?.errors;
  return errors?.find((e) => e.path === path)?.message;
}

let csrfToken: string | undefined;
let onSessionExpired: (() => void) | undefined;

/** Remembers the session's CSRF token (kept in memory only, never in storage). */
export function setCsrfToken(token: string | undefined): void {
  csrfToken = token;
}

/** Called when a call answers 401 because the session ended. */
export function whenSessionExpires(fn: () => void): void {
  onSessionExpired = fn;
}

const staffMiddleware: Middleware = {
  onRequest({ request }) {
    if (csrfToken && request.method !== 'GET' && request.method !== 'HEAD') {
      request.headers.set('x-csrf-token', csrfToken);
    }
    return request;
  },
  onResponse({ request, response }) {
    if (response.status === 401 && !request.url.endsWith('/v1/sessions')) onSessionExpired?.();
    return response;
  },
};

/** The staff pages' client (cookie session, CSRF header). */
export function staffClient(): Api {
  const client = createClient<paths>({ baseUrl: location.origin, credentials: 'same-origin' });
  client.use(staffMiddleware);
  return client;
}

/** The portal's client: every call carries the customer's link. */
export function portalClient(token: string): Api {
  return createClient<paths>({
    baseUrl: location.origin,
    credentials: 'omit',
    headers: { authorization: `Portal ${token}` },
  });
}

/** What each intimacy level means, in plain words (SPEC §6), shown to staff and customers alike. */
export const INTIMACY_LEVELS = [
  {
    level: 0,
    name: 'Just the transaction',
    remember: 'only what delivery, billing and the law need',
    contact: 'messages about your orders only',
  },
  {
    level: 1,
    name: 'Know my basics',
    remember: 'your stated preferences: language, channel, receipt, sizes',
    contact: 'service messages',
  },
  {
    level: 2,
    name: 'Remember the little things',
    remember: 'personal details you tell us (names, hobbies, dates)',
    contact: 'reminders of dates you asked us to remember',
  },
  {
    level: 3,
    name: 'Reach out when it matters',
    remember: 'also life events you tell us about',
    contact: 'a caring note when something happens, rarely',
  },
  {
    level: 4,
    name: 'Treat me like a regular',
    remember: 'also what we notice, always asked before we use it',
    contact: 'suggestions, each saying why you see it',
  },
] as const;

/** Plain words for a withheld field's reason code. */
export function reasonInWords(reason: string): string {
  const words: Record<string, string> = {
    CONSENT_REQUIRED: 'no consent for this purpose',
    CONSENT_WITHDRAWN: 'consent withdrawn',
    CONSENT_EXPIRED: 'consent expired',
    EXPLICIT_OPT_IN_REQUIRED: 'needs an explicit opt-in',
    PROCESSING_RESTRICTED: 'processing restricted by the customer',
    OBJECTED: 'the customer objected to this purpose',
    INTIMACY_TOO_LOW: 'the customer’s intimacy level is too low',
    INTIMACY_LOWERED: 'the customer lowered their intimacy level since',
    FACT_STALE: 'past its expiry: not used for outreach',
    FACT_NOT_FOR_PURPOSE: 'not for this purpose',
    SPECIAL_CATEGORY: 'special category: needs explicit consent',
    INFERRED_NOT_USABLE: 'inferred, not declared',
    PSEUDONYMISED: 'direct identifiers are hidden for this purpose',
    DO_NOT_STORE: 'never stored',
  };
  return words[reason] ?? reason.toLowerCase().replaceAll('_', ' ');
}
