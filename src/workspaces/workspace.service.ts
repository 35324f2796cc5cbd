import { randomBytes } from 'node:crypto';
import type { Kysely } from 'kysely';
import { asOperator, type DB, inWorkspace, type Tx } from '../db/index.ts';
import { assertPermitted, mayPerform, rolesPermitted } from '../shared/access.ts';
import { AppError, conflict, notFound } from '../shared/errors.ts';
import { newId } from '../shared/ids.ts';
import {
  formatApiKey,
  hashSecret,
  type ParsedApiKey,
  parseApiKey,
  UNMATCHABLE_SECRET_HASH,
  verifySecret,
} from './api-key.ts';
import * as repo from './workspace.repository.ts';
import type { Actor, ApiKeyInfo, Workspace, WorkspacePolicy, WorkspaceSettings } from './workspace.ts';
import {
  assertWorkspaceName,
  normaliseEarliestPurchaseDate,
  normaliseExchangeRates,
  normalisePrivacyRequestDays,
  normaliseRegion,
  normaliseSourceTrust,
  normaliseValueAsOf,
  normaliseValueCurrency,
  resolveKeyPurposes,
} from './workspace.ts';

/** Use-cases of workspaces and API keys. */

export interface CreatedKey {
  key: ApiKeyInfo;
  /** The key itself: shown once, stored only as a slow hash. */
  apiKey: string;
}

async function issueKey(
  tx: Tx,
  workspaceId: string,
  input: { role: string; purposes?: readonly string[] | undefined; name?: string | undefined },
): Promise<CreatedKey> {
  const { role, purposes } = resolveKeyPurposes(input.role, input.purposes);
  const id = newId();
  const { apiKey, secret } = formatApiKey(workspaceId, id);
  const key = await repo.insertApiKey(tx, {
    workspaceId,
    id,
    name: input.name?.trim() || `${role} key`,
    role,
    purposes,
    secretHash: await hashSecret(secret),
  });
  return { key, apiKey };
}

/** Creates a workspace with its first key (role admin). */
export async function createWorkspace(
  db: Kysely<DB>,
  input: { name: string; defaultRegion?: string | undefined },
): Promise<{ workspace: Workspace } & CreatedKey> {
  assertWorkspaceName(input.name);
  const defaultRegion = normaliseRegion(input.defaultRegion ?? 'US');
  if (await repo.findWorkspaceByName(db, input.name)) {
    throw conflict('WORKSPACE_EXISTS', `A workspace named "${input.name}" already exists.`, {
      name: input.name,
    });
  }
  const id = newId();
  return inWorkspace(db, id, async (tx) => {
    const workspace = await repo.insertWorkspace(tx, { id, name: input.name, defaultRegion });
    const created = await issueKey(tx, id, { role: 'admin', name: 'first admin key' });
    return { workspace, ...created };
  });
}

/** Every workspace on this database (operator view). */
export function listWorkspaces(db: Kysely<DB>): Promise<Workspace[]> {
  return asOperator(db, (tx) => repo.listAllWorkspaces(tx));
}

/** Finds a workspace by its id or name (operator view), throwing when there is none. */
export async function getWorkspaceByRef(db: Kysely<DB>, ref: string): Promise<Workspace> {
  const all = await listWorkspaces(db);
  const found = all.find((w) => w.id === ref || w.name === ref);
  if (!found)
    throw notFound('WORKSPACE_NOT_FOUND', `No workspace with id or name "${ref}".`, { workspace: ref });
  return found;
}

/** The caller's own workspace. */
export async function getWorkspace(tx: Tx, workspaceId: string): Promise<Workspace> {
  const found = await repo.findCurrentWorkspace(tx, workspaceId);
  if (!found) throw notFound('WORKSPACE_NOT_FOUND', 'Workspace not found.');
  return found;
}

/** How long a workspace read for an access may be reused by this process. */
const ACCESS_CACHE_MS = 1_000;
const accessCache = new Map<string, { workspace: Workspace; at: number }>();

/**
 * The workspace as every access needs it (settings, data policy), reused for up to a second by this
 * process: a change made here is seen at once (the entry is dropped), one made by another process
 * within a second — the same bound as a key revocation.
 */
export async function getWorkspaceForAccess(tx: Tx, workspaceId: string): Promise<Workspace> {
  const now = Date.now();
  const cached = accessCache.get(workspaceId);
  if (cached && now - cached.at < ACCESS_CACHE_MS) return cached.workspace;
  const workspace = await getWorkspace(tx, workspaceId);
  if (accessCache.size > 10_000) accessCache.clear();
  accessCache.set(workspaceId, { workspace, at: now });
  return workspace;
}

/** Changes workspace settings (admin only). */
export async function updateSettings(
  tx: Tx,
  actor: Actor,
  patch: Partial<WorkspaceSettings>,
): Promise<Workspace> {
  assertPermitted(actor, 'workspace.configure');
  const current = (await getWorkspace(tx, actor.workspaceId)).settings;
  const valueCurrency =
    patch.valueCurrency === undefined ? current.valueCurrency : normaliseValueCurrency(patch.valueCurrency);
  // A new value currency is checked against the rates, and new rates against the value currency.
  const exchangeRates =
    patch.exchangeRates === undefined && patch.valueCurrency === undefined
      ? undefined
      : normaliseExchangeRates(patch.exchangeRates ?? current.exchangeRates, valueCurrency);
  const policy = {
    ...(patch.earliestPurchaseDate === undefined
      ? {}
      : { earliestPurchaseDate: normaliseEarliestPurchaseDate(patch.earliestPurchaseDate) }),
    ...(patch.valueCurrency === undefined ? {} : { valueCurrency }),
    ...(exchangeRates === undefined ? {} : { exchangeRates }),
    ...(patch.doNotStore === undefined ? {} : { doNotStore: patch.doNotStore }),
    ...(patch.linkVerifiedContacts === undefined ? {} : { linkVerifiedContacts: patch.linkVerifiedContacts }),
    ...(patch.sourceTrust === undefined ? {} : { sourceTrust: normaliseSourceTrust(patch.sourceTrust) }),
    ...(patch.valueAsOf === undefined ? {} : { valueAsOf: normaliseValueAsOf(patch.valueAsOf, new Date()) }),
    ...(patch.privacyRequestDays === undefined
      ? {}
      : { privacyRequestDays: normalisePrivacyRequestDays(patch.privacyRequestDays) }),
  };
  accessCache.delete(actor.workspaceId);
  const updated = await repo.updateWorkspaceSettings(tx, actor.workspaceId, {
    ...(patch.defaultRegion === undefined ? {} : { defaultRegion: normaliseRegion(patch.defaultRegion) }),
    ...(patch.autoCreateCustomers === undefined ? {} : { autoCreateCustomers: patch.autoCreateCustomers }),
    ...(Object.keys(policy).length === 0 ? {} : { policy }),
  });
  if (!updated) throw notFound('WORKSPACE_NOT_FOUND', 'Workspace not found.');
  return updated;
}

/** Creates an API key in the transaction's workspace. */
export async function createApiKey(
  tx: Tx,
  workspaceId: string,
  input: { role: string; purposes?: readonly string[] | undefined; name?: string | undefined },
): Promise<CreatedKey> {
  await getWorkspace(tx, workspaceId);
  return issueKey(tx, workspaceId, input);
}

/** Lists a workspace's keys, never their secrets. */
export function listApiKeys(tx: Tx, workspaceId: string): Promise<ApiKeyInfo[]> {
  return repo.listApiKeysOf(tx, workspaceId);
}

/**
 * Revokes a key; a revoked key is refused from the next request on. Revoking twice keeps the first time.
 * The workspace's last active key that may manage keys cannot be revoked (409 LAST_ADMIN_KEY): without
 * it nobody could create another, and the workspace would be locked out.
 */
export async function revokeApiKey(tx: Tx, workspaceId: string, keyId: string): Promise<ApiKeyInfo> {
  const target = await repo.findApiKeyWithHash(tx, workspaceId, keyId);
  if (!target) throw notFound('API_KEY_NOT_FOUND', `No API key ${keyId} in this workspace.`, { keyId });
  const managers = rolesPermitted('keys.create').filter((role) => mayPerform(role, 'keys.revoke'));
  if (target.revokedAt === null && managers.includes(target.role)) {
    const active = await repo.lockActiveKeyIds(tx, workspaceId, managers);
    if (!active.some((id) => id !== target.id)) {
      throw conflict(
        'LAST_ADMIN_KEY',
        `Key ${keyId} is the workspace's last active ${managers.join(' or ')} key; create another before revoking it, or nobody could manage the workspace's keys.`,
        { keyId, role: target.role },
      );
    }
  }
  const revoked = await repo.markApiKeyRevoked(tx, workspaceId, keyId);
  if (!revoked) throw notFound('API_KEY_NOT_FOUND', `No API key ${keyId} in this workspace.`, { keyId });
  return revoked;
}

/** Slow hashes allowed to wait for their turn before an attempt is refused as busy. */
const MAX_WAITING_HASHES = 256;

interface CachedKey {
  /** The stored hash the secret was verified against: a changed hash means re-verify. */
  secretHash: string;
  info: ApiKeyInfo;
  checkedAt: number;
}

/** What an authentication may be told before it spends a slow hash. */
export interface AuthenticateOptions {
  /**
   * Called just before the slow hash of a presented secret, with the key it names (whether or not the
   * key exists); throwing refuses the attempt without spending the hash. Keys verified before by this
   * process are answered from the cache and never reach it.
   */
  beforeSlowHash?: (key: ParsedApiKey) => void;
}

/** How finely a key's last use is kept. */
const KEY_USE_RESOLUTION_MS = 60_000;

/**
 * Authenticates presented API keys. The slow hash is checked once per key and process; the key's row
 * (revocation, role, purposes) is re-read at most every `refreshMs`, so a revocation made by any
 * process takes effect within that time (at once in this process). An unknown or revoked key id costs
 * the same slow hash as a real one (against a hash nothing matches), so timing does not reveal which
 * key ids exist.
 */
export class KeyVerifier {
  private readonly cache = new Map<string, CachedKey>();
  private readonly inflight = new Map<string, Promise<Actor | undefined>>();
  /** The tail of the queue of slow hashes, which run one at a time. */
  private hashing: Promise<unknown> = Promise.resolve();
  private waitingHashes = 0;

  constructor(
    private readonly db: Kysely<DB>,
    private readonly refreshMs = 1000,
  ) {}

  /** The actor behind a key, or undefined when the key is unknown, malformed or revoked. */
  async authenticate(apiKey: string, options: AuthenticateOptions = {}): Promise<Actor | undefined> {
    const cached = this.cache.get(apiKey);
    if (cached && Date.now() - cached.checkedAt < this.refreshMs) return this.toActor(cached.info);
    let pending = this.inflight.get(apiKey);
    if (!pending) {
      pending = this.load(apiKey, cached, options).finally(() => this.inflight.delete(apiKey));
      this.inflight.set(apiKey, pending);
    }
    return pending;
  }

  /** Forgets everything about a key (called after a revocation in this process). */
  forgetKey(keyId: string): void {
    for (const [apiKey, entry] of this.cache) if (entry.info.id === keyId) this.cache.delete(apiKey);
  }

  private async load(
    apiKey: string,
    cached: CachedKey | undefined,
    options: AuthenticateOptions,
  ): Promise<Actor | undefined> {
    const parsed = parseApiKey(apiKey);
    if (!parsed) return undefined;
    const row = await inWorkspace(this.db, parsed.workspaceId, (tx) =>
      repo.findApiKeyWithHash(tx, parsed.workspaceId, parsed.keyId),
    );
    const active = row !== undefined && row.revokedAt === null;
    if (!active) this.cache.delete(apiKey);
    // The same row, already verified with this very key string: no slow hash needed.
    const verified = active && cached?.secretHash === row.secretHash;
    if (!verified) {
      options.beforeSlowHash?.(parsed);
      const matches = await this.slowVerify(parsed.secret, row?.secretHash ?? UNMATCHABLE_SECRET_HASH);
      if (!active || !matches) return undefined;
    }
    const { secretHash, ...info } = row;
    // Keys' last use is kept to the minute, written only after the secret was verified (a guess
    // never marks a key used) and only when a minute has passed, so the hot path stays read-only.
    if (info.lastUsedAt === null || Date.now() - Date.parse(info.lastUsedAt) >= KEY_USE_RESOLUTION_MS) {
      await inWorkspace(this.db, info.workspaceId, (tx) => repo.touchApiKey(tx, info.workspaceId, info.id));
    }
    if (this.cache.size > 10_000) this.cache.clear();
    this.cache.set(apiKey, { secretHash, info, checkedAt: Date.now() });
    return this.toActor(info);
  }

  /**
   * Slow hashes run one at a time, so a flood of bad keys from many addresses takes at most one core
   * (and one hash's memory) whatever its size; past `MAX_WAITING_HASHES` waiting, an attempt is 503
   * AUTH_BUSY rather than a longer queue.
   */
  private slowVerify(secret: string, stored: string): Promise<boolean> {
    if (this.waitingHashes >= MAX_WAITING_HASHES) {
      throw new AppError(
        'unavailable',
        'AUTH_BUSY',
        'The server is verifying too many unknown keys at once; retry in a moment.',
      );
    }
    this.waitingHashes += 1;
    const run = this.hashing.then(() => verifySecret(secret, stored));
    this.hashing = run.catch(() => false);
    return run.finally(() => {
      this.waitingHashes -= 1;
    });
  }

  private toActor(info: ApiKeyInfo): Actor {
    return {
      workspaceId: info.workspaceId,
      keyId: info.id,
      role: info.role,
      purposes: info.purposes,
      label: `key:${info.id}`,
    };
  }
}

/** The actor for a command-line operator acting on a workspace (owner rights). */
export function operatorActor(workspaceId: string): Actor {
  return { workspaceId, keyId: null, role: 'owner', purposes: [], label: 'operator:cli' };
}

/** Replaces the workspace's own categories, purposes and overrides (admin only); validated by the caller. */
export async function updateWorkspacePolicy(
  tx: Tx,
  actor: Actor,
  policy: WorkspacePolicy,
): Promise<Workspace> {
  assertPermitted(actor, 'workspace.configure');
  accessCache.delete(actor.workspaceId);
  const updated = await repo.updateWorkspaceSettings(tx, actor.workspaceId, { policy: { ...policy } });
  if (!updated) throw notFound('WORKSPACE_NOT_FOUND', 'Workspace not found.');
  return updated;
}

/** The workspace's keyed-hash secret for a purpose, created on first use. */
export function getWorkspaceSecret(
  tx: Tx,
  workspaceId: string,
  purpose: 'identity_hash' | 'portal_link',
): Promise<Buffer> {
  return repo.findOrCreateSecret(tx, workspaceId, purpose, () => randomBytes(32));
}
