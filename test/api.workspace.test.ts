import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../src/api/app.ts';
import type { Database } from '../src/db/index.ts';
import {
  bearer,
  buildTestApp,
  createTestWorkspace,
  ENGINE,
  openTestDatabase,
  type TestWorkspace,
} from './helpers.ts';

describe(`HTTP plumbing, workspace and keys (${ENGINE})`, () => {
  let database: Database;
  let app: App;
  let a: TestWorkspace;
  let b: TestWorkspace;

  beforeAll(async () => {
    database = await openTestDatabase();
    app = await buildTestApp(database, { bodyLimit: 2048 });
    a = await createTestWorkspace(database);
    b = await createTestWorkspace(database);
  });
  afterAll(async () => {
    await app.close();
    await database.close();
  });

  it('answers liveness and readiness without a key', async () => {
    expect((await app.inject({ url: '/health' })).json()).toMatchObject({ status: 'ok' });
    expect((await app.inject({ url: '/ready' })).json()).toEqual({ status: 'ready' });
  });

  it('refuses /v1 without a key, with a malformed key and with an unknown key', async () => {
    for (const headers of [
      {},
      { authorization: 'Basic abc' },
      bearer('cs_nope'),
      bearer(`${a.apiKey.slice(0, -2)}xx`),
    ]) {
      const res = await app.inject({ url: '/v1/workspace', headers });
      expect(res.statusCode).toBe(401);
      expect(res.json().error.code).toMatch(/^(UNAUTHENTICATED|API_KEY_INVALID)$/);
    }
  });

  it('shows each key its own workspace only', async () => {
    const res = await app.inject({ url: '/v1/workspace', headers: bearer(a.apiKey) });
    expect(res.statusCode).toBe(200);
    expect(res.json().workspace).toMatchObject({ id: a.workspace.id, name: a.workspace.name });
    expect(res.headers['x-request-id']).toBeTruthy();
  });

  it('changes settings with validation at the boundary', async () => {
    const ok = await app.inject({
      method: 'PATCH',
      url: '/v1/workspace',
      headers: bearer(a.apiKey),
      payload: { defaultRegion: 'de', autoCreateCustomers: false },
    });
    expect(ok.statusCode).toBe(200);
    expect(ok.json().workspace.settings).toEqual({
      defaultRegion: 'DE',
      autoCreateCustomers: false,
      doNotStore: 'reject',
      linkVerifiedContacts: true,
      sourceTrust: ['rectification', 'document', 'portal', 'billing', 'api'],
      earliestPurchaseDate: '1970-01-01',
      valueCurrency: null,
      exchangeRates: {},
      valueAsOf: null,
      privacyRequestDays: 30,
    });

    const unknown = await app.inject({
      method: 'PATCH',
      url: '/v1/workspace',
      headers: bearer(a.apiKey),
      payload: { defaultRegoin: 'DE' },
    });
    expect(unknown.statusCode).toBe(400);
    expect(unknown.json().error).toMatchObject({
      code: 'VALIDATION_FAILED',
      details: { errors: [{ path: 'defaultRegoin', message: 'is not a known field' }] },
    });

    const badRegion = await app.inject({
      method: 'PATCH',
      url: '/v1/workspace',
      headers: bearer(a.apiKey),
      payload: { defaultRegion: 'XX' },
    });
    expect(badRegion.json().error.code).toBe('REGION_INVALID');

    const other = await app.inject({ url: '/v1/workspace', headers: bearer(b.apiKey) });
    expect(other.json().workspace.settings.defaultRegion).toBe('US');
  });

  it('answers malformed JSON with 400 and an oversized body with 413', async () => {
    const malformed = await app.inject({
      method: 'PATCH',
      url: '/v1/workspace',
      headers: { ...bearer(a.apiKey), 'content-type': 'application/json' },
      payload: '{"defaultRegion": ',
    });
    expect(malformed.statusCode).toBe(400);
    expect(malformed.json().error.code).toBe('MALFORMED_JSON');

    const big = await app.inject({
      method: 'POST',
      url: '/v1/keys',
      headers: { ...bearer(a.apiKey), 'content-type': 'application/json' },
      payload: JSON.stringify({ role: 'agent', name: 'x'.repeat(5000) }),
    });
    expect(big.statusCode).toBe(413);
    expect(big.json().error.code).toBe('BODY_TOO_LARGE');
  });

  it('creates, lists and revokes keys; a revoked key is refused at once', async () => {
    const created = await app.inject({
      method: 'POST',
      url: '/v1/keys',
      headers: bearer(a.apiKey),
      payload: { role: 'agent', name: 'front desk' },
    });
    expect(created.statusCode).toBe(201);
    const { key, apiKey } = created.json();
    expect(key).toMatchObject({
      role: 'agent',
      name: 'front desk',
      purposes: ['service', 'billing', 'fulfilment', 'personalization'],
    });

    const listed = await app.inject({ url: '/v1/keys', headers: bearer(a.apiKey) });
    expect(listed.json().keys.map((k: { id: string }) => k.id)).toContain(key.id);
    expect(JSON.stringify(listed.json())).not.toContain(apiKey.split('.')[2]);

    expect((await app.inject({ url: '/v1/workspace', headers: bearer(apiKey) })).statusCode).toBe(200);
    // An agent may not manage keys.
    const denied = await app.inject({ url: '/v1/keys', headers: bearer(apiKey) });
    expect(denied.statusCode).toBe(403);
    expect(denied.json().error.code).toBe('ROLE_NOT_ALLOWED');

    const revoked = await app.inject({
      method: 'DELETE',
      url: `/v1/keys/${key.id}`,
      headers: bearer(a.apiKey),
    });
    expect(revoked.statusCode).toBe(200);
    expect(revoked.json().key.revokedAt).toBeTruthy();
    const after = await app.inject({ url: '/v1/workspace', headers: bearer(apiKey) });
    expect(after.statusCode).toBe(401);
    expect(after.json().error.code).toBe('API_KEY_INVALID');
  });

  it("never reveals or revokes another workspace's keys", async () => {
    const created = await app.inject({
      method: 'POST',
      url: '/v1/keys',
      headers: bearer(b.apiKey),
      payload: { role: 'analyst' },
    });
    const bKey = created.json().key.id as string;
    const attempt = await app.inject({
      method: 'DELETE',
      url: `/v1/keys/${bKey}`,
      headers: bearer(a.apiKey),
    });
    expect(attempt.statusCode).toBe(404);
    expect(attempt.json().error.code).toBe('API_KEY_NOT_FOUND');
    const listed = await app.inject({ url: '/v1/keys', headers: bearer(a.apiKey) });
    expect(listed.json().keys.map((k: { id: string }) => k.id)).not.toContain(bKey);
    expect(
      (await app.inject({ url: '/v1/workspace', headers: bearer(created.json().apiKey) })).statusCode,
    ).toBe(200);
  });

  it('replays a POST with the same Idempotency-Key and refuses the key for another body', async () => {
    const send = (name: string) =>
      app.inject({
        method: 'POST',
        url: '/v1/keys',
        headers: { ...bearer(a.apiKey), 'idempotency-key': 'create-support-key' },
        payload: { role: 'agent', name },
      });
    const first = await send('support');
    const second = await send('support');
    expect(second.statusCode).toBe(201);
    expect(second.headers['idempotent-replayed']).toBe('true');
    // The secret is shown once: the replay answers the same key without it.
    expect(second.json()).toEqual({ ...first.json(), apiKey: null });
    expect(first.json().apiKey).toMatch(/^cs_/);
    const keys = (await app.inject({ url: '/v1/keys', headers: bearer(a.apiKey) })).json().keys;
    expect(keys.filter((k: { name: string }) => k.name === 'support')).toHaveLength(1);

    const reused = await send('other');
    expect(reused.statusCode).toBe(409);
    expect(reused.json().error.code).toBe('IDEMPOTENCY_KEY_REUSED');

    // The same Idempotency-Key in another workspace is another key.
    const elsewhere = await app.inject({
      method: 'POST',
      url: '/v1/keys',
      headers: { ...bearer(b.apiKey), 'idempotency-key': 'create-support-key' },
      payload: { role: 'agent', name: 'other' },
    });
    expect(elsewhere.statusCode).toBe(201);
    expect(elsewhere.headers['idempotent-replayed']).toBeUndefined();
  });

  it('answers unknown routes with the error shape', async () => {
    const res = await app.inject({ url: '/v1/nothing-here', headers: bearer(a.apiKey) });
    expect(res.statusCode).toBe(404);
    expect(res.json().error.code).toBe('ROUTE_NOT_FOUND');
  });

  it('serves an OpenAPI 3.1 document and a docs page', async () => {
    const doc = (await app.inject({ url: '/openapi.json' })).json();
    expect(doc.openapi).toBe('3.1.0');
    expect(Object.keys(doc.paths)).toEqual(
      expect.arrayContaining(['/health', '/v1/workspace', '/v1/keys', '/v1/keys/{id}']),
    );
    const page = await app.inject({ url: '/docs/' });
    expect(page.statusCode).toBe(200);
    expect(page.headers['content-type']).toContain('text/html');
  });
});

describe(`per-key rate limits (${ENGINE})`, () => {
  let database: Database;
  let app: App;

  beforeAll(async () => {
    database = await openTestDatabase();
    app = await buildTestApp(database, { rateLimitPerMinute: 3 });
  });
  afterAll(async () => {
    await app.close();
    await database.close();
  });

  it('limits each key separately', async () => {
    const a = await createTestWorkspace(database);
    const b = await createTestWorkspace(database);
    const codes: number[] = [];
    for (let i = 0; i < 4; i++)
      codes.push((await app.inject({ url: '/v1/workspace', headers: bearer(a.apiKey) })).statusCode);
    expect(codes).toEqual([200, 200, 200, 429]);
    const limited = await app.inject({ url: '/v1/workspace', headers: bearer(a.apiKey) });
    expect(limited.json().error.code).toBe('RATE_LIMITED');
    expect((await app.inject({ url: '/v1/workspace', headers: bearer(b.apiKey) })).statusCode).toBe(200);
    // Liveness is never rate limited.
    for (let i = 0; i < 5; i++) expect((await app.inject({ url: '/health' })).statusCode).toBe(200);
  });
});
