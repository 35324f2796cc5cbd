/**
 * Staff users and their browser sessions (the web UI). Owns the `users` and `user_sessions` tables:
 * accounts with a role and purposes like API keys, passwords kept as slow hashes, sessions kept as
 * hashes of their secrets, and the CSRF token derived from a session. It reads and writes no personal
 * data of customers; the HTTP adapter turns a live session into the same actor an API key gives.
 */
export {
  /** The actor a staff user acts as (role, purposes, `user:<id>` label). */
  actorOfUser,
  type CreatedUser,
  /** Creates a staff user (needs the permission to create keys); a generated password is returned once. */
  createUser,
  /** Ends a session (logout). */
  endSession,
  /** The live session behind a cookie value, or undefined. */
  findLiveSession,
  forgetSession,
  type LiveSession,
  /** The workspace's staff users. */
  listUsers,
  type StartedSession,
  /** Starts a session for a verified user. */
  startSession,
  /** Checks an email and password with a slow hash, whether or not the user exists. */
  verifyLogin,
} from './user.service.ts';
export {
  /** True when a presented CSRF token is the session's. */
  csrfTokenMatches,
  /** The CSRF token of a session secret. */
  csrfTokenOf,
  /** How long a session lasts from login. */
  SESSION_TTL_MS,
  type StaffSession,
  type StaffUser,
} from './user.ts';
