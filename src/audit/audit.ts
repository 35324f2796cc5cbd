import { createHash, createHmac } from 'node:crypto';

/** The audit log's pure rules: canonical JSON, the hash of a link, and the check of a chain. */

/** The hash before the first event of a workspace. */
export const GENESIS_HASH = '0'.repeat(64);

/**
 * How a link's hash is made: 1, plain SHA-256 (events written before keyed hashing; anyone can
 * recompute them); 2, HMAC-SHA256 under the installation's audit key, which lives outside the database.
 */
export type HashVersion = 1 | 2;

/** The version every new event is written with. */
export const CURRENT_HASH_VERSION: HashVersion = 2;

/** Who acted: an API key (id, role, label) or a command-line operator. */
export interface AuditActor {
  keyId: string | null;
  role: string;
  label: string;
}

/** One access or change to record: what was done, for which purpose, to whose data, which fields. */
export interface AuditEntry {
  action: string;
  purpose: string | null;
  customerIds: readonly string[];
  fields: readonly string[];
  details?: Record<string, unknown> | undefined;
}

/** A stored link of the chain, as read back for verification. */
export interface AuditEvent {
  workspaceId: string;
  seq: number;
  id: string;
  occurredAt: string;
  actor: AuditActor;
  purpose: string | null;
  action: string;
  customerIds: string[];
  fields: string[];
  requestId: string | null;
  details: unknown;
  prevHash: string;
  hashVersion: HashVersion;
  hash: string;
}

/**
 * Canonical JSON: object keys sorted, no whitespace, `undefined` members left out. The hash must not
 * depend on the order in which a driver or jsonb hands keys back.
 */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
  if (Array.isArray(value)) return `[${value.map((v) => canonicalJson(v ?? null)).join(',')}]`;
  const entries = Object.entries(value as Record<string, unknown>)
    .filter(([, v]) => v !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
}

/**
 * The hash of a link over the canonical JSON of every field of the event but its own hash: HMAC-SHA256
 * under `key` (version 2, which also covers the version), or plain SHA-256 (version 1, legacy).
 */
export function computeEventHash(event: Omit<AuditEvent, 'hash'>, key: Uint8Array): string {
  const { workspaceId, seq, id, occurredAt, actor, purpose, action, customerIds, fields } = event;
  const body = {
    workspaceId,
    seq,
    id,
    occurredAt,
    actor,
    purpose,
    action,
    customerIds,
    fields,
    requestId: event.requestId,
    details: event.details ?? null,
    prevHash: event.prevHash,
  };
  if (event.hashVersion === 1) return createHash('sha256').update(canonicalJson(body)).digest('hex');
  return createHmac('sha256', key)
    .update(canonicalJson({ ...body, hashVersion: event.hashVersion }))
    .digest('hex');
}

/** Why a link is broken. */
export type ChainProblem =
  | 'missing_event'
  | 'prev_hash_mismatch'
  | 'hash_mismatch'
  | 'head_mismatch'
  | 'subjects_mismatch'
  | 'hash_version_downgrade'
  | 'checkpoint_invalid'
  | 'checkpoint_mismatch'
  | 'chain_trimmed'
  | 'inbox_mismatch';

/** The first broken link of a chain: where and why. */
export interface ChainBreak {
  seq: number;
  problem: ChainProblem;
  detail: string;
}

/** Where a check of the chain stands after some events: the last link seen. */
export interface ChainCursor {
  seq: number;
  hash: string;
  /** The version of the last link seen (keyed links never go back to unkeyed ones); 1 at the start. */
  hashVersion?: HashVersion;
}

/**
 * Checks the next events of a chain (in seq order) after `cursor` with the audit key; returns the first
 * break, or the new cursor. A gap in seq is a deleted event; a wrong previous hash is a deleted, inserted
 * or reordered event; a wrong own hash is a changed event (or one re-hashed without the key); an unkeyed
 * event after a keyed one is a chain re-hashed the legacy way to pass without the key.
 */
export function checkChainSegment(
  cursor: ChainCursor,
  events: readonly AuditEvent[],
  key: Uint8Array,
): { ok: true; cursor: ChainCursor } | { ok: false; break: ChainBreak } {
  let { seq, hash } = cursor;
  let version: HashVersion = cursor.hashVersion ?? 1;
  for (const event of events) {
    if (event.seq !== seq + 1) {
      return {
        ok: false,
        break: {
          seq: seq + 1,
          problem: 'missing_event',
          detail: `event ${seq + 1} is missing (the next stored event is ${event.seq})`,
        },
      };
    }
    if (event.prevHash !== hash) {
      return {
        ok: false,
        break: {
          seq: event.seq,
          problem: 'prev_hash_mismatch',
          detail: `event ${event.seq} does not follow event ${seq}: an event was removed, inserted or reordered`,
        },
      };
    }
    if (event.hashVersion < version) {
      return {
        ok: false,
        break: {
          seq: event.seq,
          problem: 'hash_version_downgrade',
          detail: `event ${event.seq} carries an unkeyed hash after keyed ones: the chain was re-hashed`,
        },
      };
    }
    const { hash: stored, ...rest } = event;
    if (computeEventHash(rest, key) !== stored) {
      return {
        ok: false,
        break: {
          seq: event.seq,
          problem: 'hash_mismatch',
          detail: `event ${event.seq} was changed after it was written, or hashed without the audit key`,
        },
      };
    }
    seq = event.seq;
    hash = stored;
    version = event.hashVersion;
  }
  return { ok: true, cursor: { seq, hash, hashVersion: version } };
}
