import { randomBytes, scrypt as scryptCallback, timingSafeEqual } from 'node:crypto';
import { promisify } from 'node:util';

/**
 * API key format and hashing (pure apart from randomness and CPU). A key reads
 * `cs_<workspace>.<key id>.<secret>` (each part base64url): the workspace and key id let the server
 * find the stored hash without scanning, the secret is checked against a slow scrypt hash.
 */

const scrypt = promisify(scryptCallback) as (
  password: string,
  salt: Buffer,
  keylen: number,
  options: { N: number; r: number; p: number; maxmem: number },
) => Promise<Buffer>;

const SCRYPT = { N: 2 ** 15, r: 8, p: 1, keylen: 32 } as const;

export interface ParsedApiKey {
  workspaceId: string;
  keyId: string;
  secret: string;
}

function uuidToBase64url(uuid: string): string {
  return Buffer.from(uuid.replaceAll('-', ''), 'hex').toString('base64url');
}

function base64urlToUuid(text: string): string | undefined {
  const bytes = Buffer.from(text, 'base64url');
  if (bytes.length !== 16 || bytes.toString('base64url') !== text) return undefined;
  const hex = bytes.toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/** Builds a new key string and its secret for a key id in a workspace. */
export function formatApiKey(workspaceId: string, keyId: string): { apiKey: string; secret: string } {
  const secret = randomBytes(32).toString('base64url');
  return { apiKey: `cs_${uuidToBase64url(workspaceId)}.${uuidToBase64url(keyId)}.${secret}`, secret };
}

/** Splits a presented key into its parts, or undefined when it is not a Cornerstore key. */
export function parseApiKey(apiKey: string): ParsedApiKey | undefined {
  if (!apiKey.startsWith('cs_')) return undefined;
  const parts = apiKey.slice(3).split('.');
  if (parts.length !== 3) return undefined;
  const [ws, id, secret] = parts as [string, string, string];
  const workspaceId = base64urlToUuid(ws);
  const keyId = base64urlToUuid(id);
  if (!workspaceId || !keyId || !/^[A-Za-z0-9_-]{43}$/.test(secret)) return undefined;
  return { workspaceId, keyId, secret };
}

/** A slow, salted hash of the secret, self-describing so parameters can change later. */
export async function hashSecret(secret: string): Promise<string> {
  const salt = randomBytes(16);
  const hash = await scrypt(secret, salt, SCRYPT.keylen, {
    N: SCRYPT.N,
    r: SCRYPT.r,
    p: SCRYPT.p,
    maxmem: 64 * 1024 * 1024,
  });
  return `scrypt$${SCRYPT.N}$${SCRYPT.r}$${SCRYPT.p}$${salt.toString('base64url')}$${hash.toString('base64url')}`;
}

/**
 * A stored hash no secret matches, with the parameters of real ones: checking a secret for a key that
 * does not exist (or was revoked) costs what checking a real key costs, so timing does not tell a
 * valid key id from an invalid one.
 */
export const UNMATCHABLE_SECRET_HASH = `scrypt$${SCRYPT.N}$${SCRYPT.r}$${SCRYPT.p}$${randomBytes(16).toString('base64url')}$${randomBytes(SCRYPT.keylen).toString('base64url')}`;

/** Checks a secret against a stored hash in constant time. */
export async function verifySecret(secret: string, stored: string): Promise<boolean> {
  const [scheme, n, r, p, saltText, hashText] = stored.split('$');
  if (scheme !== 'scrypt' || !n || !r || !p || !saltText || !hashText) return false;
  const expected = Buffer.from(hashText, 'base64url');
  const actual = await scrypt(secret, Buffer.from(saltText, 'base64url'), expected.length, {
    N: Number(n),
    r: Number(r),
    p: Number(p),
    maxmem: 64 * 1024 * 1024,
  });
  return actual.length === expected.length && timingSafeEqual(actual, expected);
}
