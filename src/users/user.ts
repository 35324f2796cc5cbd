import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Purpose, Role } from '../shared/access.ts';
import { invalid } from '../shared/errors.ts';

/**
 * Staff users and their browser sessions: types and pure rules. A session token reads
 * `<workspace id>.<session id>.<secret>`: the ids find the row without looking across workspaces (as
 * API keys do), the secret is compared with its stored SHA-256 hash. The CSRF token of a session is an
 * HMAC of the session's secret, so it needs no storage and is worthless without the cookie.
 */

export interface StaffUser {
  id: string;
  workspaceId: string;
  email: string;
  role: Role;
  purposes: Purpose[];
  createdAt: string;
  disabledAt: string | null;
}

/** A session as the server keeps it. */
export interface StaffSession {
  id: string;
  workspaceId: string;
  userId: string;
  createdAt: string;
  expiresAt: string;
  endedAt: string | null;
}

/** How long a session lasts from login: a working day. */
export const SESSION_TTL_MS = 10 * 60 * 60 * 1000;

/** Shortest password accepted. */
export const MIN_PASSWORD_LENGTH = 12;

const EMAIL = /^[^\s@]{1,64}@[^\s@]{1,190}\.[^\s@]{2,63}$/;

/** Lower-cases and checks a staff email. */
export function normaliseStaffEmail(email: string): string {
  const value = email.trim().toLowerCase();
  if (!EMAIL.test(value)) {
    throw invalid('USER_EMAIL_INVALID', `"${email}" is not an email address (name@example.com).`, {
      errors: [{ path: 'email', message: 'must be an email address' }],
    });
  }
  return value;
}

/** Refuses a password that is too short or too long to hash. */
export function assertPassword(password: string): void {
  if (password.length < MIN_PASSWORD_LENGTH || password.length > 200) {
    throw invalid(
      'PASSWORD_TOO_WEAK',
      `A password is ${MIN_PASSWORD_LENGTH}–200 characters; leave it out to have one generated.`,
      { errors: [{ path: 'password', message: `must be ${MIN_PASSWORD_LENGTH}–200 characters` }] },
    );
  }
}

/** A random password of 24 characters (144 bits). */
export function generatePassword(): string {
  return randomBytes(18).toString('base64url');
}

/** A fresh session secret (256 bits). */
export function newSessionSecret(): string {
  return randomBytes(32).toString('base64url');
}

/** The stored form of a session secret. */
export function hashSessionSecret(secret: string): string {
  return createHash('sha256').update(secret).digest('base64url');
}

/** True when the secret matches the stored hash (constant time). */
export function sessionSecretMatches(secret: string, storedHash: string): boolean {
  const a = Buffer.from(hashSessionSecret(secret));
  const b = Buffer.from(storedHash);
  return a.length === b.length && timingSafeEqual(a, b);
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** The cookie value of a session. */
export function formatSessionToken(workspaceId: string, sessionId: string, secret: string): string {
  return `${workspaceId}.${sessionId}.${secret}`;
}

/** Splits a presented session token, or undefined when it is not one. */
export function parseSessionToken(
  token: string,
): { workspaceId: string; sessionId: string; secret: string } | undefined {
  const parts = token.split('.');
  if (parts.length !== 3) return undefined;
  const [workspaceId, sessionId, secret] = parts as [string, string, string];
  if (!UUID.test(workspaceId) || !UUID.test(sessionId) || !/^[A-Za-z0-9_-]{43}$/.test(secret))
    return undefined;
  return { workspaceId, sessionId, secret };
}

/** The CSRF token of a session: derived from its secret, sent back by the page in a header. */
export function csrfTokenOf(secret: string): string {
  return createHmac('sha256', secret).update('cornerstore csrf').digest('base64url');
}

/** True when a presented CSRF token is the session's (constant time). */
export function csrfTokenMatches(secret: string, presented: string | undefined): boolean {
  if (presented === undefined) return false;
  const a = Buffer.from(csrfTokenOf(secret));
  const b = Buffer.from(presented);
  return a.length === b.length && timingSafeEqual(a, b);
}

/** The label audit events and provenance record for a user. */
export function userLabel(userId: string): string {
  return `user:${userId}`;
}
