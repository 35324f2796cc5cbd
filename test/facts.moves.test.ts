import { sql } from 'kysely';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  bearer,
  createTestWorkspace,
  ENGINE,
  inTestWorkspace,
  reader,
  type TestWorkspace,
  useTestApp,
} from './helpers.ts';

/**
 * Addresses with validity and a fact correction that travels (issue 13): a move ends the current address
 * at the moving date and makes the new one current, so prefill answers the new one and the old one stays
 * in the record with its validity; a future move changes nothing until its date. A corrected fact is
 * recorded as a `fact_corrected` event naming the fact and its key, never the value.
 */

const t = useTestApp();

function call(method: 'GET' | 'POST' | 'PATCH', url: string, headers: object, payload?: object) {
  return t.app.inject({
    method,
    url,
    headers: headers as Record<string, string>,
    ...(payload === undefined ? {} : { payload }),
  });
}

let ws: TestWorkspace;
const OLD = { line1: '1 Rua Augusta', city: 'Lisboa', postcode: '1100-048', country: 'PT' };
const NEW = { line1: '5 Rue de Rivoli', city: 'Paris', postcode: '75001', country: 'FR' };
const NEXT = { line1: '8 Calle Mayor', city: 'Madrid', postcode: '28013', country: 'ES' };

beforeAll(async () => {
  ws = await createTestWorkspace(t.database);
});

async function prefillAddress(id: string): Promise<unknown> {
  const response = await call('POST', `/v1/customers/${id}/prefill`, bearer(ws.apiKey), {
    fields: ['address'],
    purpose: 'billing',
  });
  expect(response.statusCode, response.body).toBe(200);
  return response.json().values.address?.value;
}

describe(`addresses with validity, and fact corrections as events (${ENGINE})`, () => {
  it('a move ends the old address and prefills the new one; a move ahead waits for its date; bad input stores nothing', async () => {
    const created = await call('POST', '/v1/customers', bearer(ws.apiKey), {
      givenName: 'Rui',
      addresses: [OLD],
    });
    expect(created.statusCode, created.body).toBe(201);
    const id: string = created.json().customer.id;
    expect(await prefillAddress(id)).toEqual(OLD);

    const movedAt = new Date(Date.now() - 86_400_000).toISOString();
    const moved = await call('POST', `/v1/customers/${id}/moves`, bearer(ws.apiKey), {
      address: NEW,
      movedAt,
      source: 'portal',
    });
    expect(moved.statusCode, moved.body).toBe(200);
    const customer = moved.json().customer;
    expect(customer.addresses).toEqual([NEW]);
    const points = customer.contactPoints.filter((c: { kind: string }) => c.kind === 'address');
    expect(points).toHaveLength(2);
    expect(points.find((c: { value: string }) => JSON.parse(c.value).city === 'Lisboa')).toMatchObject({
      validUntil: movedAt,
    });
    expect(points.find((c: { value: string }) => JSON.parse(c.value).city === 'Paris')).toMatchObject({
      validFrom: movedAt,
      source: 'portal',
    });
    expect(await prefillAddress(id)).toEqual(NEW);

    // "Moving next month": nothing changes until then.
    const ahead = await call('POST', `/v1/customers/${id}/moves`, bearer(ws.apiKey), {
      address: NEXT,
      movedAt: new Date(Date.now() + 30 * 86_400_000).toISOString(),
      source: 'call',
    });
    expect(ahead.statusCode, ahead.body).toBe(200);
    expect(ahead.json().customer.addresses).toEqual([NEW]);
    expect(await prefillAddress(id)).toEqual(NEW);

    // Bad input: a stable code with the JSON path, nothing stored.
    const count = async () =>
      (
        await inTestWorkspace(t.database, ws, (tx) =>
          sql<{ n: number }>`SELECT count(*)::int AS n FROM contact_points WHERE customer_id = ${id}`.execute(
            tx,
          ),
        )
      ).rows[0]?.n;
    const before = await count();
    const badTime = await call('POST', `/v1/customers/${id}/moves`, bearer(ws.apiKey), {
      address: { ...NEXT, line1: '9 Calle Sol' },
      movedAt: 'next tuesday',
      source: 'call',
    });
    expect(badTime.statusCode).toBe(400);
    expect(badTime.json().error).toMatchObject({ code: 'MOVE_INVALID' });
    expect(badTime.json().error.details.errors[0].path).toBe('movedAt');
    const badAddress = await call('POST', `/v1/customers/${id}/moves`, bearer(ws.apiKey), {
      address: { ...NEXT, city: '   ' },
      source: 'call',
    });
    expect(badAddress.statusCode).toBe(400);
    expect(badAddress.json().error).toMatchObject({ code: 'ADDRESS_INVALID' });
    expect(await count()).toBe(before);
  });

  it('an intimacy_chosen interaction sets the level before the same batch keeps its facts', async () => {
    const created = await call('POST', '/v1/customers', bearer(ws.apiKey), { givenName: 'Ines' });
    const id: string = created.json().customer.id;
    const at = (days: number) => new Date(Date.now() - days * 86_400_000).toISOString();
    const base = { channel: 'store', source: 'pos', customer: { id } };
    const ingest = await call('POST', '/v1/interactions', bearer(ws.apiKey), {
      interactions: [
        {
          ...base,
          type: 'intimacy_chosen',
          occurredAt: at(20),
          externalId: `ic-${id}`,
          properties: { level: 3 },
        },
        {
          ...base,
          type: 'life_event_declared',
          occurredAt: at(10),
          externalId: `le-${id}`,
          properties: { event: 'married' },
        },
      ],
    });
    expect(ingest.statusCode, ingest.body).toBe(200);
    expect(ingest.json().results[1].fact).toMatchObject({ status: 'created', key: 'life_event' });
    const privacy = await call('GET', `/v1/customers/${id}/privacy`, reader(ws.apiKey, 'service'));
    expect(privacy.json()).toMatchObject({ intimacyLevel: 3 });
    const bad = await call('POST', '/v1/interactions', bearer(ws.apiKey), {
      interactions: [
        {
          ...base,
          type: 'intimacy_chosen',
          occurredAt: at(1),
          externalId: `ic2-${id}`,
          properties: { level: 7 },
        },
      ],
    });
    expect(bad.json().results[0]).toMatchObject({ status: 'rejected' });
  });

  it('records a correction of a fact as a fact_corrected event, naming the key and never the value', async () => {
    const created = await call('POST', '/v1/customers', bearer(ws.apiKey), { givenName: 'Eva' });
    const id: string = created.json().customer.id;
    const recorded = await call('POST', `/v1/customers/${id}/facts`, bearer(ws.apiKey), {
      key: 'receipt',
      value: 'paper',
      sourceKind: 'declared',
      source: 'store',
    });
    expect(recorded.statusCode, recorded.body).toBeLessThan(300);
    const factId: string = recorded.json().fact.id;
    // Marking it to remember is no correction: no event.
    const marked = await call('PATCH', `/v1/customers/${id}/facts/${factId}`, bearer(ws.apiKey), {
      remember: true,
    });
    expect(marked.statusCode, marked.body).toBe(200);
    const corrected = await call('PATCH', `/v1/customers/${id}/facts/${factId}`, bearer(ws.apiKey), {
      value: 'email',
      source: 'portal',
    });
    expect(corrected.statusCode, corrected.body).toBe(200);
    const events = await inTestWorkspace(t.database, ws, (tx) =>
      sql<{ type: string; payload: Record<string, unknown> }>`
        SELECT type, payload FROM events WHERE customer_id = ${id} AND type = 'fact_corrected'`.execute(tx),
    );
    expect(events.rows).toHaveLength(1);
    expect(events.rows[0]?.payload).toMatchObject({
      customerId: id,
      factId,
      key: 'receipt',
      source: 'portal',
    });
    expect(JSON.stringify(events.rows[0]?.payload)).not.toContain('email');
    const read = await call('GET', `/v1/customers/${id}/facts`, reader(ws.apiKey, 'service'));
    expect(read.json().facts.find((f: { id: string }) => f.id === factId)).toMatchObject({ value: 'email' });
  });
});
