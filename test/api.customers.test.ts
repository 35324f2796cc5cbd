import { describe, expect, it } from 'vitest';
import type { Customer } from '../src/customers/index.ts';
import { bearer, createTestWorkspace, ENGINE, reader, type TestWorkspace, useTestApp } from './helpers.ts';

const t = useTestApp();

async function post(ws: TestWorkspace, body: unknown, headers: Record<string, string> = {}) {
  return t.app.inject({
    method: 'POST',
    url: '/v1/customers',
    headers: { ...bearer(ws.apiKey), ...headers },
    payload: body as object,
  });
}

async function createCustomer(ws: TestWorkspace, body: unknown): Promise<Customer> {
  const response = await post(ws, body);
  expect(response.statusCode, response.body).toBe(201);
  return response.json().customer;
}

async function list(ws: TestWorkspace, query: string) {
  const response = await t.app.inject({
    method: 'GET',
    url: `/v1/customers?${query}`,
    headers: reader(ws.apiKey),
  });
  expect(response.statusCode, response.body).toBe(200);
  return response.json() as { customers: Customer[]; nextCursor: string | null };
}

describe(`customers API (${ENGINE})`, () => {
  it('create → get → patch → list with cursor → search', async () => {
    const ws = await createTestWorkspace(t.database);
    const created = await createCustomer(ws, {
      givenName: ' John ',
      familyName: 'Smith',
      language: 'en-us',
      emails: ['John@Example.com'],
      phones: [{ value: '(415) 555-2671', verified: true }],
      identities: [{ source: 'pos', externalId: 'L-7' }],
      source: 'pos',
    });
    expect(created).toMatchObject({
      givenName: 'John',
      language: 'en-US',
      emails: ['john@example.com'],
      phones: ['+14155552671'],
      identities: [{ source: 'pos', externalId: 'L-7' }],
      provenance: {
        givenName: { source: 'pos', capturedBy: ws.actor.label, confidence: 1, interactionId: null },
      },
    });
    expect(created.contactPoints.find((c) => c.kind === 'phone')).toMatchObject({
      verified: true,
      source: 'pos',
    });

    const got = await t.app.inject({
      method: 'GET',
      url: `/v1/customers/${created.id}`,
      headers: reader(ws.apiKey),
    });
    expect(got.statusCode).toBe(200);
    expect(got.json().customer).toEqual(created);

    const patched = await t.app.inject({
      method: 'PATCH',
      url: `/v1/customers/${created.id}`,
      headers: bearer(ws.apiKey),
      payload: { preferredName: 'Jack', language: null, emails: ['jack@example.com'], source: 'web' },
    });
    expect(patched.statusCode, patched.body).toBe(200);
    expect(patched.json().customer).toMatchObject({
      preferredName: 'Jack',
      language: null,
      emails: ['john@example.com', 'jack@example.com'],
      provenance: {
        preferredName: { source: 'web' },
        language: { source: 'web' },
        givenName: { source: 'pos' },
      },
    });

    const history = await t.app.inject({
      method: 'GET',
      url: `/v1/customers/${created.id}/history`,
      headers: reader(ws.apiKey),
    });
    expect(history.statusCode).toBe(200);
    expect(
      history
        .json()
        .history.filter((h: { field: string }) => h.field === 'language')
        .map((h: { value: string | null }) => h.value),
    ).toEqual([null, 'en-US']);

    const second = await createCustomer(ws, { givenName: 'Maria', familyName: 'Garcia' });
    const third = await createCustomer(ws, { givenName: 'Wei', familyName: 'Chen' });
    const page1 = await list(ws, 'limit=2');
    expect(page1.customers.map((c) => c.id)).toEqual([created.id, second.id]);
    expect(page1.nextCursor).toEqual(expect.any(String));
    const page2 = await list(ws, `limit=2&cursor=${encodeURIComponent(page1.nextCursor ?? '')}`);
    expect(page2.customers.map((c) => c.id)).toEqual([third.id]);
    expect(page2.nextCursor).toBeNull();

    const search = await list(ws, `q=${encodeURIComponent('Jonh Smiht')}`);
    expect(search.customers[0]?.id).toBe(created.id);
    expect((await list(ws, 'q=L-7')).customers.map((c) => c.id)).toEqual([created.id]);
    expect(
      (await list(ws, `email=${encodeURIComponent('JACK@example.com')}`)).customers.map((c) => c.id),
    ).toEqual([created.id]);
    expect((await list(ws, 'source=pos&externalId=L-7')).customers.map((c) => c.id)).toEqual([created.id]);
  });

  it('rejects unknown fields with their JSON path, and stores nothing', async () => {
    const ws = await createTestWorkspace(t.database);
    const response = await post(ws, {
      givenName: 'A',
      nickname: 'B',
      identities: [{ source: 'p', externalId: 'x', extra: 1 }],
    });
    expect(response.statusCode).toBe(400);
    const { error } = response.json();
    expect(error.code).toBe('VALIDATION_FAILED');
    const paths = error.details.errors.map((e: { path: string }) => e.path);
    expect(paths).toContain('nickname');
    expect(paths).toContain('identities[0].extra');
    expect((await list(ws, '')).customers).toEqual([]);

    const unknownQuery = await t.app.inject({
      method: 'GET',
      url: '/v1/customers?colour=red',
      headers: reader(ws.apiKey),
    });
    expect(unknownQuery.statusCode).toBe(400);
    expect(unknownQuery.json().error.details.errors[0].path).toBe('querystring.colour');
  });

  it('rejects invalid values with a code and path', async () => {
    const ws = await createTestWorkspace(t.database);
    const response = await post(ws, { givenName: 'A', emails: ['ok@example.com', 'broken'] });
    expect(response.statusCode).toBe(400);
    expect(response.json().error).toMatchObject({
      code: 'EMAIL_INVALID',
      details: { errors: [{ path: 'emails[1]' }] },
    });
    const phone = await post(ws, { phones: ['12'] });
    expect(phone.json().error.code).toBe('PHONE_INVALID');
    const emptyPatch = await t.app.inject({
      method: 'PATCH',
      url: `/v1/customers/${(await createCustomer(ws, { givenName: 'Z' })).id}`,
      headers: bearer(ws.apiKey),
      payload: {},
    });
    expect(emptyPatch.statusCode).toBe(400);
  });

  it('rejects malformed JSON with MALFORMED_JSON', async () => {
    const ws = await createTestWorkspace(t.database);
    const response = await t.app.inject({
      method: 'POST',
      url: '/v1/customers',
      headers: { ...bearer(ws.apiKey), 'content-type': 'application/json' },
      payload: '{"givenName": "A",',
    });
    expect(response.statusCode).toBe(400);
    expect(response.json().error.code).toBe('MALFORMED_JSON');
  });

  it('requires a valid API key', async () => {
    const ws = await createTestWorkspace(t.database);
    const customer = await createCustomer(ws, { givenName: 'Kept' });
    const missing = await t.app.inject({ method: 'GET', url: `/v1/customers/${customer.id}` });
    expect(missing.statusCode).toBe(401);
    expect(missing.json().error.code).toBe('UNAUTHENTICATED');
    const wrong = await t.app.inject({
      method: 'POST',
      url: '/v1/customers',
      headers: bearer(`${ws.apiKey}x`),
      payload: { givenName: 'Nope' },
    });
    expect(wrong.statusCode).toBe(401);
    expect((await list(ws, '')).customers.map((c) => c.givenName)).toEqual(['Kept']);
  });

  it("never shows or changes another workspace's customers", async () => {
    const mine = await createTestWorkspace(t.database);
    const theirs = await createTestWorkspace(t.database);
    const foreign = await createCustomer(theirs, {
      givenName: 'Secret',
      familyName: 'Person',
      emails: ['secret@example.com'],
      identities: [{ source: 'pos', externalId: 'S-1' }],
    });
    for (const url of [`/v1/customers/${foreign.id}`, `/v1/customers/${foreign.id}/history`]) {
      const response = await t.app.inject({ method: 'GET', url, headers: reader(mine.apiKey) });
      expect(response.statusCode, url).toBe(404);
      expect(response.json().error.code).toBe('CUSTOMER_NOT_FOUND');
    }
    const patch = await t.app.inject({
      method: 'PATCH',
      url: `/v1/customers/${foreign.id}`,
      headers: bearer(mine.apiKey),
      payload: { givenName: 'Hijacked' },
    });
    expect(patch.statusCode).toBe(404);
    expect(patch.json().error.code).toBe('CUSTOMER_NOT_FOUND');
    expect((await list(mine, '')).customers).toEqual([]);
    for (const query of [
      'q=Secret%20Person',
      'q=secret%40example.com',
      'q=S-1',
      'email=secret%40example.com',
    ]) {
      expect((await list(mine, query)).customers, query).toEqual([]);
    }
    // The same identity is free in another workspace.
    await createCustomer(mine, { identities: [{ source: 'pos', externalId: 'S-1' }] });
    const stillTheirs = await t.app.inject({
      method: 'GET',
      url: `/v1/customers/${foreign.id}`,
      headers: reader(theirs.apiKey),
    });
    expect(stillTheirs.json().customer.givenName).toBe('Secret');
  });

  it('returns 409 IDENTITY_TAKEN for an identity another customer holds, storing nothing', async () => {
    const ws = await createTestWorkspace(t.database);
    await createCustomer(ws, { givenName: 'First', identities: [{ source: 'web', externalId: 'acct-1' }] });
    const response = await post(ws, {
      givenName: 'Second',
      identities: [{ source: 'web', externalId: 'acct-1' }],
    });
    expect(response.statusCode).toBe(409);
    expect(response.json().error.code).toBe('IDENTITY_TAKEN');
    expect((await list(ws, '')).customers.map((c) => c.givenName)).toEqual(['First']);
  });

  it('replays an Idempotency-Key: the same customer, created once', async () => {
    const ws = await createTestWorkspace(t.database);
    const body = { givenName: 'Once', emails: ['once@example.com'] };
    const first = await post(ws, body, { 'idempotency-key': 'create-once-1' });
    const second = await post(ws, body, { 'idempotency-key': 'create-once-1' });
    expect(first.statusCode).toBe(201);
    expect(second.statusCode).toBe(201);
    expect(second.headers['idempotent-replayed']).toBe('true');
    expect(second.json()).toEqual(first.json());
    expect((await list(ws, '')).customers).toHaveLength(1);
    const reused = await post(ws, { givenName: 'Other' }, { 'idempotency-key': 'create-once-1' });
    expect(reused.statusCode).toBe(409);
    expect(reused.json().error.code).toBe('IDEMPOTENCY_KEY_REUSED');
  });

  it('describes the customer routes in the OpenAPI document', async () => {
    const response = await t.app.inject({ method: 'GET', url: '/openapi.json' });
    const doc = response.json();
    const paths = doc.paths as Record<string, Record<string, { tags?: string[]; summary?: string }>>;
    for (const [path, method] of [
      ['/v1/customers', 'post'],
      ['/v1/customers', 'get'],
      ['/v1/customers/{id}', 'get'],
      ['/v1/customers/{id}', 'patch'],
    ] as const) {
      expect(paths[path]?.[method]?.tags, `${method} ${path}`).toEqual(['customers']);
      expect(paths[path]?.[method]?.summary).toEqual(expect.any(String));
    }
  });
});
