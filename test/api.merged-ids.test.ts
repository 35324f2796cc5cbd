import { beforeAll, describe, expect, it } from 'vitest';
import { bearer, createTestWorkspace, ENGINE, reader, type TestWorkspace, useTestApp } from './helpers.ts';

/**
 * A merged-away customer id answers the same on every route that takes a customer id: 404
 * `CUSTOMER_MERGED` with `details.mergedInto`, the last survivor of the merge chain, so an integration
 * that stored the id can follow it. Ingest is the one exception (an event naming the old id is recorded
 * on the survivor), tested last.
 */

const t = useTestApp();

interface Call {
  method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  /** The route as the OpenAPI document names it. */
  route: string;
  purpose?: string;
  body?: Record<string, unknown>;
}

/** Every route that takes a customer id, with a request that would succeed for an active customer. */
const CALLS: Call[] = [
  { method: 'GET', route: '/v1/customers/{id}' },
  { method: 'PATCH', route: '/v1/customers/{id}', body: { language: 'en' } },
  { method: 'GET', route: '/v1/customers/{id}/history' },
  { method: 'GET', route: '/v1/customers/{id}/timeline' },
  { method: 'POST', route: '/v1/customers/{id}/consents', body: { purpose: 'marketing', status: 'granted' } },
  { method: 'GET', route: '/v1/customers/{id}/consents', purpose: 'legal' },
  { method: 'GET', route: '/v1/customers/{id}/privacy', purpose: 'legal' },
  { method: 'PUT', route: '/v1/customers/{id}/intimacy', body: { level: 0 } },
  { method: 'POST', route: '/v1/customers/{id}/privacy-flags', body: { kind: 'restrict' } },
  { method: 'GET', route: '/v1/customers/{id}/disclosures', purpose: 'legal' },
  { method: 'GET', route: '/v1/customers/{id}/recipients', purpose: 'legal' },
  { method: 'GET', route: '/v1/customers/{id}/access-log', purpose: 'legal' },
  { method: 'POST', route: '/v1/customers/{id}/portal-links', body: { expiresInHours: 1 } },
  {
    method: 'POST',
    route: '/v1/customers/{id}/shares',
    purpose: 'sale',
    body: { recipient: 'merged-partner' },
  },
  {
    method: 'POST',
    route: '/v1/customers/{id}/rectify',
    body: { field: 'givenName', value: 'Ann', reason: 'typo' },
  },
  { method: 'POST', route: '/v1/customers/{id}/merge', body: { absorbedId: '{other}' } },
  { method: 'GET', route: '/v1/segments/{id}/members/{customerId}/why' },
  { method: 'GET', route: '/v1/customers/{id}/360' },
  { method: 'GET', route: '/v1/customers/{id}/relationship' },
  { method: 'GET', route: '/v1/customers/{id}/recommendations', purpose: 'personalization' },
  { method: 'GET', route: '/v1/customers/{id}/facts' },
  { method: 'GET', route: '/v1/customers/{id}/next-best-actions' },
  { method: 'GET', route: '/v1/customers/{id}/decisions' },
  {
    method: 'POST',
    route: '/v1/customers/{id}/facts',
    body: { key: 'receipt', value: 'paper', sourceKind: 'declared', source: 'store' },
  },
  { method: 'GET', route: '/v1/customers/{id}/facts/{factId}/history' },
  { method: 'PATCH', route: '/v1/customers/{id}/facts/{factId}', body: { value: 'email' } },
  { method: 'DELETE', route: '/v1/customers/{id}/facts/{factId}' },
  {
    method: 'POST',
    route: '/v1/customers/{id}/prefill',
    purpose: 'billing',
    body: { fields: ['receipt'], purpose: 'billing' },
  },
  {
    method: 'POST',
    route: '/v1/customers/{id}/moves',
    body: {
      address: { line1: '2 New Road', city: 'Leeds', postcode: 'LS1 1AA', country: 'GB' },
      source: 'store',
    },
  },
];

async function request(ws: TestWorkspace, call: Call, ids: Record<string, string>) {
  const fill = (text: string) => text.replace(/\{(\w+)\}/g, (_, name: string) => ids[name] ?? `{${name}}`);
  const body =
    call.body === undefined
      ? undefined
      : Object.fromEntries(
          Object.entries(call.body).map(([k, v]) => [k, typeof v === 'string' ? fill(v) : v]),
        );
  return t.app.inject({
    method: call.method,
    url: fill(call.route),
    headers: reader(ws.apiKey, call.purpose ?? 'service'),
    ...(body === undefined ? {} : { payload: body }),
  });
}

async function createCustomer(ws: TestWorkspace, givenName: string): Promise<string> {
  const response = await t.app.inject({
    method: 'POST',
    url: '/v1/customers',
    headers: bearer(ws.apiKey),
    payload: { givenName, familyName: 'Merged', emails: [`${givenName.toLowerCase()}@example.com`] },
  });
  expect(response.statusCode, response.body).toBe(201);
  return response.json().customer.id;
}

async function merge(ws: TestWorkspace, survivor: string, absorbed: string): Promise<void> {
  const response = await t.app.inject({
    method: 'POST',
    url: `/v1/customers/${survivor}/merge`,
    headers: bearer(ws.apiKey),
    payload: { absorbedId: absorbed },
  });
  expect(response.statusCode, response.body).toBe(200);
}

describe(`merged customer ids (${ENGINE})`, () => {
  let ws: TestWorkspace;
  /** `first` was merged into `middle`, which was then merged into `last`; `other` is unrelated. */
  const ids: Record<string, string> = {};

  beforeAll(async () => {
    ws = await createTestWorkspace(t.database);
    ids.first = await createCustomer(ws, 'Ann');
    ids.middle = await createCustomer(ws, 'Anne');
    ids.last = await createCustomer(ws, 'Annie');
    ids.other = await createCustomer(ws, 'Bob');
    await merge(ws, ids.middle, ids.first);
    await merge(ws, ids.last, ids.middle);
    const partner = await t.app.inject({
      method: 'POST',
      url: '/v1/recipients',
      headers: bearer(ws.apiKey),
      payload: { name: 'merged-partner', kind: 'partner', purposes: ['sale'] },
    });
    expect(partner.statusCode, partner.body).toBe(201);
    const segment = await t.app.inject({
      method: 'POST',
      url: '/v1/segments',
      headers: reader(ws.apiKey),
      payload: {
        name: 'everyone called Merged',
        definition: { field: 'familyName', op: 'eq', value: 'Merged' },
      },
    });
    expect(segment.statusCode, segment.body).toBe(201);
    ids.segment = segment.json().segment.id;
    // A fact id that exists nowhere: the merged customer id is answered before the fact is looked up.
    ids.factId = '01900000-0000-7000-8000-000000000000';
  });

  it('covers every route of the API that takes a customer id', async () => {
    const document = (await t.app.inject({ url: '/openapi.json' })).json() as {
      paths: Record<string, Record<string, unknown>>;
    };
    const routes = Object.entries(document.paths).flatMap(([path, operations]) =>
      /\/customers\/\{id\}|\{customerId\}/.test(path)
        ? Object.keys(operations)
            .filter((m) => ['get', 'post', 'put', 'patch', 'delete'].includes(m))
            .map((m) => `${m.toUpperCase()} ${path}`)
        : [],
    );
    expect(routes.sort()).toEqual(CALLS.map((c) => `${c.method} ${c.route}`).sort());
  });

  it.each(CALLS)('$method $route answers 404 CUSTOMER_MERGED with the last survivor', async (call) => {
    for (const merged of [ids.first ?? '', ids.middle ?? '']) {
      const targets = { ...ids, id: merged, customerId: merged };
      if (call.route.includes('/segments/')) {
        targets.id = ids.segment ?? '';
        targets.customerId = merged;
      }
      const response = await request(ws, call, targets);
      expect(response.statusCode, `${call.method} ${call.route}: ${response.body}`).toBe(404);
      expect(response.json().error).toMatchObject({
        code: 'CUSTOMER_MERGED',
        details: { id: merged, mergedInto: ids.last },
      });
    }
  });

  it('answers the survivor itself normally, and an unknown id CUSTOMER_NOT_FOUND', async () => {
    const survivor = await t.app.inject({ url: `/v1/customers/${ids.last}`, headers: reader(ws.apiKey) });
    expect(survivor.statusCode).toBe(200);
    const unknown = await t.app.inject({
      url: '/v1/customers/01a23bcc-0000-7000-8000-000000000000',
      headers: reader(ws.apiKey),
    });
    expect(unknown.statusCode).toBe(404);
    expect(unknown.json().error.code).toBe('CUSTOMER_NOT_FOUND');
  });

  it('keeps another workspace from learning that an id was merged', async () => {
    const stranger = await createTestWorkspace(t.database);
    const response = await t.app.inject({
      url: `/v1/customers/${ids.first}`,
      headers: reader(stranger.apiKey),
    });
    expect(response.statusCode).toBe(404);
    expect(response.json().error.code).toBe('CUSTOMER_NOT_FOUND');
  });

  it('records an event sent with a merged id on the survivor', async () => {
    const response = await t.app.inject({
      method: 'POST',
      url: '/v1/interactions',
      headers: bearer(ws.apiKey),
      payload: {
        type: 'visit',
        channel: 'store',
        occurredAt: '2025-05-01T10:00:00Z',
        source: 'pos',
        externalId: 'merged-visit-1',
        customer: { id: ids.first },
        initiatedBy: 'customer',
      },
    });
    expect(response.statusCode, response.body).toBeLessThan(300);
    const timeline = await t.app.inject({
      url: `/v1/customers/${ids.last}/timeline`,
      headers: reader(ws.apiKey),
    });
    expect(timeline.json().interactions.map((i: { externalId: string }) => i.externalId)).toContain(
      'merged-visit-1',
    );
  });
});
