/**
 * The customer's privacy portal links: signed, expiring tokens that grant one customer access to their
 * own data. Owns no table (the signing key is a workspace secret); it decides nothing about what the
 * customer sees — the HTTP adapter confines a portal request to the grant's customer and reads through
 * governance/ like any other caller.
 */
export {
  DEFAULT_PORTAL_LINK_HOURS,
  /** Signs a link for one customer. */
  issuePortalLink,
  MAX_PORTAL_LINK_HOURS,
  /** Checks a presented portal token: signature, workspace, expiry. */
  verifyPortalToken,
} from './portal.service.ts';
export type { PortalGrant } from './portal-link.ts';
/** Signs and checks tokens without a database (tests, tools). */
export { checkPortalLink, signPortalLink } from './portal-link.ts';
