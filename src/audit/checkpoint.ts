import { createHash, type KeyObject, sign, verify } from 'node:crypto';
import { canonicalJson } from './audit.ts';

/**
 * Signed checkpoints of a chain's head: pure rules. A checkpoint says "on `at`, the chain of this
 * workspace had `seq` events and its last hash was `hash`", signed with Ed25519 under a key that lives
 * outside the database, and kept where the database cannot rewrite it. A chain whose head moved back
 * behind a checkpoint was trimmed; one whose event at the checkpoint's seq has another hash was rewritten.
 */

/** One signed checkpoint, as one line of the checkpoints file. */
export interface Checkpoint {
  workspaceId: string;
  seq: number;
  hash: string;
  at: string;
  /** The fingerprint of the public key that signs (the first 16 hex digits of its SHA-256). */
  key: string;
  /** Ed25519 signature (base64) over the canonical JSON of workspaceId, seq, hash and at. */
  signature: string;
}

/** The fingerprint of a public key: which key signed a checkpoint. */
export function computeKeyFingerprint(publicKey: KeyObject): string {
  const der = publicKey.export({ type: 'spki', format: 'der' });
  return createHash('sha256').update(der).digest('hex').slice(0, 16);
}

function signedBody(c: Pick<Checkpoint, 'workspaceId' | 'seq' | 'hash' | 'at'>): Buffer {
  return Buffer.from(canonicalJson({ workspaceId: c.workspaceId, seq: c.seq, hash: c.hash, at: c.at }));
}

/** Signs a chain head. */
export function signCheckpoint(
  head: { workspaceId: string; seq: number; hash: string },
  at: Date,
  keys: { signingKey: KeyObject; publicKey: KeyObject },
): Checkpoint {
  const unsigned = { workspaceId: head.workspaceId, seq: head.seq, hash: head.hash, at: at.toISOString() };
  return {
    ...unsigned,
    key: computeKeyFingerprint(keys.publicKey),
    signature: sign(null, signedBody(unsigned), keys.signingKey).toString('base64'),
  };
}

/** True when the checkpoint was signed by the key pair's private key and not changed since. */
export function isCheckpointAuthentic(checkpoint: Checkpoint, publicKey: KeyObject): boolean {
  try {
    return verify(null, signedBody(checkpoint), publicKey, Buffer.from(checkpoint.signature, 'base64'));
  } catch {
    return false;
  }
}

/** Reads one line of the checkpoints file; null for a line that is not a checkpoint. */
export function parseCheckpoint(line: string): Checkpoint | null {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch {
    return null;
  }
  if (value === null || typeof value !== 'object') return null;
  const c = value as Record<string, unknown>;
  if (
    typeof c.workspaceId !== 'string' ||
    typeof c.seq !== 'number' ||
    !Number.isSafeInteger(c.seq) ||
    typeof c.hash !== 'string' ||
    typeof c.at !== 'string' ||
    typeof c.key !== 'string' ||
    typeof c.signature !== 'string'
  ) {
    return null;
  }
  return {
    workspaceId: c.workspaceId,
    seq: c.seq,
    hash: c.hash,
    at: c.at,
    key: c.key,
    signature: c.signature,
  };
}
