import {
  createHmac,
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  type KeyObject,
  randomBytes,
} from 'node:crypto';
import {
  appendFileSync,
  chmodSync,
  closeSync,
  existsSync,
  fstatSync,
  linkSync,
  mkdirSync,
  openSync,
  readFileSync,
  readSync,
  unlinkSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import type { Kysely } from 'kysely';
import type { DB } from '../db/index.ts';
import { AppError } from '../shared/errors.ts';
import { type Checkpoint, parseCheckpoint } from './checkpoint.ts';

/**
 * The audit keys and the checkpoints file: everything of the audit log that lives outside the
 * database, so that the database's own administrator can neither re-hash the chain (no HMAC key) nor
 * move its head back unseen (no signing key, no write access to the checkpoints).
 */

/** The keys of an installation's audit chains, and where their checkpoints go. */
export interface AuditKeys {
  /** The HMAC-SHA256 key of the chain's hashes. */
  readonly hmacKey: Uint8Array;
  /** Ed25519: signs the checkpoints of chain heads. */
  readonly signingKey: KeyObject;
  readonly publicKey: KeyObject;
  /** The append-only file of signed checkpoints. */
  readonly checkpointsFile: string;
}

/** File names in the key directory (the data directory unless configured otherwise). */
export const AUDIT_KEY_FILE = 'audit-key';
export const AUDIT_SIGNING_KEY_FILE = 'audit-signing-key.pem';
export const AUDIT_CHECKPOINTS_FILE = 'audit-checkpoints.ndjson';

/**
 * Creates `path` with `content` (mode 0600) unless it exists; answers what the file holds. The file is
 * written whole under another name and then linked into place, so a process starting at the same moment
 * reads either nothing or the whole key, never half of it.
 */
function readOrCreate(path: string, content: () => string): string {
  if (!existsSync(path)) {
    const partial = `${path}.${process.pid}.partial`;
    writeFileSync(partial, content(), { mode: 0o600 });
    chmodSync(partial, 0o600);
    try {
      linkSync(partial, path);
    } catch (error) {
      // Another process created it first: read theirs.
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    } finally {
      unlinkSync(partial);
    }
  }
  return readFileSync(path, 'utf8');
}

function keyFileInvalid(path: string, why: string): AppError {
  return new AppError(
    'internal',
    'AUDIT_KEY_INVALID',
    `The audit key file ${path} ${why}; restore it from your backup.`,
    {
      file: path,
    },
  );
}

/**
 * Loads the audit keys from `dir`, creating them (mode 0600) on first use: a random 32-byte HMAC key
 * (unless `hmacKeyHex` gives one, from CORNERSTORE_AUDIT_KEY) and an Ed25519 key pair.
 */
export function loadAuditKeys(dir: string, hmacKeyHex?: string): AuditKeys {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  let hmacKey: Buffer;
  if (hmacKeyHex !== undefined) hmacKey = Buffer.from(hmacKeyHex, 'hex');
  else {
    const path = join(dir, AUDIT_KEY_FILE);
    const hex = readOrCreate(path, () => `${randomBytes(32).toString('hex')}\n`).trim();
    if (!/^([0-9a-f]{2}){32,}$/i.test(hex)) throw keyFileInvalid(path, 'is not 32 or more bytes in hex');
    hmacKey = Buffer.from(hex, 'hex');
  }
  const pemPath = join(dir, AUDIT_SIGNING_KEY_FILE);
  const pem = readOrCreate(pemPath, () =>
    generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
  );
  let signingKey: KeyObject;
  try {
    signingKey = createPrivateKey(pem);
  } catch {
    throw keyFileInvalid(pemPath, 'is not a private key in PEM');
  }
  if (signingKey.asymmetricKeyType !== 'ed25519') throw keyFileInvalid(pemPath, 'is not an Ed25519 key');
  return {
    hmacKey,
    signingKey,
    publicKey: createPublicKey(signingKey),
    checkpointsFile: join(dir, AUDIT_CHECKPOINTS_FILE),
  };
}

/**
 * Which HMAC key an installation hashes its chains with, without revealing it: a backup carries it, so
 * a restore under another key (whose chain could never verify) is refused before anything is written.
 */
export function computeAuditKeyFingerprint(keys: AuditKeys): string {
  return createHmac('sha256', keys.hmacKey)
    .update('cornerstore audit key fingerprint')
    .digest('hex')
    .slice(0, 16);
}

const bound = new WeakMap<object, AuditKeys>();

/** Ties the installation's audit keys to a database handle (done once, by the composition root). */
export function bindAuditKeys(db: Kysely<DB>, keys: AuditKeys): void {
  bound.set(db, keys);
}

/** The audit keys tied to a database handle; an internal error when the composition root forgot them. */
export function getAuditKeys(db: Kysely<DB>): AuditKeys {
  const keys = bound.get(db);
  if (!keys) {
    throw new AppError(
      'internal',
      'AUDIT_KEYS_MISSING',
      'No audit keys are bound to this database handle (bindAuditKeys at the composition root).',
    );
  }
  return keys;
}

/** Appends a checkpoint to the checkpoints file (created 0600), one line, in one write. */
export function appendCheckpoint(keys: AuditKeys, checkpoint: Checkpoint): void {
  appendFileSync(keys.checkpointsFile, `${JSON.stringify(checkpoint)}\n`, { mode: 0o600 });
}

const TAIL_CHUNK = 64 * 1024;

/**
 * The latest checkpoint of a workspace in the checkpoints file, read backwards from its end (the file
 * only grows, and the latest is what a verification needs). Null when there is none.
 */
export function findLatestCheckpoint(keys: AuditKeys, workspaceId: string): Checkpoint | null {
  let fd: number;
  try {
    fd = openSync(keys.checkpointsFile, 'r');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw error;
  }
  try {
    let position = fstatSync(fd).size;
    let carry = '';
    while (position > 0) {
      const length = Math.min(TAIL_CHUNK, position);
      position -= length;
      const buffer = Buffer.alloc(length);
      readSync(fd, buffer, 0, length, position);
      const text = buffer.toString('latin1') + carry;
      const lines = text.split('\n');
      // The first piece may be a line cut by the chunk boundary: keep it for the next chunk.
      carry = position > 0 ? (lines.shift() ?? '') : '';
      for (let i = lines.length - 1; i >= 0; i--) {
        const found = matching(lines[i] ?? '', workspaceId);
        if (found) return found;
      }
    }
    return carry === '' ? null : matching(carry, workspaceId);
  } finally {
    closeSync(fd);
  }
}

function matching(line: string, workspaceId: string): Checkpoint | null {
  if (!line.includes(workspaceId)) return null;
  const checkpoint = parseCheckpoint(Buffer.from(line, 'latin1').toString('utf8'));
  return checkpoint?.workspaceId === workspaceId ? checkpoint : null;
}
