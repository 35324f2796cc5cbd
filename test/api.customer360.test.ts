import { describe, expect, it } from 'vitest';
import { bearer, createTestWorkspace, ENGINE, reader, type TestWorkspace, useTestApp } from './helpers.ts';

/**
 * The customer 360: one read gives what the single reads give (the customer with its value, the newest
 * interactions, consents and intimacy, segment memberships), under one decision: a purpose that may not
 * process the customer sees nothing personal, and consents stay out of purposes other than service and
 * legal.
 */

const t = useTestApp();
const DAY = 86_400_000;

function get(url: string, headers: Record<string, string>) {
  return t.app.inject({ method: 'GET', url, headers });
}

function post(url: string, headers: Record<string, string>, payload: object) {
  return t.app.inject({ method: 'POST', url, headers, payload });
}

/** A customer with a name and an email, and `count` web purchases on consecutive days. */
async function customerWithHistory(ws: TestWorkspace, count: number): Promise<string> {
  const created = await post('/v1/customers', reader(ws.apiKey), {
    givenName: 'Maria',
    familyName: 'Garcia',
    emails: ['maria.garcia@example.com'],
  });
  expect(created.statusCode, created.body).toBe(201);
  const id: string = created.json().customer.id;
  const interactions = Array.from({ length: count }, (_, i) => ({
    type: 'purchase',
    channel: 'web',
    occurredAt: new Date(Date.now() - (i + 1) * DAY).toISOString(),
    source: 'shop',
    externalId: `order-${id}-${i}`,
    customer: { id },
    amount: 10 + i,
    currency: 'EUR',
  }));
  const ingested = await post('/v1/interactions', bearer(ws.apiKey), { interactions });
  expect(ingested.statusCode, ingested.body).toBe(200);
  expect(ingested.json().counts.created).toBe(count);
  return id;
}

describe(`GET /v1/customers/{id}/360 (${ENGINE})`, () => {
  it('gives the customer, the newest 50 interactions, consents and intimacy, and segments in one read', async () => {
    const ws = await createTestWorkspace(t.database);
    const id = await customerWithHistory(ws, 55);
    const consent = await post(`/v1/customers/${id}/consents`, reader(ws.apiKey), {
      purpose: 'marketing',
      status: 'granted',
    });
    expect(consent.statusCode, consent.body).toBe(201);
    const segment = await post('/v1/segments', reader(ws.apiKey), {
      name: 'web buyers',
      definition: {
        aggregate: 'count',
        type: 'purchase',
        channel: 'web',
        within: 'P365D',
        op: 'gte',
        value: 1,
      },
    });
    expect(segment.statusCode, segment.body).toBe(201);

    const response = await get(`/v1/customers/${id}/360?purpose=service`, bearer(ws.apiKey));
    expect(response.statusCode, response.body).toBe(200);
    const view = response.json();

    const single = (await get(`/v1/customers/${id}?purpose=service`, bearer(ws.apiKey))).json();
    expect(view.customer).toEqual(single.customer);
    const timeline = (
      await get(`/v1/customers/${id}/timeline?purpose=service&limit=50`, bearer(ws.apiKey))
    ).json();
    expect(view.interactions).toEqual(timeline.interactions);
    expect(view.interactions).toHaveLength(50);
    expect(view.interactionsCursor).toBe(timeline.nextCursor);
    expect(view.interactionsCursor).not.toBeNull();

    expect(view.privacy).toMatchObject({ intimacyLevel: 1, restricted: false, objections: [] });
    expect(view.privacy.consents).toEqual([
      expect.objectContaining({ purpose: 'marketing', status: 'granted', expired: false }),
    ]);
    expect(view.segments).toEqual([
      { id: segment.json().segment.id, name: 'web buyers', since: expect.any(String) },
    ]);
    expect(view.withheld).toEqual([]);
  });

  it('withholds everything personal from a purpose that may not process the customer', async () => {
    const ws = await createTestWorkspace(t.database);
    const id = await customerWithHistory(ws, 3);
    const response = await get(`/v1/customers/${id}/360?purpose=marketing`, bearer(ws.apiKey));
    expect(response.statusCode, response.body).toBe(200);
    const view = response.json();
    expect(view.customer).toMatchObject({ id, givenName: null, familyName: null, emails: [] });
    expect(view.interactions).toEqual([]);
    expect(view.interactionsCursor).toBeNull();
    expect(view.privacy).toBeNull();
    expect(view.segments).toEqual([]);
    expect(view.withheld.length).toBeGreaterThan(0);
    expect(view.withheld.map((w: { reason: string }) => w.reason)).not.toContain('');
  });

  it('keeps consents and intimacy out of a purpose other than service and legal, and says so', async () => {
    const ws = await createTestWorkspace(t.database);
    const id = await customerWithHistory(ws, 2);
    await post(`/v1/customers/${id}/consents`, reader(ws.apiKey), {
      purpose: 'marketing',
      status: 'granted',
    });
    const view = (await get(`/v1/customers/${id}/360?purpose=marketing`, bearer(ws.apiKey))).json();
    expect(view.customer.givenName).toBe('Maria');
    expect(view.interactions).toHaveLength(2);
    expect(view.privacy).toBeNull();
    expect(view.withheld).toContainEqual({ field: 'privacy', reason: 'PURPOSE_NOT_ALLOWED_HERE' });
  });

  it('answers 404 for an unknown customer and 400 without a purpose', async () => {
    const ws = await createTestWorkspace(t.database);
    const unknown = await get(
      '/v1/customers/0190a0a0-0000-7000-8000-000000000000/360?purpose=service',
      bearer(ws.apiKey),
    );
    expect(unknown.statusCode).toBe(404);
    expect(unknown.json().error.code).toBe('CUSTOMER_NOT_FOUND');
    const id = await customerWithHistory(ws, 1);
    const noPurpose = await get(`/v1/customers/${id}/360`, bearer(ws.apiKey));
    expect(noPurpose.statusCode).toBeGreaterThanOrEqual(400);
    expect(noPurpose.statusCode).toBeLessThan(500);
  });
});
