import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  type AuditEvent,
  canonicalJson,
  checkChainSegment,
  computeEventHash,
  GENESIS_HASH,
  type HashVersion,
} from './audit.ts';
import { isCheckpointAuthentic, parseCheckpoint, signCheckpoint } from './checkpoint.ts';

const KEY = randomBytes(32);

/** A chain of `n` events; the first `legacy` are unkeyed (version 1), as written before keyed hashing. */
function chain(n: number, legacy = 0, key: Uint8Array = KEY): AuditEvent[] {
  const events: AuditEvent[] = [];
  let prevHash = GENESIS_HASH;
  for (let seq = 1; seq <= n; seq++) {
    const unhashed = {
      workspaceId: '0190a1b2-0000-7000-8000-000000000001',
      seq,
      id: `0190a1b2-0000-7000-8000-00000000010${seq}`,
      occurredAt: '2026-01-01T00:00:00.000Z',
      actor: { keyId: null, role: 'agent', label: 'test' },
      purpose: 'service',
      action: 'customer.read',
      customerIds: ['0190a1b2-0000-7000-8000-000000000009'],
      fields: ['givenName'],
      requestId: null,
      details: { b: 1, a: [2, { d: 3, c: 4 }] },
      prevHash,
      hashVersion: (seq <= legacy ? 1 : 2) as HashVersion,
    };
    const hash = computeEventHash(unhashed, key);
    events.push({ ...unhashed, hash });
    prevHash = hash;
  }
  return events;
}

describe('audit chain', () => {
  it('canonical JSON sorts keys at every depth and drops undefined members', () => {
    expect(canonicalJson({ b: 1, a: { d: [3, { z: 1, y: undefined, x: 2 }], c: null } })).toBe(
      '{"a":{"c":null,"d":[3,{"x":2,"z":1}]},"b":1}',
    );
  });

  it('a hash does not depend on key order', () => {
    const [event] = chain(1);
    if (!event) throw new Error('no event');
    const { hash, ...rest } = event;
    const reordered = { ...rest, details: { a: [2, { c: 4, d: 3 }], b: 1 } };
    expect(computeEventHash(reordered, KEY)).toBe(hash);
  });

  it('verifies a whole chain checked in segments', () => {
    const events = chain(5);
    const first = checkChainSegment({ seq: 0, hash: GENESIS_HASH }, events.slice(0, 2), KEY);
    expect(first.ok).toBe(true);
    if (!first.ok) return;
    expect(checkChainSegment(first.cursor, events.slice(2), KEY)).toMatchObject({
      ok: true,
      cursor: { seq: 5 },
    });
  });

  it('names a changed, missing or reordered event', () => {
    const events = chain(4);
    const start = { seq: 0, hash: GENESIS_HASH };
    const changed = events.map((e) => (e.seq === 3 ? { ...e, purpose: 'marketing' } : e));
    expect(checkChainSegment(start, changed, KEY)).toMatchObject({
      ok: false,
      break: { seq: 3, problem: 'hash_mismatch' },
    });
    const missing = events.filter((e) => e.seq !== 2);
    expect(checkChainSegment(start, missing, KEY)).toMatchObject({
      ok: false,
      break: { seq: 2, problem: 'missing_event' },
    });
    const [a, b, c, d] = events as [AuditEvent, AuditEvent, AuditEvent, AuditEvent];
    const reordered = [a, { ...c, seq: 2 }, { ...b, seq: 3 }, d];
    expect(checkChainSegment(start, reordered, KEY)).toMatchObject({
      ok: false,
      break: { seq: 2, problem: 'prev_hash_mismatch' },
    });
  });

  it('keyed hashes: a chain re-hashed without the key does not verify', () => {
    const start = { seq: 0, hash: GENESIS_HASH };
    expect(checkChainSegment(start, chain(4), KEY)).toMatchObject({ ok: true, cursor: { seq: 4 } });
    // The database's administrator rewrites event 2 and re-hashes the whole chain with a key of his own.
    const forged = chain(4, 0, randomBytes(32));
    expect(checkChainSegment(start, forged, KEY)).toMatchObject({
      ok: false,
      break: { seq: 1, problem: 'hash_mismatch' },
    });
  });

  it('unkeyed legacy events still verify, but never after a keyed one', () => {
    const start = { seq: 0, hash: GENESIS_HASH };
    expect(checkChainSegment(start, chain(5, 3), KEY)).toMatchObject({ ok: true, cursor: { seq: 5 } });
    // Re-hashing the keyed tail the legacy way (plain SHA-256, no key needed) is a downgrade.
    const events = chain(5, 3);
    const [e1, e2, e3, e4] = events as [AuditEvent, AuditEvent, AuditEvent, AuditEvent];
    const { hash: _hash, ...rest } = { ...e4, purpose: 'marketing', hashVersion: 1 as const };
    const downgraded = { ...rest, hash: computeEventHash(rest, KEY) };
    const first = checkChainSegment(start, [e1, e2, e3], KEY);
    if (!first.ok) throw new Error('the legacy part must verify');
    expect(checkChainSegment({ ...first.cursor, hashVersion: 2 }, [downgraded], KEY)).toMatchObject({
      ok: false,
      break: { seq: 4, problem: 'hash_version_downgrade' },
    });
  });

  it('a signed checkpoint verifies with its key, and not once changed or under another key', () => {
    const pair = generateKeyPairSync('ed25519');
    const keys = { signingKey: pair.privateKey, publicKey: pair.publicKey };
    const checkpoint = signCheckpoint(
      { workspaceId: '0190a1b2-0000-7000-8000-000000000001', seq: 7, hash: 'a'.repeat(64) },
      new Date('2026-01-01T00:00:00Z'),
      keys,
    );
    expect(isCheckpointAuthentic(checkpoint, keys.publicKey)).toBe(true);
    expect(parseCheckpoint(JSON.stringify(checkpoint))).toEqual(checkpoint);
    expect(isCheckpointAuthentic({ ...checkpoint, seq: 5 }, keys.publicKey)).toBe(false);
    expect(isCheckpointAuthentic(checkpoint, generateKeyPairSync('ed25519').publicKey)).toBe(false);
    expect(parseCheckpoint('{"seq":"x"}')).toBeNull();
    expect(parseCheckpoint('not json')).toBeNull();
  });
});
