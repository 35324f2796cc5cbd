import { sql } from 'kysely';
import { beforeAll, describe, expect, it } from 'vitest';
import { classifyDatabaseError, inWorkspace } from '../src/db/index.ts';
import { MAX_JSON_DEPTH } from '../src/shared/json-bounds.ts';
import { bearer, createTestWorkspace, ENGINE, type TestWorkspace, useTestApp } from './helpers.ts';

/** `{"a":{"a":…{"a":1}}}` nested `depth` objects deep. */
function nested(depth: number): Record<string, unknown> {
  let value: Record<string, unknown> = { a: 1 };
  for (let i = 1; i < depth; i++) value = { a: value };
  return value;
}

function purchase(externalId: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    type: 'note',
    channel: 'web',
    occurredAt: '2024-03-01T10:00:00Z',
    source: 'bounds-test',
    externalId,
    customer: { identity: { source: 'bounds-test', externalId: 'c-1' } },
    text: 'hello',
    ...extra,
  };
}

describe(`Every input bounded (${ENGINE})`, () => {
  const fixture = useTestApp();
  let ws: TestWorkspace;
  beforeAll(async () => {
    ws = await createTestWorkspace(fixture.database);
  });

  it('refuses a horizon of 1e308 at the boundary, at once, and any horizon beyond ten years', async () => {
    const huge = await fixture.app.inject({
      method: 'POST',
      url: '/v1/value/refit',
      headers: { ...bearer(ws.apiKey), 'content-type': 'application/json' },
      payload: '{"horizon":1e308}',
    });
    expect(huge.statusCode).toBe(400);
    expect(huge.json().error.details.errors[0].path).toBe('horizon');
    // Within the schema's maximum (days) but beyond ten years in weeks: refused by the valuation itself.
    const weeks = await fixture.app.inject({
      method: 'POST',
      url: '/v1/value/refit',
      headers: bearer(ws.apiKey),
      payload: { horizon: 3000, period: 'week' },
    });
    expect(weeks.statusCode).toBe(400);
    expect(weeks.json().error.code).toBe('HORIZON_INVALID');
  });

  it('refuses a body nested deeper than the limit before anything walks it, with the path', async () => {
    // Written by hand: serialising a value this deep would overflow the test's own stack.
    const deep = `${'{"a":'.repeat(10_000)}1${'}'.repeat(10_000)}`;
    const res = await fixture.app.inject({
      method: 'POST',
      url: '/v1/interactions',
      headers: { ...bearer(ws.apiKey), 'content-type': 'application/json' },
      payload: JSON.stringify(purchase('deep-1', { properties: 'DEEP' })).replace('"DEEP"', deep),
    });
    expect(res.statusCode).toBe(400);
    expect(res.json().error.code).toBe('JSON_TOO_DEEP');
    expect(res.json().error.details.errors[0].path).toMatch(/^properties(\.a)+$/);
    const customers = await fixture.app.inject({
      method: 'PUT',
      url: '/v1/workspace/policy',
      headers: bearer(ws.apiKey),
      payload: { categories: [nested(MAX_JSON_DEPTH + 1)] },
    });
    expect(customers.statusCode).toBe(400);
    expect(customers.json().error.code).toBe('JSON_TOO_DEEP');
  });

  it('rejects only the item holding a NUL or a lone surrogate in a non-atomic batch', async () => {
    const res = await fixture.app.inject({
      method: 'POST',
      url: '/v1/interactions',
      headers: bearer(ws.apiKey),
      payload: {
        interactions: [
          purchase('nul-good-1'),
          purchase('nul-bad', { text: 'a\u0000b' }),
          purchase('surrogate-bad', { properties: { note: 'x\uD800y' } }),
          purchase('nul-key-bad', { properties: { 'k\u0000': 1 } }),
          purchase('nul-good-2', { text: 'emoji 😀 stays' }),
        ],
        atomic: false,
      },
    });
    expect(res.statusCode).toBe(200);
    const results = res.json().results as { status: string; error?: { code: string; details: unknown } }[];
    expect(results.map((r) => r.status)).toEqual(['created', 'rejected', 'rejected', 'rejected', 'created']);
    expect(results[1]?.error?.code).toBe('TEXT_INVALID_CHARACTER');
    expect(results[1]?.error?.details).toEqual({
      errors: [{ path: 'interactions[1].text', message: expect.stringContaining('NUL') }],
    });
    expect(results[2]?.error?.code).toBe('TEXT_INVALID_CHARACTER');
    expect(results[3]?.error?.code).toBe('TEXT_INVALID_CHARACTER');
  });

  it('answers a malformed URL in the one error shape', async () => {
    const res = await fixture.app.inject({ url: '/v1/customers/%ED%A0%80', headers: bearer(ws.apiKey) });
    expect(res.statusCode).toBe(400);
    expect(res.json().error.code).toBe('URL_INVALID');
  });

  it('refuses NUL in the body of other writes and in query strings with a stable code', async () => {
    const body = await fixture.app.inject({
      method: 'POST',
      url: '/v1/customers',
      headers: bearer(ws.apiKey),
      payload: { name: 'Ada\u0000' },
    });
    expect(body.statusCode).toBe(400);
    expect(body.json().error).toMatchObject({
      code: 'TEXT_INVALID_CHARACTER',
      details: { errors: [{ path: 'name' }] },
    });
    const query = await fixture.app.inject({
      url: '/v1/customers?q=a%00b&purpose=service',
      headers: bearer(ws.apiKey),
    });
    expect(query.statusCode).toBe(400);
    expect(query.json().error).toMatchObject({
      code: 'TEXT_INVALID_CHARACTER',
      details: { errors: [{ path: 'query.q' }] },
    });
  });

  it('ends a workspace transaction that runs past its deadline, and frees the connection', async () => {
    const { db } = fixture.database;
    const id = ws.workspace.id;
    await expect(
      inWorkspace(db, id, async (tx) => sql`SELECT 1`.execute(tx), { deadline: Date.now() - 1 }),
    ).rejects.toMatchObject({ code: 'REQUEST_TIMEOUT' });
    const deadline = Date.now() + 50;
    await expect(
      inWorkspace(
        db,
        id,
        async (tx) => {
          await sql`SELECT 1`.execute(tx);
          await new Promise((done) => setTimeout(done, deadline - Date.now() + 5));
          return sql`SELECT 2`.execute(tx);
        },
        { deadline },
      ),
    ).rejects.toMatchObject({ code: 'REQUEST_TIMEOUT', kind: 'unavailable' });
    const after = await inWorkspace(db, id, async (tx) => sql<{ n: number }>`SELECT 3 AS n`.execute(tx));
    expect(after.rows[0]?.n).toBe(3);
  });

  it.runIf(ENGINE === 'postgres')('cancels a statement that outlives the deadline on a server', async () => {
    const error = await inWorkspace(
      fixture.database.db,
      ws.workspace.id,
      async (tx) => sql`SELECT pg_sleep(20)`.execute(tx),
      { deadline: Date.now() + 300 },
    ).catch((e: unknown) => e);
    expect(classifyDatabaseError(error)).toMatchObject({ code: 'REQUEST_TIMEOUT', kind: 'unavailable' });
  });
});

describe(`Small things a new user meets (${ENGINE})`, () => {
  const fixture = useTestApp();
  let ws: TestWorkspace;
  beforeAll(async () => {
    ws = await createTestWorkspace(fixture.database);
  });
  const post = (url: string, payload: unknown) =>
    fixture.app.inject({ method: 'POST', url, headers: bearer(ws.apiKey), payload: payload as object });

  it('refuses a customer without any identifying field', async () => {
    for (const payload of [{}, { language: 'en' }, { givenName: null }]) {
      const res = await post('/v1/customers', payload);
      expect(res.statusCode).toBe(400);
      expect(res.json().error.code).toBe('CUSTOMER_EMPTY');
    }
    expect((await post('/v1/customers', { emails: ['who@example.com'] })).statusCode).toBe(201);
  });

  it('names the allowed values of an enum', async () => {
    const res = await post('/v1/value/refit', { period: 'month' });
    expect(res.statusCode).toBe(400);
    expect(res.json().error.details.errors).toEqual([
      { path: 'period', message: 'must be one of: week, day' },
    ]);
    expect(res.json().error.message).toBe('period must be one of: week, day.');
  });

  it('answers 415 to a body sent without a JSON content type', async () => {
    for (const headers of [{}, { 'content-type': 'text/plain' }]) {
      const res = await fixture.app.inject({
        method: 'POST',
        url: '/v1/customers',
        headers: { ...bearer(ws.apiKey), ...headers },
        payload: '{"givenName":"Ann"}',
      });
      expect(res.statusCode).toBe(415);
      expect(res.json().error.code).toBe('UNSUPPORTED_MEDIA_TYPE');
    }
  });

  it('says what is wrong with a policy addition, with paths, instead of failing', async () => {
    const res = await fixture.app.inject({
      method: 'PUT',
      url: '/v1/workspace/policy',
      headers: bearer(ws.apiKey),
      payload: { categories: [{}], purposes: [{ name: 'x', lawfulBasis: 'consent', roles: 'agent' }] },
    });
    expect(res.statusCode).toBe(400);
    const paths = (res.json().error.details.errors as { path: string }[]).map((e) => e.path);
    expect(paths).toEqual(expect.arrayContaining(['categories[0].name', 'purposes[0].roles']));
  });

  it('words the do-not-store refusal as one sentence naming the field', async () => {
    const res = await post('/v1/interactions', {
      ...purchase('dns-1'),
      properties: { cardNumber: '4111111111111111' },
    });
    expect(res.statusCode).toBe(400);
    expect(res.json().error.code).toBe('POLICY_DO_NOT_STORE');
    expect(res.json().error.message).toBe(
      'properties.cardNumber is of category "financial.card", which must not be stored: remove it, or set the workspace\'s doNotStore to "strip" to drop it.',
    );
  });

  it('masks UK National Insurance numbers in text, and refuses a national id in a name', async () => {
    const res = await post('/v1/interactions', {
      ...purchase('nino-1'),
      text: 'NI number QQ 12 34 56 C, also JG-10-37-59-A and JG 103 759 A',
    });
    expect(res.statusCode).toBe(201);
    expect(res.json().interaction.text).toBe('NI number ** ** ** ** *, also **-**-**-**-* and ** *** *** *');
    for (const payload of [{ givenName: '123-45-6789' }, { familyName: 'Smith JG103759A' }]) {
      const refused = await post('/v1/customers', payload);
      expect(refused.statusCode).toBe(400);
      expect(refused.json().error.code).toBe('POLICY_DO_NOT_STORE');
    }
  });

  it('fills every page of the customer list when more customers exist, merged ones left out', async () => {
    const other = await createTestWorkspace(fixture.database);
    const ids: string[] = [];
    for (let i = 0; i < 9; i++) {
      const res = await fixture.app.inject({
        method: 'POST',
        url: '/v1/customers',
        headers: bearer(other.apiKey),
        payload: { givenName: `Page${i}`, identities: [{ source: 'pages', externalId: `p${i}` }] },
      });
      ids.push(res.json().customer.id);
    }
    // Absorb every other early customer into the last one: the first pages would hold them.
    for (const absorbed of [ids[0], ids[2], ids[4]]) {
      const merged = await fixture.app.inject({
        method: 'POST',
        url: `/v1/customers/${ids[8]}/merge`,
        headers: bearer(other.apiKey),
        payload: { absorbedId: absorbed },
      });
      expect(merged.statusCode, merged.body).toBeLessThan(300);
    }
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const query: string = cursor ? `&cursor=${encodeURIComponent(cursor)}` : '';
      const page = await fixture.app.inject({
        url: `/v1/customers?limit=2&purpose=service${query}`,
        headers: bearer(other.apiKey),
      });
      const body = page.json() as { customers: { id: string }[]; nextCursor: string | null };
      if (body.nextCursor !== null) expect(body.customers).toHaveLength(2);
      seen.push(...body.customers.map((c) => c.id));
      cursor = body.nextCursor;
    } while (cursor !== null);
    expect(seen).toHaveLength(6);
  });
});
