import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Kysely } from 'kysely';
import type { DB } from '../db/index.ts';
import { type PortalGrant, verifyPortalToken } from '../portal/index.ts';
import { AppError } from '../shared/errors.ts';
import { actorOfUser, csrfTokenMatches, findLiveSession, type LiveSession } from '../users/index.ts';
import type { Actor, KeyVerifier, ParsedApiKey } from '../workspaces/index.ts';
import { pathOf } from './logging.ts';

/**
 * Authentication of the HTTP API: every route but the public ones (health, readiness, the API
 * document) needs `Authorization: Bearer <key>`. Which routes are public is decided on the route the
 * router matched — the decoded path — never on the raw URL, so `/%761/workspace` is authenticated like
 * `/v1/workspace`; a path no route matches is authenticated when it would lie under `/v1` once decoded.
 *
 * A failed authentication costs the server one slow hash, so failures are counted per client address
 * and per key id, and once either reaches its limit within a minute the next attempt that would need a
 * slow hash is refused (429 AUTH_RATE_LIMITED with Retry-After) before the hash is computed. A key this
 * process has already verified is answered from its cache without a hash and is never refused by
 * these limits, so a client sharing an address with an attacker keeps working.
 */

/** Routes anyone may call: health, readiness, the API document and the staff login. */
const PUBLIC_ROUTES = new Set(['/health', '/ready', '/openapi.json', '/docs', '/v1/sessions']);

/** Outside `/v1` everything is public: the web pages and their assets, the documentation. */
function isPublicRoute(route: string): boolean {
  return PUBLIC_ROUTES.has(route) || !route.startsWith('/v1');
}

/**
 * A request path at its most decoded: percent-decoded until it stops changing (a double-encoded
 * `/%2576%2531` reads `/v1`, in case anything downstream decodes once more), duplicate slashes
 * collapsed, lower case.
 */
export function normalisedPath(url: string): string {
  let path = pathOf(url);
  for (let round = 0; round < 4 && path.includes('%'); round++) {
    try {
      path = decodeURIComponent(path);
    } catch {
      break; // A malformed escape: judge what was decoded so far.
    }
  }
  return path.replace(/\/{2,}/g, '/').toLowerCase();
}

/** True when the request must present an API key. */
export function requiresApiKey(request: FastifyRequest): boolean {
  const route = request.routeOptions.url;
  if (route !== undefined) return !isPublicRoute(route);
  const path = normalisedPath(request.url);
  return path === '/v1' || path.startsWith('/v1/');
}

/**
 * Counts failures per key (a client address, a key id) in fixed windows and says how long a key must
 * wait once it reached the limit. Bounded in memory: expired entries are dropped first, then the oldest.
 * An attempt is counted when it starts (so a burst of concurrent attempts cannot all pass the check
 * before the first fails) and forgiven when it succeeds.
 */
export class FailureLimiter {
  private readonly entries = new Map<string, { count: number; resetAt: number }>();

  constructor(
    private readonly max: number,
    private readonly windowMs: number,
    private readonly capacity = 100_000,
  ) {}

  /** Milliseconds until `key` may try again, or 0 when it may now. */
  waitFor(key: string, now = Date.now()): number {
    const entry = this.entries.get(key);
    if (!entry || entry.resetAt <= now || entry.count < this.max) return 0;
    return entry.resetAt - now;
  }

  /** Counts one failure of `key`. */
  recordFailure(key: string, now = Date.now()): void {
    const entry = this.entries.get(key);
    if (entry && entry.resetAt > now) {
      entry.count += 1;
      return;
    }
    this.entries.delete(key);
    if (this.entries.size >= this.capacity) this.evict(now);
    this.entries.set(key, { count: 1, resetAt: now + this.windowMs });
  }

  /** Takes back one counted failure of `key` (the attempt succeeded). */
  forgive(key: string, now = Date.now()): void {
    const entry = this.entries.get(key);
    if (entry && entry.resetAt > now && entry.count > 0) entry.count -= 1;
  }

  private evict(now: number): void {
    for (const [key, entry] of this.entries) if (entry.resetAt <= now) this.entries.delete(key);
    for (const key of this.entries.keys()) {
      if (this.entries.size < this.capacity) break;
      this.entries.delete(key);
    }
  }
}

export interface AuthenticationOptions {
  /** Failed authentications allowed per client address and per key id within a minute. */
  failuresPerMinute: number;
}

const WINDOW_MS = 60_000;

function bearerToken(request: FastifyRequest): string {
  const match = request.headers.authorization?.match(/^Bearer\s+(\S+)\s*$/i);
  if (!match?.[1]) {
    throw new AppError(
      'unauthenticated',
      'UNAUTHENTICATED',
      'Send an API key as "Authorization: Bearer <key>".',
    );
  }
  return match[1];
}

declare module 'fastify' {
  interface FastifyRequest {
    /** The staff session a browser request was authenticated by. */
    staffSession?: LiveSession;
    /** The portal grant a customer's request was authenticated by: one customer, until it expires. */
    portalGrant?: PortalGrant;
  }
}

/** The name of the staff session cookie. */
export const SESSION_COOKIE = 'cornerstore_session';

/** Methods that change nothing; every other method needs the session's CSRF token. */
const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/**
 * The routes a portal link opens, each for the grant's customer only (`:id`): what we hold and its
 * history, consents, privacy state, disclosures and the access log; recording a consent, choosing the
 * intimacy level, restriction and objection, correcting a field, the recipients holding their data and
 * making a privacy request; and opening the portal session.
 */
const PORTAL_ROUTES = new Set([
  'POST /v1/portal/session',
  'GET /v1/customers/:id',
  'GET /v1/customers/:id/history',
  'GET /v1/customers/:id/consents',
  'POST /v1/customers/:id/consents',
  'GET /v1/customers/:id/privacy',
  'PUT /v1/customers/:id/intimacy',
  'POST /v1/customers/:id/privacy-flags',
  'GET /v1/customers/:id/disclosures',
  'GET /v1/customers/:id/access-log',
  'GET /v1/customers/:id/timeline',
  'POST /v1/customers/:id/rectify',
  'GET /v1/customers/:id/recipients',
  'POST /v1/privacy-requests',
]);

/**
 * The actor of a customer in their portal: the privacy office's rights (purpose `legal`: the
 * customer's right of access and rectification), confined by the adapter to their own record and
 * recorded in the audit chain as `customer:<id>`.
 */
export function portalActor(grant: PortalGrant): Actor {
  return {
    workspaceId: grant.workspaceId,
    keyId: null,
    role: 'privacy_officer',
    purposes: ['legal'],
    label: `customer:${grant.customerId}`,
  };
}

/** Authenticates a portal request and confines it to the grant's customer and the portal's routes. */
async function authenticatePortal(db: Kysely<DB>, request: FastifyRequest, token: string): Promise<void> {
  const grant = await verifyPortalToken(db, token);
  const route = `${request.method} ${request.routeOptions.url ?? ''}`;
  const id = (request.params as { id?: unknown } | undefined)?.id;
  // A privacy request names its customer in the body: the request's service confines it to the grant's.
  const ownRecord =
    route === 'POST /v1/portal/session' || route === 'POST /v1/privacy-requests' || id === grant.customerId;
  if (!PORTAL_ROUTES.has(route) || !ownRecord) {
    throw new AppError(
      'forbidden',
      'PORTAL_LINK_SCOPE',
      'A portal link opens only its own customer’s data, and only the portal’s pages.',
    );
  }
  request.portalGrant = grant;
  request.actor = portalActor(grant);
}

/** Authenticates a request by its staff session cookie; a change needs the session's CSRF token. */
async function authenticateSession(db: Kysely<DB>, request: FastifyRequest, cookie: string): Promise<void> {
  const live = await findLiveSession(db, cookie);
  if (!live) {
    throw new AppError(
      'unauthenticated',
      'SESSION_EXPIRED',
      'Your session has ended or expired; sign in again.',
    );
  }
  if (!SAFE_METHODS.has(request.method)) {
    const header = request.headers['x-csrf-token'];
    if (!csrfTokenMatches(live.secret, Array.isArray(header) ? header[0] : header)) {
      throw new AppError(
        'forbidden',
        'CSRF_TOKEN_INVALID',
        'This change was not sent by a Cornerstore page of your session (missing or wrong X-CSRF-Token).',
      );
    }
  }
  request.staffSession = live;
  request.actor = actorOfUser(live.user);
}

/**
 * Registers the authentication hook: sets `request.actor` on every route that is not public. An
 * `Authorization: Bearer` API key is checked first (the API is unchanged); `Authorization: Portal`
 * carries a customer's portal link; without an Authorization header, a staff session cookie.
 */
export function registerAuthentication(
  app: FastifyInstance,
  deps: { db: Kysely<DB>; keys: KeyVerifier },
  options: AuthenticationOptions,
): void {
  const { keys } = deps;
  const byAddress = new FailureLimiter(options.failuresPerMinute, WINDOW_MS);
  const byKey = new FailureLimiter(options.failuresPerMinute, WINDOW_MS);
  const keyOf = (key: ParsedApiKey) => `${key.workspaceId}.${key.keyId}`;

  app.addHook('onRequest', async (request, reply) => {
    if (!requiresApiKey(request)) return;
    const authorization = request.headers.authorization;
    const portal = authorization?.match(/^Portal\s+(\S+)\s*$/i)?.[1];
    if (portal !== undefined) return authenticatePortal(deps.db, request, portal);
    const cookie = request.cookies?.[SESSION_COOKIE];
    if (authorization === undefined && cookie) return authenticateSession(deps.db, request, cookie);
    const token = bearerToken(request);
    let counted: string | undefined;
    const actor = await keys.authenticate(token, {
      beforeSlowHash: (key) => {
        const waitMs = Math.max(byAddress.waitFor(request.ip), byKey.waitFor(keyOf(key)));
        if (waitMs > 0) {
          const retryAfter = Math.ceil(waitMs / 1000);
          reply.header('retry-after', String(retryAfter));
          throw new AppError(
            'rate_limited',
            'AUTH_RATE_LIMITED',
            `Too many failed authentications from this address or for this key; retry after ${retryAfter} s.`,
            { retryAfter },
          );
        }
        // Counted as failed until it succeeds: concurrent guesses see each other.
        counted = keyOf(key);
        byAddress.recordFailure(request.ip);
        byKey.recordFailure(counted);
      },
    });
    if (actor) {
      if (counted !== undefined) {
        byAddress.forgive(request.ip);
        byKey.forgive(counted);
      }
      request.actor = actor;
      return;
    }
    throw new AppError('unauthenticated', 'API_KEY_INVALID', 'The API key is unknown or revoked.');
  });
}
