import { createHmac, timingSafeEqual } from 'node:crypto';

/**
 * Portal links (pure): a token naming one customer of one workspace and when it expires, signed with
 * HMAC-SHA256 under the workspace's portal secret. `p1.<payload>.<signature>`, base64url; the payload
 * is readable (it holds ids and a time, no personal data) so the server knows which workspace's key
 * to check it with.
 */

export interface PortalGrant {
  workspaceId: string;
  customerId: string;
  /** ISO 8601. */
  expiresAt: string;
}

function signature(key: Buffer, payload: string): string {
  return createHmac('sha256', key).update(`portal-link.v1.${payload}`).digest('base64url');
}

/** Signs a grant into a token. */
export function signPortalLink(key: Buffer, grant: PortalGrant): string {
  const payload = Buffer.from(
    JSON.stringify({ w: grant.workspaceId, c: grant.customerId, e: grant.expiresAt }),
  ).toString('base64url');
  return `p1.${payload}.${signature(key, payload)}`;
}

/** The grant a token claims, before its signature is checked (to find the key), or undefined. */
export function readPortalClaim(token: string): PortalGrant | undefined {
  const parts = token.split('.');
  if (parts.length !== 3 || parts[0] !== 'p1' || !parts[1] || !parts[2]) return undefined;
  try {
    const claim: unknown = JSON.parse(Buffer.from(parts[1], 'base64url').toString('utf8'));
    if (typeof claim !== 'object' || claim === null) return undefined;
    const { w, c, e } = claim as Record<string, unknown>;
    const uuid = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
    if (typeof w !== 'string' || typeof c !== 'string' || typeof e !== 'string') return undefined;
    if (!uuid.test(w) || !uuid.test(c) || !Number.isFinite(Date.parse(e))) return undefined;
    return { workspaceId: w, customerId: c, expiresAt: e };
  } catch {
    return undefined;
  }
}

/** Why a token does not open the portal. */
export type PortalLinkVerdict =
  | { ok: true; grant: PortalGrant }
  | { ok: false; reason: 'invalid' | 'expired' };

/** Checks a token's signature with the workspace's key, then its expiry. */
export function checkPortalLink(key: Buffer, token: string, now: Date): PortalLinkVerdict {
  const grant = readPortalClaim(token);
  const [, payload = '', presented = ''] = token.split('.');
  if (!grant) return { ok: false, reason: 'invalid' };
  const expected = Buffer.from(signature(key, payload));
  const actual = Buffer.from(presented);
  if (expected.length !== actual.length || !timingSafeEqual(expected, actual)) {
    return { ok: false, reason: 'invalid' };
  }
  if (Date.parse(grant.expiresAt) <= now.getTime()) return { ok: false, reason: 'expired' };
  return { ok: true, grant };
}
