import type { Kysely } from 'kysely';
import { type DB, inWorkspace, type Tx } from '../db/index.ts';
import { assertPermitted } from '../shared/access.ts';
import { AppError, conflict, invalid } from '../shared/errors.ts';
import { newId } from '../shared/ids.ts';
import {
  type Actor,
  hashSecret,
  resolveKeyPurposes,
  UNMATCHABLE_SECRET_HASH,
  verifySecret,
} from '../workspaces/index.ts';
import * as repo from './user.repository.ts';
import {
  assertPassword,
  csrfTokenOf,
  formatSessionToken,
  generatePassword,
  hashSessionSecret,
  newSessionSecret,
  normaliseStaffEmail,
  parseSessionToken,
  SESSION_TTL_MS,
  type StaffSession,
  type StaffUser,
  sessionSecretMatches,
  userLabel,
} from './user.ts';

/** Use-cases of staff users and sessions. */

export interface CreatedUser {
  user: StaffUser;
  /** The generated password, shown once; absent when the caller chose it. */
  generatedPassword?: string;
}

/**
 * Creates a staff user with a role and the role's purposes (or fewer). Managing people who can sign in
 * is managing credentials: it takes the permission to create keys. The password is hashed with the same
 * slow hash as API keys; when none is given one is generated and returned once.
 */
export async function createUser(
  tx: Tx,
  actor: Actor,
  input: {
    email: string;
    role: string;
    purposes?: readonly string[] | undefined;
    password?: string | undefined;
  },
): Promise<CreatedUser> {
  assertPermitted(actor, 'keys.create');
  const email = normaliseStaffEmail(input.email);
  if (input.role === 'integration') {
    throw invalid('ROLE_INVALID', 'People sign in with a staff role; integrations use API keys.', {
      role: input.role,
    });
  }
  const { role, purposes } = resolveKeyPurposes(input.role, input.purposes);
  const password = input.password ?? generatePassword();
  assertPassword(password);
  const user = await repo.insertUser(tx, {
    workspaceId: actor.workspaceId,
    id: newId(),
    email,
    role,
    purposes,
    passwordHash: await hashSecret(password),
  });
  if (!user) throw conflict('USER_EXISTS', `A user with the email ${email} already exists.`, { email });
  return input.password === undefined ? { user, generatedPassword: password } : { user };
}

/** The workspace's staff users, never their password hashes. */
export function listUsers(tx: Tx, workspaceId: string): Promise<StaffUser[]> {
  return repo.listUsersOf(tx, workspaceId);
}

/** The actor a staff user acts as: their role and purposes, labelled `user:<id>` in audit and provenance. */
export function actorOfUser(user: StaffUser): Actor {
  return {
    workspaceId: user.workspaceId,
    keyId: null,
    role: user.role,
    purposes: user.purposes,
    label: userLabel(user.id),
  };
}

const LOGIN_FAILED = () =>
  new AppError('unauthenticated', 'LOGIN_FAILED', 'The email or the password is wrong.', {
    errors: [{ path: 'password', message: 'the email or the password is wrong' }],
  });

/**
 * Checks an email and password. The slow hash is computed whether or not the user exists (against a
 * hash nothing matches), so timing does not say which emails have accounts; a disabled user fails
 * like a wrong password. Opens its own short transaction, never holding one across the hash.
 */
export async function verifyLogin(
  db: Kysely<DB>,
  workspaceId: string,
  input: { email: string; password: string },
): Promise<StaffUser> {
  const email = input.email.trim().toLowerCase();
  const found = await inWorkspace(db, workspaceId, (tx) => repo.findUserByEmail(tx, workspaceId, email));
  const matches = await verifySecret(input.password, found?.passwordHash ?? UNMATCHABLE_SECRET_HASH);
  if (!found || !matches || found.disabledAt !== null) throw LOGIN_FAILED();
  const { passwordHash: _hash, ...user } = found;
  return user;
}

/** A started session: the cookie value and the CSRF token the page sends back on every change. */
export interface StartedSession {
  session: StaffSession;
  token: string;
  csrfToken: string;
}

/** Starts a session for a verified user; sessions expired a day ago are removed on the way. */
export async function startSession(
  tx: Tx,
  user: StaffUser,
  now: Date = new Date(),
  ttlMs: number = SESSION_TTL_MS,
): Promise<StartedSession> {
  await repo.deleteExpiredSessions(tx, user.workspaceId, new Date(now.getTime() - 24 * 60 * 60 * 1000));
  const secret = newSessionSecret();
  const session = await repo.insertSession(tx, {
    workspaceId: user.workspaceId,
    id: newId(),
    userId: user.id,
    secretHash: hashSessionSecret(secret),
    expiresAt: new Date(now.getTime() + ttlMs),
  });
  return {
    session,
    token: formatSessionToken(user.workspaceId, session.id, secret),
    csrfToken: csrfTokenOf(secret),
  };
}

/** A presented session that is valid now: the session, its user and its secret (for the CSRF check). */
export interface LiveSession {
  session: StaffSession;
  user: StaffUser;
  secret: string;
}

/**
 * How long a checked session is trusted without reading its row again. Like API keys (KeyVerifier), a
 * session ended or a user disabled by another process takes effect within this time, at once in this
 * process (logout forgets it); the expiry is checked on every request. An agent typing a search sends
 * a request every few hundred milliseconds: most of them skip the session's transaction.
 */
const SESSION_REFRESH_MS = 1000;

interface CachedSession {
  live: LiveSession;
  checkedAt: number;
}
const sessionCaches = new WeakMap<Kysely<DB>, Map<string, CachedSession>>();

function sessionCacheOf(db: Kysely<DB>): Map<string, CachedSession> {
  let cache = sessionCaches.get(db);
  if (!cache) {
    cache = new Map();
    sessionCaches.set(db, cache);
  }
  return cache;
}

/**
 * The live session behind a cookie value, or undefined when it is malformed, unknown, ended, expired,
 * or its user is disabled. One short transaction of one statement (none when this process checked the
 * same cookie within SESSION_REFRESH_MS); the secret is compared with its stored hash.
 */
export async function findLiveSession(
  db: Kysely<DB>,
  token: string,
  now: Date = new Date(),
): Promise<LiveSession | undefined> {
  const cache = sessionCacheOf(db);
  const cached = cache.get(token);
  if (cached && Date.now() - cached.checkedAt < SESSION_REFRESH_MS) {
    if (Date.parse(cached.live.session.expiresAt) > now.getTime()) return cached.live;
  }
  cache.delete(token);
  const parsed = parseSessionToken(token);
  if (!parsed) return undefined;
  const found = await inWorkspace(db, parsed.workspaceId, (tx) =>
    repo.findSessionWithUser(tx, parsed.workspaceId, parsed.sessionId),
  );
  if (!found) return undefined;
  const { session, user } = found;
  if (!sessionSecretMatches(parsed.secret, session.secretHash)) return undefined;
  if (session.endedAt !== null || Date.parse(session.expiresAt) <= now.getTime()) return undefined;
  if (user.disabledAt !== null) return undefined;
  const { secretHash: _hash, ...rest } = session;
  const live = { session: rest, user, secret: parsed.secret };
  if (cache.size > 10_000) cache.clear();
  cache.set(token, { live, checkedAt: Date.now() });
  return live;
}

/** Forgets a session this process trusted (after a logout), so its cookie is refused at once. */
export function forgetSession(db: Kysely<DB>, sessionId: string): void {
  const cache = sessionCacheOf(db);
  for (const [token, entry] of cache) if (entry.live.session.id === sessionId) cache.delete(token);
}

/** Ends a session (logout); ending it twice is harmless. */
export async function endSession(tx: Tx, session: StaffSession): Promise<void> {
  await repo.markSessionEnded(tx, session.workspaceId, session.id);
}
