import { beforeAll, describe, expect, it } from 'vitest';
import { segmentRoutes } from '../src/api/routes/segments.ts';
import { KeyVerifier } from '../src/workspaces/index.ts';
import { bearer, createTestWorkspace, ENGINE, reader, type TestWorkspace, useTestApp } from './helpers.ts';
import { valuePopulation } from './value-population.ts';

/**
 * The value clock over HTTP: a workspace states the instant its profiles are scored as of, the refit and
 * every profile show it, and a refit whose fit is refused (no convergence, a boundary) says so and keeps
 * the previous model and profiles.
 */

const t = useTestApp();

beforeAll(async () => {
  if (!t.app.hasRoute({ method: 'POST', url: '/v1/value/refit' })) {
    await t.app.register(segmentRoutes({ db: t.database.db, keys: new KeyVerifier(t.database.db) }), {
      prefix: '/v1',
    });
  }
});

const DAY = 86_400_000;

function request(method: 'GET' | 'POST' | 'PATCH', url: string, headers: object, payload?: unknown) {
  return t.app.inject({
    method,
    url,
    headers: headers as Record<string, string>,
    ...(payload === undefined ? {} : { payload: payload as object }),
  });
}

/** Loads the population ending yesterday; returns the customer id of its first buyer. */
async function load(ws: TestWorkspace, end: Date): Promise<{ firstBuyer: string; firstPurchase: string }> {
  const items = valuePopulation({ customers: 300, end }) as { occurredAt: string }[];
  const response = await request('POST', '/v1/interactions', bearer(ws.apiKey), { interactions: items });
  expect(response.statusCode, response.body).toBe(200);
  const first = [...items].sort((a, b) => a.occurredAt.localeCompare(b.occurredAt))[0];
  const index = items.indexOf(first as { occurredAt: string });
  return {
    firstBuyer: response.json().results[index].customerId,
    firstPurchase: first?.occurredAt ?? '',
  };
}

describe(`the value clock over HTTP (${ENGINE})`, () => {
  it('a workspace states its value clock; the refit and each profile are scored as of it', async () => {
    const ws = await createTestWorkspace(t.database);
    const end = new Date(Date.now() - 400 * DAY);
    const { firstBuyer } = await load(ws, end);
    const clock = end.toISOString().slice(0, 10);

    const set = await request('PATCH', '/v1/workspace', bearer(ws.apiKey), { valueAsOf: clock });
    expect(set.statusCode, set.body).toBe(200);
    expect(set.json().workspace.settings.valueAsOf).toBe(`${clock}T00:00:00.000Z`);

    const refit = await request('POST', '/v1/value/refit', bearer(ws.apiKey), {});
    expect(refit.statusCode, refit.body).toBe(200);
    expect(refit.json()).toMatchObject({ status: 'fitted', asOf: `${clock}T00:00:00.000Z`, refused: null });
    expect(refit.json().model.calibration.end).toBe(`${clock}T00:00:00.000Z`);
    const read = await request('GET', `/v1/customers/${firstBuyer}`, reader(ws.apiKey));
    expect(read.json().customer.value.asOf).toBe(`${clock}T00:00:00.000Z`);

    // Back to now: the next refit is scored as of the time it runs.
    const reset = await request('PATCH', '/v1/workspace', bearer(ws.apiKey), { valueAsOf: null });
    expect(reset.json().workspace.settings.valueAsOf).toBeNull();
    const before = Date.now();
    const again = await request('POST', '/v1/value/refit', bearer(ws.apiKey), {});
    expect(Date.parse(again.json().asOf)).toBeGreaterThanOrEqual(before - 1000);
    const reread = await request('GET', `/v1/customers/${firstBuyer}`, reader(ws.apiKey));
    expect(reread.json().customer.value.asOf).toBe(again.json().asOf);
  });

  it('refuses a value clock in the future or one that is not a date, saying where', async () => {
    const ws = await createTestWorkspace(t.database);
    const future = new Date(Date.now() + 2 * DAY).toISOString().slice(0, 10);
    for (const valueAsOf of [future, 'last tuesday', '2025-13-45', '2025-02-30']) {
      const response = await request('PATCH', '/v1/workspace', bearer(ws.apiKey), { valueAsOf });
      expect(response.statusCode, valueAsOf).toBe(400);
      expect(response.json().error).toMatchObject({
        code: 'VALUE_AS_OF_INVALID',
        details: { errors: [{ path: 'valueAsOf' }] },
      });
    }
  });

  it('a refused refit says so and keeps the previous model and profiles', async () => {
    const ws = await createTestWorkspace(t.database);
    const { firstBuyer, firstPurchase } = await load(ws, new Date(Date.now() - DAY));
    const fitted = await request('POST', '/v1/value/refit', bearer(ws.apiKey), {});
    expect(fitted.json().status).toBe('fitted');
    const profile = (await request('GET', `/v1/customers/${firstBuyer}`, reader(ws.apiKey))).json().customer
      .value;

    // The day after the first purchase, nobody has bought twice: the fit cannot tell buyers apart.
    const dayAfter = new Date(Date.parse(firstPurchase) + DAY).toISOString().slice(0, 10);
    await request('PATCH', '/v1/workspace', bearer(ws.apiKey), { valueAsOf: dayAfter });
    const refused = await request('POST', '/v1/value/refit', bearer(ws.apiKey), {});
    expect(refused.statusCode, refused.body).toBe(200);
    const body = refused.json();
    expect(['boundary', 'not_converged']).toContain(body.status);
    expect(body.asOf).toBe(`${dayAfter}T00:00:00.000Z`);
    expect(body.model.bgnbd.params).toEqual(fitted.json().model.bgnbd.params);
    expect(body.refused.reason).toMatch(/previous model and its profiles are kept/);
    expect(body.refused.model.convergence.bgnbd).toMatchObject({
      converged: expect.any(Boolean),
      atBoundary: expect.any(Boolean),
      iterations: expect.any(Number),
    });
    const after = (await request('GET', `/v1/customers/${firstBuyer}`, reader(ws.apiKey))).json().customer
      .value;
    expect(after).toEqual(profile);
  });
});
