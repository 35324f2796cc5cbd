import { describe, expect, it } from 'vitest';
import {
  type AuditEvent,
  canonicalJson,
  checkChainSegment,
  computeEventHash,
  GENESIS_HASH,
} from './audit.ts';

function chain(n: number): AuditEvent[] {
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
    };
    const hash = computeEventHash(unhashed);
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
    expect(computeEventHash(reordered)).toBe(hash);
  });

  it('verifies a whole chain checked in segments', () => {
    const events = chain(5);
    const first = checkChainSegment({ seq: 0, hash: GENESIS_HASH }, events.slice(0, 2));
    expect(first.ok).toBe(true);
    if (!first.ok) return;
    expect(checkChainSegment(first.cursor, events.slice(2))).toMatchObject({ ok: true, cursor: { seq: 5 } });
  });

  it('names a changed, missing or reordered event', () => {
    const events = chain(4);
    const start = { seq: 0, hash: GENESIS_HASH };
    const changed = events.map((e) => (e.seq === 3 ? { ...e, purpose: 'marketing' } : e));
    expect(checkChainSegment(start, changed)).toMatchObject({
      ok: false,
      break: { seq: 3, problem: 'hash_mismatch' },
    });
    const missing = events.filter((e) => e.seq !== 2);
    expect(checkChainSegment(start, missing)).toMatchObject({
      ok: false,
      break: { seq: 2, problem: 'missing_event' },
    });
    const [a, b, c, d] = events as [AuditEvent, AuditEvent, AuditEvent, AuditEvent];
    const reordered = [a, { ...c, seq: 2 }, { ...b, seq: 3 }, d];
    expect(checkChainSegment(start, reordered)).toMatchObject({
      ok: false,
      break: { seq: 2, problem: 'prev_hash_mismatch' },
    });
  });
});
