import { beforeAll, describe, expect, it } from 'vitest';
import { segmentRoutes } from '../src/api/routes/segments.ts';
import type { Role } from '../src/shared/access.ts';
import { KeyVerifier } from '../src/workspaces/index.ts';
import {
  bearer,
  createTestKey,
  createTestWorkspace,
  ENGINE,
  inTestWorkspace,
  reader,
  type TestWorkspace,
  useTestApp,
} from './helpers.ts';
import { valuePopulation } from './value-population.ts';

/**
 * Segments over HTTP: membership follows new events (live and materialised), time windows end now,
 * "why" names each condition, and the purpose decides: a filter on a category the purpose may not read
 * is 403, members are only customers the purpose may process, and per-customer value fields are
 * withheld below the intimacy their category needs.
 */

const t = useTestApp();

beforeAll(async () => {
  // Until the application registers the segment routes itself.
  if (!t.app.hasRoute({ method: 'GET', url: '/v1/segments' })) {
    await t.app.register(segmentRoutes({ db: t.database.db, keys: new KeyVerifier(t.database.db) }), {
      prefix: '/v1',
    });
  }
});

const DAY = 86_400_000;
let sequence = 0;

function keyFor(ws: TestWorkspace, role: Role): Promise<string> {
  return createTestKey(t.database, ws, role);
}

function request(method: 'GET' | 'POST' | 'PUT' | 'DELETE', url: string, headers: object, payload?: unknown) {
  return t.app.inject({
    method,
    url,
    headers: headers as Record<string, string>,
    ...(payload === undefined ? {} : { payload: payload as object }),
  });
}

/** Ingests one interaction for an account; returns the customer id. */
async function ingest(
  ws: TestWorkspace,
  account: string,
  overrides: Record<string, unknown> = {},
): Promise<string> {
  sequence += 1;
  const response = await request('POST', '/v1/interactions', bearer(ws.apiKey), {
    type: 'purchase',
    channel: 'web',
    occurredAt: new Date(Date.now() - DAY).toISOString(),
    source: 'shop',
    externalId: `e-${sequence}`,
    customer: { identity: { source: 'shop', externalId: account } },
    amount: 25,
    currency: 'EUR',
    ...overrides,
  });
  expect(response.statusCode, response.body).toBe(201);
  return response.json().interaction.customerId;
}

/** Buyers besides a test's own, enough for the value model to fit; returns how many customers they are. */
async function ingestPopulation(ws: TestWorkspace): Promise<number> {
  const items = valuePopulation({ customers: POPULATION, end: new Date(Date.now() - DAY) });
  const response = await request('POST', '/v1/interactions', bearer(ws.apiKey), { interactions: items });
  expect(response.statusCode, response.body).toBe(200);
  return new Set(items.map((i) => JSON.stringify((i as { customer: unknown }).customer))).size;
}

const POPULATION = 300;

async function createSegment(apiKey: string, purpose: string, name: string, definition: unknown) {
  return request('POST', '/v1/segments', reader(apiKey, purpose), { name, definition });
}

async function memberIds(apiKey: string, purpose: string, segmentId: string): Promise<string[]> {
  const response = await request(
    'GET',
    `/v1/segments/${segmentId}/members?limit=1000`,
    reader(apiKey, purpose),
  );
  expect(response.statusCode, response.body).toBe(200);
  return response.json().members.map((m: { customerId: string }) => m.customerId);
}

async function preview(apiKey: string, purpose: string, definition: unknown) {
  return request('POST', '/v1/segments/preview', reader(apiKey, purpose), { definition });
}

async function materialised(ws: TestWorkspace, segmentId: string): Promise<string[]> {
  const rows = await inTestWorkspace(t.database, ws, (tx) =>
    tx.selectFrom('segment_members').select('customer_id').where('segment_id', '=', segmentId).execute(),
  );
  return rows.map((r) => r.customer_id).sort();
}

describe(`segments over HTTP (${ENGINE})`, () => {
  it('a customer enters a segment when new events arrive, live and materialised', async () => {
    const ws = await createTestWorkspace(t.database);
    const a = await ingest(ws, 'acct-a');
    const b = await ingest(ws, 'acct-b', { channel: 'store' });
    const definition = {
      aggregate: 'count',
      type: 'purchase',
      channel: 'web',
      within: 'P30D',
      op: 'gte',
      value: 2,
    };
    const created = await createSegment(ws.apiKey, 'service', 'twice on the web', definition);
    expect(created.statusCode, created.body).toBe(201);
    const segment = created.json().segment;
    expect(segment).toMatchObject({ purpose: 'service', dynamic: true });
    expect(await memberIds(ws.apiKey, 'service', segment.id)).toEqual([]);
    expect(await materialised(ws, segment.id)).toEqual([]);

    await ingest(ws, 'acct-a', { occurredAt: new Date(Date.now() - 2 * DAY).toISOString() });
    await ingest(ws, 'acct-b', { channel: 'store' });
    expect(await memberIds(ws.apiKey, 'service', segment.id)).toEqual([a]);
    expect(await materialised(ws, segment.id)).toEqual([a]);
    const count = await request('GET', `/v1/segments/${segment.id}/count`, reader(ws.apiKey));
    expect(count.json()).toEqual({ count: 1 });
    const page = await request('GET', `/v1/segments/${segment.id}/members`, reader(ws.apiKey));
    expect(page.json().members[0].since).not.toBeNull();
    expect(b).not.toBe(a);
  });

  it('a window ends now and reaches back exactly its length', async () => {
    const ws = await createTestWorkspace(t.database);
    const now = Date.now();
    await ingest(ws, 'inside', { occurredAt: new Date(now - 30 * DAY + 60_000).toISOString() });
    await ingest(ws, 'outside', { occurredAt: new Date(now - 30 * DAY - 60_000).toISOString() });
    await ingest(ws, 'future', { occurredAt: new Date(now + 60 * 60_000).toISOString() });
    const within = { aggregate: 'count', type: 'purchase', within: 'P30D', op: 'gte', value: 1 };
    expect((await preview(ws.apiKey, 'service', within)).json()).toEqual({ count: 1 });
    const weeks = { ...within, within: 'P5W' };
    expect((await preview(ws.apiKey, 'service', weeks)).json()).toEqual({ count: 2 });
    const lapsed = { aggregate: 'last', type: 'purchase', op: 'lt', value: 'P30D' };
    expect((await preview(ws.apiKey, 'service', lapsed)).json()).toEqual({ count: 1 });
    const none = { not: { aggregate: 'count', type: 'purchase', within: 30, op: 'gte', value: 1 } };
    expect((await preview(ws.apiKey, 'service', none)).json()).toEqual({ count: 2 });
  });

  it('why names every condition, whether it held and the value it read', async () => {
    const ws = await createTestWorkspace(t.database);
    const a = await ingest(ws, 'why-a', { amount: 80 });
    await ingest(ws, 'why-a', { amount: 40, channel: 'store' });
    const definition = {
      all: [
        { aggregate: 'sum', type: 'purchase', currency: 'EUR', op: 'gte', value: 100 },
        {
          any: [
            { aggregate: 'count', channel: 'store', op: 'gte', value: 1 },
            { field: 'language', op: 'eq', value: 'fr' },
          ],
        },
      ],
    };
    const created = await createSegment(ws.apiKey, 'service', 'big spenders', definition);
    const id = created.json().segment.id;
    const why = await request('GET', `/v1/segments/${id}/members/${a}/why`, reader(ws.apiKey));
    expect(why.statusCode, why.body).toBe(200);
    expect(why.json()).toMatchObject({
      customerId: a,
      member: true,
      conditions: [
        { path: 'definition.all[0]', holds: true, value: 120 },
        { path: 'definition.all[1].any[0]', holds: true, value: 1 },
        { path: 'definition.all[1].any[1]', holds: null, value: null },
      ],
    });
    const other = await ingest(ws, 'why-b', { amount: 10 });
    const not = await request('GET', `/v1/segments/${id}/members/${other}/why`, reader(ws.apiKey));
    expect(not.json()).toMatchObject({ member: false, conditions: [{ holds: false, value: 10 }, {}, {}] });
  });

  it('a definition over a category the purpose may not read is 403, and invalid ones say where', async () => {
    const ws = await createTestWorkspace(t.database);
    const analyst = await keyFor(ws, 'analyst');
    const byName = { field: 'givenName', op: 'eq', value: 'Ana' };
    const refused = await preview(analyst, 'analytics', byName);
    expect(refused.statusCode).toBe(403);
    expect(refused.json().error).toMatchObject({
      code: 'FILTER_NOT_ALLOWED',
      details: { path: 'definition', category: 'identity.name', reason: 'PSEUDONYMISED' },
    });
    expect((await createSegment(analyst, 'analytics', 'by name', { all: [byName] })).statusCode).toBe(403);
    // Saved for service, the same segment cannot be read for analytics.
    const saved = await createSegment(ws.apiKey, 'service', 'anas', byName);
    expect(saved.statusCode).toBe(201);
    const count = await request(
      'GET',
      `/v1/segments/${saved.json().segment.id}/count`,
      reader(analyst, 'analytics'),
    );
    expect(count.statusCode).toBe(403);
    expect(count.json().error.code).toBe('FILTER_NOT_ALLOWED');

    const bad = await preview(ws.apiKey, 'service', {
      all: [{ field: 'clv', op: 'in', value: 3 }, { nope: 1 }],
    });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().error.code).toBe('SEGMENT_DEFINITION_INVALID');
    expect(bad.json().error.details.errors.map((e: { path: string }) => e.path)).toEqual([
      'definition.all[0].op',
      'definition.all[1]',
    ]);
  });

  it('for marketing, members are only consenting customers, and derived scores need intimacy 3', async () => {
    const ws = await createTestWorkspace(t.database);
    const marketer = await keyFor(ws, 'marketer');
    const consenting = await ingest(ws, 'm-yes');
    const silent = await ingest(ws, 'm-no');
    const close = await ingest(ws, 'm-close');
    for (const id of [consenting, close]) {
      const granted = await request('POST', `/v1/customers/${id}/consents`, reader(ws.apiKey), {
        purpose: 'marketing',
        status: 'granted',
      });
      expect(granted.statusCode, granted.body).toBe(201);
    }
    const raised = await request('PUT', `/v1/customers/${close}/intimacy`, reader(ws.apiKey), { level: 3 });
    expect(raised.statusCode, raised.body).toBe(200);
    const population = await ingestPopulation(ws);
    const refit = await request('POST', '/v1/value/refit', bearer(ws.apiKey), {});
    expect(refit.statusCode, refit.body).toBe(200);
    expect(refit.json()).toMatchObject({ status: 'fitted', customers: 3 + population });

    const buyers = await createSegment(marketer, 'marketing', 'buyers', {
      aggregate: 'count',
      type: 'purchase',
      op: 'gte',
      value: 1,
    });
    expect(buyers.statusCode, buyers.body).toBe(201);
    const ids = await memberIds(marketer, 'marketing', buyers.json().segment.id);
    expect(ids.sort()).toEqual([consenting, close].sort());
    expect(ids).not.toContain(silent);

    const page = await request(
      'GET',
      `/v1/segments/${buyers.json().segment.id}/members`,
      reader(marketer, 'marketing'),
    );
    const byId = new Map(page.json().members.map((m: { customerId: string }) => [m.customerId, m]));
    expect(byId.get(consenting)).toMatchObject({
      value: { clv: null, pAlive: null, rfmSegment: null, purchases: 1 },
      withheld: expect.arrayContaining([{ field: 'value.clv', reason: 'INTIMACY_TOO_LOW' }]),
    });
    expect((byId.get(close) as { value: { clv: number } }).value.clv).toEqual(expect.any(Number));

    // The customer read shows the same profile: transaction figures, derived scores only from intimacy 3.
    const read = await request('GET', `/v1/customers/${consenting}`, reader(marketer, 'marketing'));
    expect(read.json().customer.value).toMatchObject({ purchases: 1, clv: null, rfm: null, pAlive: null });
    expect(read.json().customer.withheld).toContainEqual({ field: 'value.clv', reason: 'INTIMACY_TOO_LOW' });
    const closeRead = await request('GET', `/v1/customers/${close}`, reader(marketer, 'marketing'));
    expect(closeRead.json().customer.value.clv).toEqual(expect.any(Number));

    // A condition on a derived score holds only where the customer opened it to marketing, even negated.
    const scored = { field: 'pAlive', op: 'gte', value: 0 };
    expect((await preview(marketer, 'marketing', scored)).json()).toEqual({ count: 1 });
    expect((await preview(marketer, 'marketing', { not: scored })).json()).toEqual({ count: 0 });
    expect((await preview(ws.apiKey, 'service', scored)).json()).toEqual({ count: 3 + population });
  });

  it('a value segment follows purchases ingested after the refit', async () => {
    const ws = await createTestWorkspace(t.database);
    const a = await ingest(ws, 'v-a', { occurredAt: new Date(Date.now() - 40 * DAY).toISOString() });
    await ingest(ws, 'v-b', { occurredAt: new Date(Date.now() - 40 * DAY).toISOString() });
    await ingest(ws, 'v-b', { occurredAt: new Date(Date.now() - 20 * DAY).toISOString() });
    await ingestPopulation(ws);
    const refit = await request('POST', '/v1/value/refit', bearer(ws.apiKey), {});
    expect(refit.json()).toMatchObject({ status: 'fitted' });
    // Three purchases in the profile, among the customers who bought on the web (not the population's store).
    const created = await createSegment(ws.apiKey, 'service', 'three purchases', {
      all: [
        { field: 'purchases', op: 'gte', value: 3 },
        { aggregate: 'count', type: 'purchase', channel: 'web', op: 'gte', value: 1 },
      ],
    });
    const id = created.json().segment.id;
    expect(await materialised(ws, id)).toEqual([]);
    await ingest(ws, 'v-a', { occurredAt: new Date(Date.now() - 10 * DAY).toISOString() });
    expect(await materialised(ws, id)).toEqual([]);
    await ingest(ws, 'v-a', { occurredAt: new Date(Date.now() - 5 * DAY).toISOString() });
    expect(await materialised(ws, id)).toEqual([a]);
    expect(await memberIds(ws.apiKey, 'service', id)).toEqual([a]);
    const read = await request('GET', `/v1/customers/${a}`, reader(ws.apiKey));
    expect(read.json().customer.value).toMatchObject({ purchases: 3, frequency: 2 });
  });

  it('another workspace sees neither the segment nor its members', async () => {
    const ws = await createTestWorkspace(t.database);
    const other = await createTestWorkspace(t.database);
    const mine = await ingest(ws, 'iso-a');
    await ingest(other, 'iso-b');
    const created = await createSegment(ws.apiKey, 'service', 'everyone', {
      field: 'intimacyLevel',
      op: 'gte',
      value: 0,
    });
    const id = created.json().segment.id;
    expect(await memberIds(ws.apiKey, 'service', id)).toEqual([mine]);
    for (const url of [`/v1/segments/${id}`, `/v1/segments/${id}/count`, `/v1/segments/${id}/members`]) {
      const response = await request('GET', url, reader(other.apiKey));
      expect(response.statusCode, url).toBe(404);
      expect(response.json().error.code).toBe('SEGMENT_NOT_FOUND');
    }
    const why = await request('GET', `/v1/segments/${id}/members/${mine}/why`, reader(other.apiKey));
    expect(why.statusCode).toBe(404);
    const list = await request('GET', '/v1/segments', reader(other.apiKey));
    expect(list.json().segments).toEqual([]);
    const deleted = await request('DELETE', `/v1/segments/${id}`, reader(other.apiKey));
    expect(deleted.statusCode).toBe(404);
    expect((await request('DELETE', `/v1/segments/${id}`, reader(ws.apiKey))).statusCode).toBe(200);
    expect((await request('GET', `/v1/segments/${id}`, reader(ws.apiKey))).statusCode).toBe(404);
  });
});
