import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type App, buildApp } from '../src/api/app.ts';
import { FailureLimiter, normalisedPath } from '../src/api/auth.ts';
import { chainAuditBacklog } from '../src/governance/index.ts';
import { newId } from '../src/shared/ids.ts';
import { type AuthenticateOptions, KeyVerifier } from '../src/workspaces/index.ts';
import {
  bearer,
  createTestWorkspace,
  ENGINE,
  inTestWorkspace,
  reader,
  type TestWorkspace,
  useTestDatabase,
} from './helpers.ts';

/** The real verifier, counting the slow hashes it is about to compute (after the limits let them through). */
class CountingVerifier extends KeyVerifier {
  slowHashes = 0;

  override authenticate(apiKey: string, options: AuthenticateOptions = {}) {
    return super.authenticate(apiKey, {
      beforeSlowHash: (key) => {
        options.beforeSlowHash?.(key);
        this.slowHashes += 1;
      },
    });
  }
}

/** A key of the workspace with the same secret format as a real one but another key id. */
function withKeyId(apiKey: string, keyId: string): string {
  const [ws, , secret] = apiKey.slice(3).split('.');
  return `cs_${ws}.${Buffer.from(keyId.replaceAll('-', ''), 'hex').toString('base64url')}.${secret}`;
}

function withSecret(apiKey: string, secret: string): string {
  return `${apiKey.slice(0, apiKey.lastIndexOf('.') + 1)}${secret}`;
}

const WRONG_SECRET = 'A'.repeat(43);
const FAILURES = 3;

describe(`authentication (${ENGINE})`, () => {
  const t = useTestDatabase();
  let app: App;
  let keys: CountingVerifier;
  let ws: TestWorkspace;

  beforeAll(async () => {
    keys = new CountingVerifier(t.database.db);
    app = await buildApp(
      { db: t.database.db, keys },
      {
        bodyLimit: 1 << 20,
        rateLimitPerMinute: 1_000_000,
        authFailuresPerMinute: FAILURES,
        logger: false,
        version: 'test',
      },
    );
    ws = await createTestWorkspace(t.database);
  });
  afterAll(async () => {
    await app.close();
  });

  let address = 0;
  /** A fresh client address, so each test starts with no failures counted against it. */
  const nextAddress = () => `10.0.${Math.floor(++address / 250)}.${address % 250}`;

  const get = (url: string, apiKey: string | undefined, remoteAddress: string) =>
    app.inject({ url, remoteAddress, ...(apiKey ? { headers: bearer(apiKey) } : {}) });

  it('authenticates the decoded path: percent-encoded and odd spellings of /v1 are not a way around', async () => {
    const from = nextAddress();
    const variants = [
      '/%761/workspace',
      '/v%31/workspace',
      '/%76%31/keys',
      '/%2576%2531/workspace',
      '/V1/workspace',
      '//v1/workspace',
      '/v1//workspace',
      '/v1/workspace?x=1',
      '/v1',
      '/v1/no-such-route',
      '/%761/no-such-route',
    ];
    for (const url of variants) {
      const refused = await get(url, undefined, from);
      expect(refused.statusCode, url).toBe(401);
      expect(refused.json().error.code, url).toBe('UNAUTHENTICATED');
    }
    // With a key, the encoded spelling reaches the same route as the plain one.
    const encoded = await get('/%761/workspace', ws.apiKey, from);
    expect(encoded.statusCode, encoded.body).toBe(200);
    expect(encoded.json().workspace.id).toBe(ws.workspace.id);
    // Public routes stay public.
    for (const url of ['/health', '/ready', '/openapi.json', '/docs/json']) {
      expect((await get(url, undefined, from)).statusCode, url).toBe(200);
    }
    expect(normalisedPath('/%761//Workspace?q=ana%40example.com')).toBe('/v1/workspace');
  });

  it('spends the same slow hash on an unknown, revoked or foreign key id as on a real one', async () => {
    const from = nextAddress();
    const created = await app.inject({
      method: 'POST',
      url: '/v1/keys',
      headers: bearer(ws.apiKey),
      payload: { role: 'agent' },
    });
    expect(created.statusCode, created.body).toBe(201);
    const agentKey: string = created.json().apiKey;
    const revokedKey = (
      await app.inject({
        method: 'POST',
        url: '/v1/keys',
        headers: bearer(ws.apiKey),
        payload: { role: 'agent' },
      })
    ).json();
    expect(
      (
        await app.inject({
          method: 'DELETE',
          url: `/v1/keys/${revokedKey.key.id}`,
          headers: bearer(ws.apiKey),
        })
      ).statusCode,
    ).toBe(200);
    const other = await createTestWorkspace(t.database);

    const attempts: [string, string][] = [
      ['a real key id, wrong secret', withSecret(agentKey, WRONG_SECRET)],
      ['an unknown key id', withKeyId(agentKey, newId())],
      ['a revoked key', revokedKey.apiKey],
      ['an unknown workspace', withKeyId(`cs_${'A'.repeat(22)}.x.${WRONG_SECRET}`, newId())],
      ["another workspace's key id", withKeyId(agentKey, other.actor.keyId ?? '')],
    ];
    for (const [what, apiKey] of attempts) {
      const before = keys.slowHashes;
      const response = await get('/v1/workspace', apiKey, nextAddress());
      expect(response.statusCode, what).toBe(401);
      expect(response.json().error.code, what).toBe('API_KEY_INVALID');
      expect(keys.slowHashes - before, what).toBe(1);
    }
    // The real key: one slow hash the first time, none once verified.
    const first = keys.slowHashes;
    expect((await get('/v1/workspace', agentKey, from)).statusCode).toBe(200);
    expect((await get('/v1/workspace', agentKey, from)).statusCode).toBe(200);
    expect(keys.slowHashes - first).toBe(1);
  });

  it('limits failed authentications per client address, before the slow hash', async () => {
    const attacker = nextAddress();
    // A key verified earlier from the same address (a colleague behind the same router).
    expect((await get('/v1/workspace', ws.apiKey, attacker)).statusCode).toBe(200);
    for (let i = 0; i < FAILURES; i++) {
      const guess = withKeyId(ws.apiKey, newId());
      expect((await get('/v1/workspace', guess, attacker)).statusCode).toBe(401);
    }
    const before = keys.slowHashes;
    const limited = await get('/v1/workspace', withKeyId(ws.apiKey, newId()), attacker);
    expect(limited.statusCode).toBe(429);
    expect(limited.json().error).toMatchObject({ code: 'AUTH_RATE_LIMITED' });
    const retryAfter = Number(limited.headers['retry-after']);
    expect(retryAfter).toBeGreaterThan(0);
    expect(retryAfter).toBeLessThanOrEqual(60);
    expect(limited.json().error.details.retryAfter).toBe(retryAfter);
    expect(keys.slowHashes).toBe(before);
    // The verified key keeps working from that address, and other addresses are not limited.
    expect((await get('/v1/workspace', ws.apiKey, attacker)).statusCode).toBe(200);
    expect((await get('/v1/workspace', withKeyId(ws.apiKey, newId()), nextAddress())).statusCode).toBe(401);
  });

  it('counts concurrent guesses as they start, and forgives attempts that succeed', async () => {
    const attacker = nextAddress();
    const before = keys.slowHashes;
    const burst = await Promise.all(
      Array.from({ length: 10 }, () => get('/v1/workspace', withKeyId(ws.apiKey, newId()), attacker)),
    );
    const codes = burst.map((r) => r.statusCode).sort();
    expect(codes).toEqual([...Array(FAILURES).fill(401), ...Array(10 - FAILURES).fill(429)]);
    expect(keys.slowHashes - before).toBe(FAILURES);

    // New keys verified for the first time each cost a hash but are no failure.
    const desk = nextAddress();
    for (let i = 0; i < FAILURES + 1; i++) {
      const made = await app.inject({
        method: 'POST',
        url: '/v1/keys',
        headers: bearer(ws.apiKey),
        payload: { role: 'agent' },
      });
      expect((await get('/v1/workspace', made.json().apiKey, desk)).statusCode).toBe(200);
    }
    expect((await get('/v1/workspace', withKeyId(ws.apiKey, newId()), desk)).statusCode).toBe(401);
  });

  it('limits failed authentications per key id across addresses', async () => {
    const created = await app.inject({
      method: 'POST',
      url: '/v1/keys',
      headers: bearer(ws.apiKey),
      payload: { role: 'analyst' },
    });
    const target: string = created.json().apiKey;
    expect((await get('/v1/workspace', target, nextAddress())).statusCode).toBe(200);
    for (let i = 0; i < FAILURES; i++) {
      const guess = withSecret(target, `${i}`.padStart(43, 'B'));
      expect((await get('/v1/workspace', guess, nextAddress())).statusCode).toBe(401);
    }
    const before = keys.slowHashes;
    const limited = await get('/v1/workspace', withSecret(target, WRONG_SECRET), nextAddress());
    expect(limited.statusCode).toBe(429);
    expect(limited.json().error.code).toBe('AUTH_RATE_LIMITED');
    expect(keys.slowHashes).toBe(before);
    // The holder of the key, verified before, is not locked out by the guesses.
    expect((await get('/v1/workspace', target, nextAddress())).statusCode).toBe(200);
  });

  it("makes its own request ids and keeps a client's only as a bounded separate field", async () => {
    const from = nextAddress();
    const customer = await app.inject({
      method: 'POST',
      url: '/v1/customers',
      remoteAddress: from,
      headers: { ...reader(ws.apiKey), 'x-request-id': 'desk-42:retry.1' },
      payload: { givenName: 'Ana' },
    });
    expect(customer.statusCode, customer.body).toBe(201);
    const serverId = customer.headers['x-request-id'];
    expect(serverId).toMatch(/^[0-9a-f-]{36}$/);
    const id: string = customer.json().customer.id;

    const long = 'x'.repeat(8000);
    const read = await app.inject({
      url: `/v1/customers/${id}`,
      remoteAddress: from,
      headers: { ...reader(ws.apiKey), 'x-request-id': long },
    });
    expect(read.statusCode).toBe(200);
    const readId = read.headers['x-request-id'];
    expect(readId).toMatch(/^[0-9a-f-]{36}$/);
    expect(readId).not.toBe(serverId);

    await chainAuditBacklog(t.database.db);
    const events = await inTestWorkspace(t.database, ws, (tx) =>
      tx
        .selectFrom('audit_events')
        .select(['action', 'request_id', 'details'])
        .where('request_id', 'in', [String(serverId), String(readId)])
        .orderBy('seq')
        .execute(),
    );
    expect(events.map((e) => [e.action, e.request_id])).toEqual([
      ['customer.create', serverId],
      ['customer.read', readId],
    ]);
    expect(events[0]?.details).toMatchObject({ clientRequestId: 'desk-42:retry.1' });
    expect(JSON.stringify(events[1]?.details ?? null)).not.toContain('xxxxxxxx');
  });
});

describe('failure limiter', () => {
  it('refuses a key after max failures within the window, and forgets them after it', () => {
    const limiter = new FailureLimiter(2, 1000);
    limiter.recordFailure('a', 0);
    expect(limiter.waitFor('a', 10)).toBe(0);
    limiter.recordFailure('a', 100);
    expect(limiter.waitFor('a', 100)).toBe(900);
    expect(limiter.waitFor('b', 100)).toBe(0);
    expect(limiter.waitFor('a', 1000)).toBe(0);
    limiter.recordFailure('a', 1000);
    expect(limiter.waitFor('a', 1001)).toBe(0);
    limiter.recordFailure('a', 1002);
    expect(limiter.waitFor('a', 1003)).toBe(997);
    limiter.forgive('a', 1003);
    expect(limiter.waitFor('a', 1003)).toBe(0);
  });

  it('stays within its capacity, dropping expired entries first', () => {
    const limiter = new FailureLimiter(1, 1000, 3);
    limiter.recordFailure('old', 0);
    limiter.recordFailure('b', 500);
    limiter.recordFailure('c', 500);
    limiter.recordFailure('d', 1200);
    expect(limiter.waitFor('old', 1200)).toBe(0);
    expect(limiter.waitFor('b', 1200)).toBe(300);
    limiter.recordFailure('e', 1200);
    expect([limiter.waitFor('c', 1200), limiter.waitFor('d', 1200), limiter.waitFor('e', 1200)]).toEqual([
      300, 1000, 1000,
    ]);
    expect(limiter.waitFor('b', 1200)).toBe(0);
  });
});
