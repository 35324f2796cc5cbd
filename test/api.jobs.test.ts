import { describe, expect, it } from 'vitest';
import { createJobRegistry } from '../src/backbone.ts';
import type { Subscriber } from '../src/jobs/index.ts';
import { bearer, createTestKey, createTestWorkspace, ENGINE, useTestApp } from './helpers.ts';

/**
 * `/v1/jobs`: the backbone's status and metrics, its dead letters and their retry, for owners and
 * admins only; a subscriber that fails never fails the write that produced its event.
 */

let failing = true;
const outage: Subscriber = {
  name: 'outage',
  purpose: 'service',
  events: ['customer_created'],
  async handle() {
    if (failing) throw new Error('the other system is down');
  },
};
const registry = createJobRegistry({ valueRefitMinutes: 0, eventRetentionDays: 7 }).subscribe(outage);
const t = useTestApp({ jobs: registry });

describe(`/v1/jobs (${ENGINE})`, () => {
  it('shows the queue and failures, parks nothing it should not, and retries dead letters on request', async () => {
    const ws = await createTestWorkspace(t.database);
    const created = await t.app.inject({
      method: 'POST',
      url: '/v1/customers',
      headers: bearer(ws.apiKey),
      payload: { givenName: 'Grace' },
    });
    expect(created.statusCode).toBe(201);

    const status = await t.app.inject({ method: 'GET', url: '/v1/jobs', headers: bearer(ws.apiKey) });
    expect(status.statusCode).toBe(200);
    const body = status.json();
    expect(body.events.pending).toBe(0);
    expect(body.subscribers.map((s: { name: string }) => s.name)).toEqual([
      'value-and-segments',
      'facts',
      'webhooks',
      'privacy-notices',
      'moments',
      'outage',
    ]);
    expect(body.subscribers[5]).toMatchObject({ retrying: 1, dead: 0 });

    const failures = await t.app.inject({
      method: 'GET',
      url: '/v1/jobs/failures',
      headers: bearer(ws.apiKey),
    });
    expect(failures.json().failures).toMatchObject([
      { subscriber: 'outage', eventType: 'customer_created', status: 'retrying', attempts: 1 },
    ]);
    expect(failures.json().failures[0].error).toContain('the other system is down');

    const metrics = await t.app.inject({
      method: 'GET',
      url: '/v1/jobs/metrics',
      headers: bearer(ws.apiKey),
    });
    expect(metrics.statusCode).toBe(200);
    expect(metrics.headers['content-type']).toContain('text/plain');
    expect(metrics.body).toContain('cornerstore_events_pending 0');
    expect(metrics.body).toContain(
      'cornerstore_subscriber_failures{subscriber="outage",status="retrying"} 1',
    );

    // Nothing is dead yet: a retry of dead letters requeues none.
    const none = await t.app.inject({
      method: 'POST',
      url: '/v1/jobs/failures/retry',
      headers: bearer(ws.apiKey),
      payload: {},
    });
    expect(none.json()).toEqual({ requeued: 0 });
    const bad = await t.app.inject({
      method: 'POST',
      url: '/v1/jobs/failures/retry',
      headers: bearer(ws.apiKey),
      payload: { eventId: 'not-a-uuid' },
    });
    expect(bad.statusCode).toBe(400);
    failing = false;
  });

  it('is for owners and admins only', async () => {
    const ws = await createTestWorkspace(t.database);
    for (const role of ['agent', 'analyst', 'auditor', 'integration'] as const) {
      const key = await createTestKey(t.database, ws, role);
      for (const [method, url] of [
        ['GET', '/v1/jobs'],
        ['GET', '/v1/jobs/metrics'],
        ['GET', '/v1/jobs/failures'],
        ['POST', '/v1/jobs/failures/retry'],
      ] as const) {
        const response = await t.app.inject({
          method,
          url,
          headers: bearer(key),
          ...(method === 'POST' ? { payload: {} } : {}),
        });
        expect(response.statusCode, `${role} ${method} ${url}`).toBe(403);
        expect(response.json().error.code).toBe('ROLE_NOT_ALLOWED');
      }
    }
  });
});
