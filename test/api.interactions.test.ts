import { describe, expect, it } from 'vitest';
import {
  bearer,
  buildTestApp,
  createTestWorkspace,
  ENGINE,
  reader,
  type TestWorkspace,
  useTestApp,
} from './helpers.ts';

const t = useTestApp();

function item(externalId: string, overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    type: 'purchase',
    channel: 'web',
    occurredAt: '2024-05-01T10:00:00Z',
    source: 'shop',
    externalId,
    customer: { identity: { source: 'shop', externalId: 'acct-1' } },
    amount: 25,
    currency: 'EUR',
    ...overrides,
  };
}

function post(ws: TestWorkspace, payload: unknown, headers: Record<string, string> = {}) {
  return t.app.inject({
    method: 'POST',
    url: '/v1/interactions',
    headers: { ...bearer(ws.apiKey), ...headers },
    payload: payload as Record<string, unknown>,
  });
}

function get(ws: TestWorkspace, url: string) {
  return t.app.inject({ method: 'GET', url, headers: reader(ws.apiKey) });
}

async function timelineIds(ws: TestWorkspace, customerId: string): Promise<string[]> {
  const response = await get(ws, `/v1/customers/${customerId}/timeline?limit=500`);
  expect(response.statusCode).toBe(200);
  return response.json().interactions.map((i: { externalId: string }) => i.externalId);
}

/** A customer of the workspace, made by ingesting an interaction naming a new identity. */
async function newCustomer(ws: TestWorkspace, account: string): Promise<string> {
  const response = await post(
    ws,
    item(`seed-${account}`, { customer: { identity: { source: 'shop', externalId: account } } }),
  );
  expect(response.statusCode).toBe(201);
  return response.json().interaction.customerId;
}

describe(`POST /v1/interactions, one interaction (${ENGINE})`, () => {
  it('answers 201 created with the stored interaction, then 200 duplicate with the original', async () => {
    const ws = await createTestWorkspace(t.database);
    const created = await post(ws, item('o-1', { properties: { orderId: 'W-1' } }));
    expect(created.statusCode).toBe(201);
    const { status, interaction } = created.json();
    expect(status).toBe('created');
    expect(interaction).toMatchObject({
      type: 'purchase',
      channel: 'web',
      initiatedBy: 'customer',
      occurredAt: '2024-05-01T10:00:00.000Z',
      source: 'shop',
      externalId: 'o-1',
      amount: 25,
      currency: 'EUR',
      sentiment: null,
      lineItems: null,
      properties: { orderId: 'W-1' },
    });
    expect(interaction.id).toMatch(/^[0-9a-f-]{36}$/);
    expect(interaction.customerId).toMatch(/^[0-9a-f-]{36}$/);

    const duplicate = await post(ws, item('o-1', { amount: 99 }));
    expect(duplicate.statusCode).toBe(200);
    expect(duplicate.json()).toEqual({ status: 'duplicate', id: interaction.id, interaction, withheld: [] });
    expect(await timelineIds(ws, interaction.customerId)).toEqual(['o-1']);
  });

  it('answers 400 with every problem and its path, storing nothing', async () => {
    const ws = await createTestWorkspace(t.database);
    const response = await post(
      ws,
      item('o-1', { occurredAt: '2024-05-01 10:00', colour: 'red', currency: undefined }),
    );
    expect(response.statusCode).toBe(400);
    const { error } = response.json();
    expect(error.code).toBe('INTERACTION_INVALID');
    expect(error.details.errors).toEqual(
      expect.arrayContaining([
        { path: 'colour', message: 'is not a known field' },
        { path: 'currency', message: 'is required' },
        { path: 'occurredAt', message: expect.stringContaining('ISO 8601') },
      ]),
    );
    const retry = await post(ws, item('o-1'));
    expect(retry.statusCode).toBe(201);
  });

  it('rejects a body that is not an object, and malformed JSON', async () => {
    const ws = await createTestWorkspace(t.database);
    const array = await post(ws, [item('o-1')]);
    expect(array.statusCode).toBe(400);
    const malformed = await t.app.inject({
      method: 'POST',
      url: '/v1/interactions',
      headers: { ...bearer(ws.apiKey), 'content-type': 'application/json' },
      payload: '{"type": "purchase",',
    });
    expect(malformed.statusCode).toBe(400);
    expect(malformed.json().error.code).toBe('MALFORMED_JSON');
  });

  it("rejects another workspace's customer id as CUSTOMER_NOT_FOUND and stores nothing", async () => {
    const mine = await createTestWorkspace(t.database);
    const theirs = await createTestWorkspace(t.database);
    const theirCustomer = await newCustomer(theirs, 'acct-T');
    const single = await post(mine, item('o-1', { customer: { id: theirCustomer } }));
    expect(single.statusCode).toBe(400);
    expect(single.json().error.code).toBe('CUSTOMER_NOT_FOUND');
    const batch = await post(mine, { interactions: [item('o-2', { customer: { id: theirCustomer } })] });
    expect(batch.statusCode).toBe(200);
    expect(batch.json().results[0]).toMatchObject({
      status: 'rejected',
      error: { code: 'CUSTOMER_NOT_FOUND' },
    });
    expect(await timelineIds(theirs, theirCustomer)).toEqual(['seed-acct-T']);
    const crossTimeline = await get(mine, `/v1/customers/${theirCustomer}/timeline`);
    expect(crossTimeline.statusCode).toBe(404);
  });

  it('answers 401 without a key', async () => {
    const response = await t.app.inject({ method: 'POST', url: '/v1/interactions', payload: item('o-1') });
    expect(response.statusCode).toBe(401);
  });
});

describe(`POST /v1/interactions, a batch (${ENGINE})`, () => {
  it('stores the good items, reports the bad ones by index and counts them', async () => {
    const ws = await createTestWorkspace(t.database);
    await post(ws, item('old'));
    const response = await post(ws, {
      interactions: [
        item('b-1'),
        item('b-2', { type: 'Not A Type' }),
        item('old'),
        item('b-1'),
        42,
        item('b-3', {
          type: 'complaint',
          amount: undefined,
          currency: undefined,
          properties: { severity: 'high' },
        }),
      ],
    });
    expect(response.statusCode).toBe(200);
    const { results, counts } = response.json();
    expect(counts).toEqual({ created: 2, duplicate: 2, rejected: 2 });
    expect(results.map((r: { status: string }) => r.status)).toEqual([
      'created',
      'rejected',
      'duplicate',
      'duplicate',
      'rejected',
      'created',
    ]);
    expect(results[1].error.details.errors).toEqual([
      { path: 'interactions[1].type', message: expect.stringContaining('lower-case') },
    ]);
    expect(results[3].id).toBe(results[0].id);
    expect(results[4].error.details.errors).toEqual([
      { path: 'interactions[4]', message: 'must be a JSON object' },
    ]);
    expect((await timelineIds(ws, results[0].customerId)).sort()).toEqual(['b-1', 'b-3', 'old']);
  });

  it('atomic: one bad item answers 400 BATCH_REJECTED and stores nothing', async () => {
    const ws = await createTestWorkspace(t.database);
    const customerId = await newCustomer(ws, 'acct-A');
    const ref = { id: customerId };
    const response = await post(ws, {
      atomic: true,
      interactions: [item('a-1', { customer: ref }), item('a-2', { customer: ref, sentiment: 3 })],
    });
    expect(response.statusCode).toBe(400);
    const { error } = response.json();
    expect(error.code).toBe('BATCH_REJECTED');
    expect(error.details.rejected).toEqual([
      { index: 1, error: expect.objectContaining({ code: 'INTERACTION_INVALID' }) },
    ]);
    expect(error.details.errors).toEqual([{ path: 'interactions[1].sentiment', message: 'must be ≤ 1' }]);
    expect(await timelineIds(ws, customerId)).toEqual(['seed-acct-A']);
  });

  it('validates the envelope: an array of 1 to 10,000 items and a boolean atomic', async () => {
    const ws = await createTestWorkspace(t.database);
    const notArray = await post(ws, { interactions: {} });
    expect(notArray.statusCode).toBe(400);
    expect(notArray.json().error.details.errors).toEqual([
      { path: 'interactions', message: 'must be an array' },
    ]);
    expect((await post(ws, { interactions: [] })).statusCode).toBe(400);
    const atomic = await post(ws, { interactions: [item('x')], atomic: 'yes' });
    expect(atomic.json().error.details.errors).toEqual([{ path: 'atomic', message: 'must be a boolean' }]);
    const extra = await post(ws, { interactions: [item('x')], mode: 'fast' });
    expect(extra.json().error.details.errors).toEqual([{ path: 'mode', message: 'is not a known field' }]);
    const tooMany = await post(ws, { interactions: new Array(10_001).fill({}) });
    expect(tooMany.statusCode).toBe(413);
    expect(tooMany.json().error.code).toBe('BATCH_TOO_LARGE');
  });

  it('answers 413 for a body over the size limit', async () => {
    const small = await buildTestApp(t.database, { bodyLimit: 10_000 });
    try {
      const ws = await createTestWorkspace(t.database);
      const response = await small.inject({
        method: 'POST',
        url: '/v1/interactions',
        headers: bearer(ws.apiKey),
        payload: { interactions: Array.from({ length: 100 }, (_, i) => item(`big-${i}`)) },
      });
      expect(response.statusCode).toBe(413);
      expect(response.json().error.code).toBe('BODY_TOO_LARGE');
    } finally {
      await small.close();
    }
  });

  it('replays a request with the same Idempotency-Key, and refuses the key for another body', async () => {
    const ws = await createTestWorkspace(t.database);
    const body = { interactions: [item('k-1'), item('k-2')] };
    const first = await post(ws, body, { 'idempotency-key': 'batch-1' });
    expect(first.statusCode).toBe(200);
    expect(first.json().counts).toEqual({ created: 2, duplicate: 0, rejected: 0 });
    const replay = await post(ws, body, { 'idempotency-key': 'batch-1' });
    expect(replay.statusCode).toBe(200);
    expect(replay.headers['idempotent-replayed']).toBe('true');
    expect(replay.json()).toEqual(first.json());
    const other = await post(ws, { interactions: [item('k-3')] }, { 'idempotency-key': 'batch-1' });
    expect(other.statusCode).toBe(409);
    expect(other.json().error.code).toBe('IDEMPOTENCY_KEY_REUSED');

    const single = await post(ws, item('k-4'), { 'idempotency-key': 'single-1' });
    expect(single.statusCode).toBe(201);
    const singleReplay = await post(ws, item('k-4'), { 'idempotency-key': 'single-1' });
    expect(singleReplay.statusCode).toBe(201);
    expect(singleReplay.json()).toEqual(single.json());
    expect((await timelineIds(ws, first.json().results[0].customerId)).sort()).toEqual(['k-1', 'k-2', 'k-4']);
  });

  it('does not keep an Idempotency-Key for a rejected request, so it can be retried', async () => {
    const ws = await createTestWorkspace(t.database);
    const bad = await post(ws, item('r-1', { channel: '' }), { 'idempotency-key': 'retry-1' });
    expect(bad.statusCode).toBe(400);
    const good = await post(ws, item('r-1'), { 'idempotency-key': 'retry-1' });
    expect(good.statusCode).toBe(201);
  });
});

describe(`GET /v1/interactions/{id} (${ENGINE})`, () => {
  it("answers the interaction, and 404 for another workspace's or an unknown id", async () => {
    const mine = await createTestWorkspace(t.database);
    const theirs = await createTestWorkspace(t.database);
    const created = (await post(mine, item('g-1'))).json().interaction;
    const found = await get(mine, `/v1/interactions/${created.id}`);
    expect(found.statusCode).toBe(200);
    expect(found.json()).toEqual({ interaction: created, withheld: [] });
    const cross = await get(theirs, `/v1/interactions/${created.id}`);
    expect(cross.statusCode).toBe(404);
    expect(cross.json().error.code).toBe('INTERACTION_NOT_FOUND');
    expect((await get(mine, '/v1/interactions/0190a1b2-0000-7000-8000-000000000001')).statusCode).toBe(404);
    expect((await get(mine, '/v1/interactions/not-a-uuid')).statusCode).toBe(400);
  });
});

describe(`GET /v1/customers/{id}/timeline (${ENGINE})`, () => {
  async function seed(ws: TestWorkspace): Promise<string> {
    const account = { identity: { source: 'shop', externalId: 'tl' } };
    const items = Array.from({ length: 12 }, (_, i) =>
      item(`t-${String(i).padStart(2, '0')}`, {
        customer: account,
        type: i % 2 === 0 ? 'purchase' : 'call',
        channel: i % 3 === 0 ? 'phone' : 'web',
        occurredAt: `2024-01-${String(i + 1).padStart(2, '0')}T08:00:00Z`,
        ...(i % 2 === 0 ? {} : { amount: undefined, currency: undefined }),
      }),
    );
    const response = await post(ws, { interactions: items });
    expect(response.json().counts.created).toBe(12);
    return response.json().results[0].customerId;
  }

  it('pages newest first through every interaction with nextCursor', async () => {
    const ws = await createTestWorkspace(t.database);
    const customerId = await seed(ws);
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const query: string = `limit=5${cursor ? `&cursor=${cursor}` : ''}`;
      const response = await get(ws, `/v1/customers/${customerId}/timeline?${query}`);
      expect(response.statusCode).toBe(200);
      const page: { interactions: { externalId: string }[]; nextCursor: string | null } = response.json();
      seen.push(...page.interactions.map((i) => i.externalId));
      cursor = page.nextCursor;
    } while (cursor);
    expect(seen).toEqual(Array.from({ length: 12 }, (_, i) => `t-${String(11 - i).padStart(2, '0')}`));
  });

  it('filters by type, channel, time range and answers oldest first with order=asc', async () => {
    const ws = await createTestWorkspace(t.database);
    const customerId = await seed(ws);
    const ids = async (query: string) => {
      const response = await get(ws, `/v1/customers/${customerId}/timeline?${query}`);
      expect(response.statusCode).toBe(200);
      return response.json().interactions.map((i: { externalId: string }) => i.externalId);
    };
    expect(await ids('type=call&channel=phone')).toEqual(['t-09', 't-03']);
    expect(await ids('type=call,purchase&channel=phone,web&limit=2')).toEqual(['t-11', 't-10']);
    expect(await ids('from=2024-01-03T08:00:00Z&to=2024-01-05T08:00:00Z&order=asc')).toEqual([
      't-02',
      't-03',
    ]);
    expect(await ids('order=asc&limit=3')).toEqual(['t-00', 't-01', 't-02']);
  });

  it('refuses bad query parameters', async () => {
    const ws = await createTestWorkspace(t.database);
    const customerId = await seed(ws);
    for (const query of [
      'limit=0',
      'limit=501',
      'order=sideways',
      'type=Bad%20Type',
      'from=yesterday',
      'cursor=zzz',
    ]) {
      const response = await get(ws, `/v1/customers/${customerId}/timeline?${query}`);
      expect(response.statusCode, query).toBe(400);
    }
  });

  it("answers 404 for another workspace's customer and an unknown one", async () => {
    const mine = await createTestWorkspace(t.database);
    const theirs = await createTestWorkspace(t.database);
    const customerId = await seed(mine);
    const cross = await get(theirs, `/v1/customers/${customerId}/timeline`);
    expect(cross.statusCode).toBe(404);
    expect(cross.json().error.code).toBe('CUSTOMER_NOT_FOUND');
    const unknown = await get(mine, '/v1/customers/0190a1b2-0000-7000-8000-000000000001/timeline');
    expect(unknown.statusCode).toBe(404);
  });
});

describe('OpenAPI document', () => {
  it('documents the interaction routes under the interactions tag', async () => {
    const response = await t.app.inject({ method: 'GET', url: '/openapi.json' });
    const { paths } = response.json();
    expect(paths['/v1/interactions'].post.tags).toEqual(['interactions']);
    expect(paths['/v1/interactions/{id}'].get.tags).toEqual(['interactions']);
    expect(paths['/v1/customers/{id}/timeline'].get.tags).toEqual(['interactions']);
    expect(JSON.stringify(paths['/v1/interactions'].post.requestBody)).toContain('occurredAt');
  });
});
