/**
 * Workspaces (tenants), their settings and API keys. Owns the `workspaces` and `api_keys` tables and
 * the verification of presented keys; knows nothing of customers or interactions.
 */
export type { ParsedApiKey } from './api-key.ts';
export {
  /** A slow, salted scrypt hash of a secret (API keys, staff passwords). */
  hashSecret,
  /** Parses a presented key string into workspace, key id and secret. */
  parseApiKey,
  /** A stored hash nothing matches, so a miss costs what a hit costs. */
  UNMATCHABLE_SECRET_HASH,
  /** Checks a secret against a slow hash in constant time. */
  verifySecret,
} from './api-key.ts';
export {
  type AuthenticateOptions,
  type CreatedKey,
  /** Creates an API key in a workspace; the key is returned once. */
  createApiKey,
  /** Creates a workspace with its first admin key. */
  createWorkspace,
  /** The caller's own workspace. */
  getWorkspace,
  /** Finds a workspace by id or name, or throws WORKSPACE_NOT_FOUND. */
  getWorkspaceByRef,
  /** The workspace as an access needs it, reused for up to a second by this process. */
  getWorkspaceForAccess,
  /** The workspace's keyed-hash secret for a purpose, created on first use. */
  getWorkspaceSecret,
  /** Authenticates API keys with a cache in front of the slow hash. */
  KeyVerifier,
  /** Lists a workspace's keys without secrets. */
  listApiKeys,
  /** Lists every workspace (operator view). */
  listWorkspaces,
  /** The actor of a command-line operator. */
  operatorActor,
  /** Revokes a key. */
  revokeApiKey,
  /** Changes workspace settings (admin only). */
  updateSettings,
  /** Replaces the workspace's own categories, purposes and overrides (admin only). */
  updateWorkspacePolicy,
} from './workspace.service.ts';
export type {
  Actor,
  ApiKeyInfo,
  DoNotStoreMode,
  Workspace,
  WorkspacePolicy,
  WorkspaceSettings,
} from './workspace.ts';
export {
  /** The default trust order of sources for survivorship in merges. */
  DEFAULT_SOURCE_TRUST,
  /** True when an actor may manage the workspace. */
  isAdmin,
  /** The role and purposes a credential gets: those asked for within the role's, or all of them. */
  resolveKeyPurposes,
} from './workspace.ts';
