import type { Kysely } from 'kysely';
import { type DB, inWorkspace, type Tx } from '../db/index.ts';
import { AppError, invalid } from '../shared/errors.ts';
import { getWorkspaceSecret } from '../workspaces/index.ts';
import { checkPortalLink, type PortalGrant, readPortalClaim, signPortalLink } from './portal-link.ts';

/** Issuing and checking the customer's portal links. */

/** Longest a portal link may live: 30 days. */
export const MAX_PORTAL_LINK_HOURS = 720;
/** A link's life when none is asked for: 7 days. */
export const DEFAULT_PORTAL_LINK_HOURS = 168;

/** Signs a link for one customer of the transaction's workspace (the caller checked the customer exists). */
export async function issuePortalLink(
  tx: Tx,
  workspaceId: string,
  customerId: string,
  options: { hours?: number | undefined; now?: Date } = {},
): Promise<{ token: string; expiresAt: string }> {
  const hours = options.hours ?? DEFAULT_PORTAL_LINK_HOURS;
  if (!Number.isInteger(hours) || hours < 1 || hours > MAX_PORTAL_LINK_HOURS) {
    throw invalid(
      'PORTAL_LINK_HOURS_INVALID',
      `expiresInHours is a whole number from 1 to ${MAX_PORTAL_LINK_HOURS}.`,
      {
        errors: [{ path: 'expiresInHours', message: `must be 1–${MAX_PORTAL_LINK_HOURS}` }],
      },
    );
  }
  const now = options.now ?? new Date();
  const expiresAt = new Date(now.getTime() + hours * 3_600_000).toISOString();
  const key = await getWorkspaceSecret(tx, workspaceId, 'portal_link');
  return { token: signPortalLink(key, { workspaceId, customerId, expiresAt }), expiresAt };
}

/**
 * The grant of a presented portal token, or 401 PORTAL_LINK_INVALID / PORTAL_LINK_EXPIRED. A token
 * naming a workspace that does not exist is invalid like a forged one.
 */
export async function verifyPortalToken(
  db: Kysely<DB>,
  token: string,
  now = new Date(),
): Promise<PortalGrant> {
  const claim = readPortalClaim(token);
  const refuse = (code: 'PORTAL_LINK_INVALID' | 'PORTAL_LINK_EXPIRED') =>
    new AppError(
      'unauthenticated',
      code,
      code === 'PORTAL_LINK_EXPIRED'
        ? 'This link has expired. Ask the company for a new one.'
        : 'This link is not valid. Ask the company for a new one.',
    );
  if (!claim) throw refuse('PORTAL_LINK_INVALID');
  let key: Buffer;
  try {
    key = await inWorkspace(db, claim.workspaceId, (tx) =>
      getWorkspaceSecret(tx, claim.workspaceId, 'portal_link'),
    );
  } catch {
    throw refuse('PORTAL_LINK_INVALID');
  }
  const verdict = checkPortalLink(key, token, now);
  if (!verdict.ok) throw refuse(verdict.reason === 'expired' ? 'PORTAL_LINK_EXPIRED' : 'PORTAL_LINK_INVALID');
  return verdict.grant;
}
