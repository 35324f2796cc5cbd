import { createHmac, randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chainAuditBacklog } from '../src/governance/index.ts';
import {
  DELIVERY_RETENTION_DAYS,
  DISABLE_AFTER_MS,
  deliverDueWebhooks,
  enqueueWebhookDeliveries,
  MAX_ATTEMPTS,
  pruneWebhookLogs,
  ROTATION_OVERLAP_MS,
  type WebhookEvent,
} from '../src/webhooks/index.ts';
import {
  bearer,
  createTestWorkspace,
  ENGINE,
  inTestWorkspace,
  type TestWorkspace,
  useTestApp,
} from './helpers.ts';

/**
 * Webhooks out against a real receiver on 127.0.0.1: registration and its secret, signed deliveries,
 * retries on a clock the test moves (no sleeps), parking, replay, rotation, disabling, the delivery log,
 * disclosures, retention, and bad input that writes nothing.
 */

const t = useTestApp();

type Behaviour = number | 'hang';

interface Received {
  path: string;
  headers: IncomingMessage['headers'];
  body: string;
}

/**
 * A receiver that answers each request with the next behaviour scripted for its path (200 when the
 * script ran out): each webhook of the test has a path of its own.
 */
class Receiver {
  readonly received: Received[] = [];
  readonly scripts = new Map<string, Behaviour[]>();
  base = '';
  readonly #server: Server;
  readonly #hanging: ServerResponse[] = [];

  constructor() {
    this.#server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const path = req.url ?? '';
        this.received.push({ path, headers: req.headers, body: Buffer.concat(chunks).toString('utf8') });
        const next = this.scripts.get(path)?.shift() ?? 200;
        if (next === 'hang') {
          this.#hanging.push(res);
          return;
        }
        res.writeHead(next, { 'content-type': 'text/plain' }).end('x'.repeat(200_000));
      });
    });
  }

  async listen(): Promise<void> {
    await new Promise<void>((resolve) => this.#server.listen(0, '127.0.0.1', resolve));
    this.base = `http://127.0.0.1:${(this.#server.address() as AddressInfo).port}`;
  }

  url(name: string): string {
    return `${this.base}/${name}`;
  }

  /** What the webhook at `name` received. */
  at(name: string): Received[] {
    return this.received.filter((r) => r.path === `/${name}`);
  }

  async close(): Promise<void> {
    for (const res of this.#hanging) res.destroy();
    this.#server.closeAllConnections();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }
}

/** A URL nothing listens on: a port taken and given back. */
async function unreachableUrl(): Promise<string> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return `http://127.0.0.1:${port}/hook`;
}

function expectedSignature(secret: string, received: Received): string {
  const key = Buffer.from(secret.slice('whsec_'.length), 'base64');
  const content = `${received.headers['webhook-id']}.${received.headers['webhook-timestamp']}.${received.body}`;
  return `v1,${createHmac('sha256', key).update(content).digest('base64')}`;
}

describe(`webhooks out (${ENGINE})`, () => {
  let ws: TestWorkspace;
  let other: TestWorkspace;
  const receiver = new Receiver();
  let customerId: string;
  const t0 = new Date('2030-03-01T09:00:00Z');

  async function call(method: string, path: string, body?: unknown, key = ws.apiKey) {
    return t.app.inject({
      method: method as 'GET',
      url: path,
      headers: path.includes('purpose=') ? bearer(key) : { ...bearer(key), 'cornerstore-purpose': 'legal' },
      ...(body === undefined ? {} : { payload: body as object }),
    });
  }

  async function register(name: string, extra: Record<string, unknown> = {}) {
    const response = await call('POST', '/v1/recipients', {
      name,
      kind: 'webhook',
      url: receiver.url(name),
      purposes: ['service'],
      ...extra,
    });
    expect(response.statusCode, response.body).toBe(201);
    return response.json() as { recipient: { id: string }; secret: string };
  }

  async function enqueue(
    type: string,
    at: Date,
    customer: string | null = customerId,
  ): Promise<WebhookEvent> {
    const event: WebhookEvent = {
      id: randomUUID(),
      workspaceId: ws.workspace.id,
      type,
      customerId: customer,
      payload: { fields: ['givenName'] },
      occurredAt: at,
    };
    await inTestWorkspace(t.database, ws, (tx) => enqueueWebhookDeliveries(tx, event, { now: at }));
    return event;
  }

  async function deliveries(recipientId: string, query = '') {
    const response = await call('GET', `/v1/recipients/${recipientId}/deliveries${query}`);
    expect(response.statusCode, response.body).toBe(200);
    return response.json().deliveries as {
      id: string;
      eventId: string;
      status: string;
      attempts: number;
      nextAttemptAt: string | null;
      lastError: string | null;
      log: { attempt: number; responseStatus: number | null; error: string | null; latencyMs: number }[];
    }[];
  }

  const deliver = (now: Date, extra: { timeoutMs?: number } = {}) =>
    deliverDueWebhooks(t.database.db, { now, workspaceIds: [ws.workspace.id], ...extra });

  beforeAll(async () => {
    ws = await createTestWorkspace(t.database);
    other = await createTestWorkspace(t.database);
    await receiver.listen();
    const created = await call('POST', '/v1/customers?purpose=service', {
      givenName: 'Ana',
      familyName: 'Lima',
      emails: ['ana@example.com'],
    });
    expect(created.statusCode, created.body).toBe(201);
    customerId = created.json().customer.id;
  });

  afterAll(async () => {
    await receiver.close();
  });

  it('registers a webhook with a secret shown once, and shows it on the recipient', async () => {
    const url = receiver.url('shop-hook');
    const response = await call('POST', '/v1/recipients', {
      name: 'shop-hook',
      kind: 'webhook',
      url,
      purposes: ['service'],
      events: ['customer_created'],
    });
    expect(response.statusCode, response.body).toBe(201);
    const { recipient, secret } = response.json();
    expect(secret).toMatch(/^whsec_/);
    expect(recipient.webhook).toMatchObject({ url, events: ['customer_created'], status: 'active' });
    const list = (await call('GET', '/v1/recipients')).json().recipients;
    const shown = list.find((r: { id: string }) => r.id === recipient.id);
    expect(shown.webhook.url).toBe(url);
    expect(JSON.stringify(list)).not.toContain(secret.slice(6));
    // Other kinds keep working, without a webhook.
    const partner = await call('POST', '/v1/recipients', {
      name: 'courier',
      kind: 'partner',
      purposes: ['fulfilment'],
    });
    expect(partner.statusCode, partner.body).toBe(201);
    expect(partner.json()).toMatchObject({ secret: null, recipient: { webhook: null } });
  });

  it('refuses bad input and writes nothing', async () => {
    const url = receiver.url('refused');
    const cases: [Record<string, unknown>, string][] = [
      [{ kind: 'webhook', purposes: ['service'] }, 'WEBHOOK_URL_REQUIRED'],
      [{ kind: 'webhook', url: 'file:///etc/passwd', purposes: ['service'] }, 'WEBHOOK_URL_INVALID'],
      [{ kind: 'webhook', url: 'https://u:p@example.com/', purposes: ['service'] }, 'WEBHOOK_URL_INVALID'],
      [{ kind: 'webhook', url: 'not a url', purposes: ['service'] }, 'WEBHOOK_URL_INVALID'],
      [{ kind: 'webhook', url, purposes: ['legal'], events: ['customer_created'] }, 'WEBHOOK_EVENTS_INVALID'],
      [{ kind: 'webhook', url, purposes: ['service'], events: ['no_such_event'] }, 'WEBHOOK_EVENTS_INVALID'],
      [{ kind: 'partner', url, purposes: ['service'] }, 'RECIPIENT_URL_NOT_ALLOWED'],
    ];
    for (const [body, code] of cases) {
      const response = await call('POST', '/v1/recipients', { name: 'refused', ...body });
      expect(response.statusCode, response.body).toBe(400);
      expect(response.json().error.code).toBe(code);
    }
    const names = (await call('GET', '/v1/recipients'))
      .json()
      .recipients.map((r: { name: string }) => r.name);
    expect(names).not.toContain('refused');
  });

  it('retries with growing delays on the injected clock, then delivers, signed, once disclosed', async () => {
    const { recipient, secret } = await register('retrying');
    const event = await enqueue('customer_created', t0);
    // Enqueueing the same event again (a dispatcher retry) adds nothing.
    await inTestWorkspace(t.database, ws, (tx) => enqueueWebhookDeliveries(tx, event, { now: t0 }));
    receiver.scripts.set('/retrying', [500, 503, 500, 200]);
    let now = t0;
    const times: Date[] = [];
    const delays: number[] = [];
    for (let i = 0; i < 4; i++) {
      times.push(now);
      const run = await deliver(now);
      expect(run.attempted).toBeGreaterThanOrEqual(1);
      const [delivery] = await deliveries(recipient.id);
      if (delivery?.status !== 'pending') break;
      const next = new Date(delivery.nextAttemptAt ?? '');
      // Not due before its time: a run just before it sends nothing.
      expect((await deliver(new Date(next.getTime() - 1))).attempted).toBe(0);
      delays.push(next.getTime() - now.getTime());
      now = next;
    }
    expect(delays).toHaveLength(3);
    expect(delays[1]).toBeGreaterThan(delays[0] ?? 0);
    expect(delays[2]).toBeGreaterThan(delays[1] ?? 0);

    const [delivery] = await deliveries(recipient.id);
    expect(delivery).toMatchObject({ status: 'delivered', attempts: 4, eventId: event.id });
    expect(delivery?.log.map((a) => a.responseStatus)).toEqual([500, 503, 500, 200]);
    expect(delivery?.log.map((a) => a.error)).toEqual(['http_500', 'http_503', 'http_500', null]);

    const seen = receiver.at('retrying');
    expect(seen).toHaveLength(4);
    // The same id and body on every attempt; each timestamp is its attempt's; each signature verifies.
    expect(new Set(seen.map((r) => r.headers['webhook-id']))).toEqual(new Set([delivery?.id]));
    expect(new Set(seen.map((r) => r.body)).size).toBe(1);
    expect(seen.map((r) => Number(r.headers['webhook-timestamp']))).toEqual(
      times.map((time) => Math.floor(time.getTime() / 1000)),
    );
    for (const r of seen) expect(r.headers['webhook-signature']).toBe(expectedSignature(secret, r));
    const body = JSON.parse(seen[0]?.body ?? '{}');
    expect(body).toEqual({
      type: 'customer_created',
      timestamp: t0.toISOString(),
      data: { fields: ['givenName'], eventId: event.id, workspaceId: ws.workspace.id, customerId },
    });
    // Ids and field names only: no personal value travels.
    expect(seen[0]?.body).not.toContain('Ana');
    expect(seen[0]?.body).not.toContain('ana@example.com');

    // One disclosure of the customer's id to the webhook, however many attempts it took.
    const disclosures = await call('GET', `/v1/customers/${customerId}/disclosures`);
    const toHook = disclosures
      .json()
      .disclosures.filter((d: { recipient: { id: string } }) => d.recipient.id === recipient.id);
    expect(toHook).toHaveLength(1);
    expect(toHook[0]).toMatchObject({ fields: ['id'], purpose: 'service' });
  });

  it('parks after 500s and timeouts, and a replay delivers', async () => {
    const { recipient } = await register('parking');
    await enqueue('customer_created', t0);
    // Three receivers that never answer: each costs a timeout, which is generous so a busy machine's
    // slow 500s are still answers.
    receiver.scripts.set('/parking', [...Array(MAX_ATTEMPTS - 3).fill(500), ...Array(3).fill('hang')]);
    let now = t0;
    for (let i = 0; i < MAX_ATTEMPTS; i++) {
      await deliver(now, { timeoutMs: 1500 });
      const [delivery] = await deliveries(recipient.id);
      if (delivery?.status !== 'pending') break;
      now = new Date(delivery.nextAttemptAt ?? '');
    }
    let [delivery] = await deliveries(recipient.id);
    expect(delivery).toMatchObject({ status: 'parked', attempts: MAX_ATTEMPTS, lastError: 'timeout' });
    expect(delivery?.log.map((a) => a.error)).toEqual([
      ...Array(MAX_ATTEMPTS - 3).fill('http_500'),
      ...Array(3).fill('timeout'),
    ]);
    // Parked: nothing more is sent, however late.
    await deliver(new Date(now.getTime() + 365 * 86_400_000));
    expect(receiver.at('parking')).toHaveLength(MAX_ATTEMPTS);

    const replay = await call('POST', `/v1/deliveries/${delivery?.id}/replay`);
    expect(replay.statusCode, replay.body).toBe(202);
    expect(replay.json().delivery.status).toBe('pending');
    const run = await deliver(now);
    expect(run.delivered).toBe(1);
    [delivery] = await deliveries(recipient.id);
    expect(delivery).toMatchObject({ status: 'delivered', attempts: MAX_ATTEMPTS + 1 });
    expect((await deliveries(recipient.id, '?status=parked')).length).toBe(0);
  });

  it('parks an unreachable receiver without a disclosure, then disables it after sustained failure, with a notice', async () => {
    const { recipient } = await register('gone', { url: await unreachableUrl() });
    await enqueue('customer_created', t0);
    let now = t0;
    for (let i = 0; i < MAX_ATTEMPTS; i++) {
      await deliver(now);
      const [delivery] = await deliveries(recipient.id);
      if (delivery?.status !== 'pending') break;
      now = new Date(delivery.nextAttemptAt ?? '');
    }
    const [parked] = await deliveries(recipient.id);
    expect(parked?.status).toBe('parked');
    expect(parked?.lastError).toMatch(/^unreachable/);
    const disclosed = (await call('GET', `/v1/customers/${customerId}/disclosures`))
      .json()
      .disclosures.filter((d: { recipient: { id: string } }) => d.recipient.id === recipient.id);
    expect(disclosed).toEqual([]);

    // Still failing days later: after DISABLE_AFTER_MS without a success the webhook is disabled.
    const late = new Date(t0.getTime() + DISABLE_AFTER_MS + 60_000);
    await enqueue('customer_created', late);
    const run = await deliver(late);
    expect(run.disabled.map((d) => d.recipientId)).toEqual([recipient.id]);
    const shown = (await call('GET', '/v1/recipients'))
      .json()
      .recipients.find((r: { id: string }) => r.id === recipient.id);
    expect(shown.webhook).toMatchObject({ status: 'disabled' });
    expect(shown.webhook.disabledReason).toMatch(/Disabled after \d+ failed attempts/);
    await chainAuditBacklog(t.database.db);
    const audited = await inTestWorkspace(t.database, ws, (tx) =>
      sql<{ n: number }>`
        SELECT count(*)::int AS n FROM audit_events
        WHERE action = 'webhook.disabled' AND details->>'recipientId' = ${recipient.id}`.execute(tx),
    );
    expect(audited.rows[0]?.n).toBe(1);

    // A disabled webhook gets no new deliveries, and its deliveries are not replayed until enabled.
    await enqueue('customer_created', late);
    expect((await deliveries(recipient.id)).length).toBe(2);
    const refused = await call('POST', `/v1/deliveries/${parked?.id}/replay`);
    expect(refused.statusCode).toBe(409);
    expect(refused.json().error.code).toBe('WEBHOOK_DISABLED');
    const enabled = await call('POST', `/v1/recipients/${recipient.id}/enable`);
    expect(enabled.statusCode, enabled.body).toBe(200);
    expect(enabled.json().recipient.webhook).toMatchObject({ status: 'active', consecutiveFailures: 0 });
    expect((await call('POST', `/v1/deliveries/${parked?.id}/replay`)).statusCode).toBe(202);
  });

  it('rotates the secret: both sign during the overlap, only the new one after', async () => {
    const { recipient, secret: old } = await register('rotating');
    const rotated = await call('POST', `/v1/recipients/${recipient.id}/rotate-secret`);
    expect(rotated.statusCode, rotated.body).toBe(200);
    const fresh = rotated.json().secret as string;
    expect(fresh).toMatch(/^whsec_/);
    expect(fresh).not.toBe(old);
    expect(rotated.json().recipient.webhook.previousSecretUntil).not.toBeNull();

    const now = new Date();
    await enqueue('customer_created', now);
    await deliver(now);
    let last = receiver.at('rotating').at(-1) as Received;
    const signatures = String(last.headers['webhook-signature']).split(' ');
    expect(signatures).toEqual([expectedSignature(fresh, last), expectedSignature(old, last)]);

    const after = new Date(now.getTime() + ROTATION_OVERLAP_MS + 1000);
    await enqueue('customer_created', after);
    // Sent with the platform's fetch this time, the other way a caller may send.
    await deliverDueWebhooks(t.database.db, {
      now: after,
      workspaceIds: [ws.workspace.id],
      fetch: (target, init) => fetch(target, init),
    });
    last = receiver.at('rotating').at(-1) as Received;
    expect(last.headers['webhook-signature']).toBe(expectedSignature(fresh, last));

    // A repeat of the rotation with the same Idempotency-Key does not show a secret again.
    const key = { ...bearer(ws.apiKey), 'idempotency-key': `rot-${randomUUID()}` };
    const first = await t.app.inject({
      method: 'POST',
      url: `/v1/recipients/${recipient.id}/rotate-secret`,
      headers: key,
    });
    const repeat = await t.app.inject({
      method: 'POST',
      url: `/v1/recipients/${recipient.id}/rotate-secret`,
      headers: key,
    });
    expect(first.json().secret).toMatch(/^whsec_/);
    expect(repeat.json().secret).toBeNull();
  });

  it("honours the endpoint's event filter and the customer's choices", async () => {
    const { recipient: filtered } = await register('only-corrections', { events: ['field_rectified'] });
    const { recipient: marketing } = await register('marketing-hook', { purposes: ['marketing'] });
    await enqueue('customer_created', t0);
    expect(await deliveries(filtered.id)).toEqual([]);
    // Marketing needs the customer's consent, which Ana never gave.
    expect(await deliveries(marketing.id)).toEqual([]);
    // A correction travels to every recipient whatever the consents.
    await enqueue('field_rectified', t0);
    expect((await deliveries(filtered.id)).length).toBe(1);
    expect((await deliveries(marketing.id)).length).toBe(1);
  });

  it('two workers side by side never send one delivery twice, each overlapping its batches', async () => {
    const { recipient } = await register('pair', { events: ['field_rectified'] });
    const now = new Date(t0.getTime() + 1000);
    await inTestWorkspace(t.database, ws, async (tx) => {
      for (let i = 0; i < 120; i++) {
        await enqueueWebhookDeliveries(
          tx,
          {
            id: randomUUID(),
            workspaceId: ws.workspace.id,
            type: 'field_rectified',
            customerId,
            payload: {},
            occurredAt: now,
          },
          { now },
        );
      }
    });
    const ids = new Set((await deliveries(recipient.id, '?limit=1000')).map((d) => d.id));
    expect(ids.size).toBe(120);
    for (;;) {
      const [a, b] = await Promise.all([
        // Runs of several batches: the next batch is claimed, and the previous recorded, while one is sent.
        deliverDueWebhooks(t.database.db, { now, limit: 40, batchSize: 7, workspaceIds: [ws.workspace.id] }),
        deliverDueWebhooks(t.database.db, { now, limit: 40, batchSize: 7, workspaceIds: [ws.workspace.id] }),
      ]);
      if (a.attempted + b.attempted === 0) break;
      expect(a.attempted).toBeLessThanOrEqual(40);
    }
    const seen = receiver.at('pair').map((r) => String(r.headers['webhook-id']));
    expect(seen.length).toBe(120);
    expect(new Set(seen)).toEqual(ids);
    const recorded = await deliveries(recipient.id, '?limit=1000');
    expect(recorded.filter((d) => d.status === 'delivered' && d.attempts === 1)).toHaveLength(120);
  });

  it("answers 404 for another workspace's webhook and delivery", async () => {
    const { recipient } = await register('private-hook');
    await enqueue('customer_created', t0);
    const [delivery] = await deliveries(recipient.id);
    for (const [method, path] of [
      ['GET', `/v1/recipients/${recipient.id}/deliveries`],
      ['POST', `/v1/recipients/${recipient.id}/rotate-secret`],
      ['POST', `/v1/recipients/${recipient.id}/enable`],
      ['POST', `/v1/deliveries/${delivery?.id}/replay`],
    ] as const) {
      const response = await call(method, path, undefined, other.apiKey);
      expect(response.statusCode, `${method} ${path}`).toBe(404);
    }
  });

  it('prunes finished deliveries and their attempts after the retention, keeping pending ones', async () => {
    const count = () =>
      inTestWorkspace(t.database, ws, async (tx) => {
        const d = await sql<{ status: string; n: number }>`
          SELECT status, count(*)::int AS n FROM webhook_deliveries GROUP BY status ORDER BY status`.execute(
          tx,
        );
        return Object.fromEntries(d.rows.map((r) => [r.status, r.n]));
      });
    const before = await count();
    expect(before.delivered).toBeGreaterThan(0);
    // Every delivery of this file was created by t0 + DISABLE_AFTER_MS (the latest clock it used).
    const future = new Date(t0.getTime() + DISABLE_AFTER_MS + (DELIVERY_RETENTION_DAYS + 1) * 86_400_000);
    const deleted = await pruneWebhookLogs(t.database.db, { now: future, workspaceIds: [ws.workspace.id] });
    expect(deleted).toBe((before.delivered ?? 0) + (before.parked ?? 0));
    const after = await count();
    expect(after).toEqual(before.pending ? { pending: before.pending } : {});
    const orphans = await inTestWorkspace(t.database, ws, (tx) =>
      sql<{ n: number }>`
        SELECT count(*)::int AS n FROM webhook_attempts a
        WHERE NOT EXISTS (SELECT 1 FROM webhook_deliveries d WHERE d.workspace_id = a.workspace_id AND d.id = a.delivery_id)`.execute(
        tx,
      ),
    );
    expect(orphans.rows[0]?.n).toBe(0);
  });
});
