import { sql } from 'kysely';
import { beforeAll, describe, expect, it } from 'vitest';
import { chainAuditBacklog } from '../src/governance/index.ts';
import { enqueueWebhookDeliveries } from '../src/webhooks/index.ts';
import {
  bearer,
  createTestWorkspace,
  ENGINE,
  inTestWorkspace,
  type TestWorkspace,
  useTestApp,
} from './helpers.ts';

/**
 * Every route of the OpenAPI document that names a record by id, called by another workspace's admin
 * with this workspace's ids: each answers 404, and nothing of this workspace changes (every tenant
 * table compared before and after). The routes come from the document, so a new route with an id is
 * tried the day it is added — and fails here until it says how to call it.
 */

const t = useTestApp();

interface Owned {
  customer: string;
  other: string;
  interaction: string;
  segment: string;
  recipient: string;
  merge: string;
  key: string;
  webhook: string;
  delivery: string;
  fact: string;
  privacyRequest: string;
  notification: string;
  decision: string;
  task: string;
}

/** A valid call of each route, with the victim's ids: path parameters and, for writes, a body. */
function callOf(route: string, ids: Owned): { params: Record<string, string>; body?: unknown } | undefined {
  const customer = { id: ids.customer };
  const calls: Record<string, { params: Record<string, string>; body?: unknown }> = {
    'GET /v1/customers/{id}': { params: customer },
    'PATCH /v1/customers/{id}': { params: customer, body: { givenName: 'Mallory' } },
    'GET /v1/customers/{id}/history': { params: customer },
    'GET /v1/customers/{id}/360': { params: customer },
    'GET /v1/customers/{id}/timeline': { params: customer },
    'GET /v1/customers/{id}/recommendations': { params: customer },
    'GET /v1/customers/{id}/access-log': { params: customer },
    'GET /v1/customers/{id}/consents': { params: customer },
    'POST /v1/customers/{id}/consents': {
      params: customer,
      body: { purpose: 'marketing', status: 'granted', explicit: true },
    },
    'GET /v1/customers/{id}/privacy': { params: customer },
    'PUT /v1/customers/{id}/intimacy': { params: customer, body: { level: 4 } },
    'POST /v1/customers/{id}/privacy-flags': { params: customer, body: { kind: 'restrict' } },
    'GET /v1/customers/{id}/disclosures': { params: customer },
    'GET /v1/customers/{id}/relationship': { params: customer },
    'POST /v1/customers/{id}/portal-links': { params: customer, body: { expiresInHours: 1 } },
    'POST /v1/customers/{id}/shares': { params: customer, body: { recipient: ids.recipient } },
    'POST /v1/customers/{id}/merge': {
      params: customer,
      body: { absorbedId: ids.other, reason: 'takeover' },
    },
    'POST /v1/customers/{id}/rectify': {
      params: customer,
      body: { field: 'givenName', value: 'Mallory', reason: 'takeover' },
    },
    'POST /v1/merges/{id}/unmerge': { params: { id: ids.merge } },
    'GET /v1/interactions/{id}': { params: { id: ids.interaction } },
    'POST /v1/identity/reviews/{id}/decision': { params: { id: ids.merge }, body: { decision: 'accept' } },
    'GET /v1/segments/{id}': { params: { id: ids.segment } },
    'DELETE /v1/segments/{id}': { params: { id: ids.segment } },
    'GET /v1/segments/{id}/count': { params: { id: ids.segment } },
    'GET /v1/segments/{id}/members': { params: { id: ids.segment } },
    'GET /v1/segments/{id}/members/{customerId}/why': {
      params: { id: ids.segment, customerId: ids.customer },
    },
    'DELETE /v1/keys/{id}': { params: { id: ids.key } },
    'GET /v1/recipients/{id}/deliveries': { params: { id: ids.webhook } },
    'POST /v1/recipients/{id}/rotate-secret': { params: { id: ids.webhook } },
    'POST /v1/recipients/{id}/enable': { params: { id: ids.webhook } },
    'POST /v1/deliveries/{id}/replay': { params: { id: ids.delivery } },
    'GET /v1/customers/{id}/facts': { params: customer },
    'POST /v1/customers/{id}/facts': {
      params: customer,
      body: { key: 'receipt', value: 'email', sourceKind: 'declared', source: 'store' },
    },
    'GET /v1/customers/{id}/facts/{factId}/history': { params: { id: ids.customer, factId: ids.fact } },
    'PATCH /v1/customers/{id}/facts/{factId}': {
      params: { id: ids.customer, factId: ids.fact },
      body: { value: 'email' },
    },
    'DELETE /v1/customers/{id}/facts/{factId}': { params: { id: ids.customer, factId: ids.fact } },
    'POST /v1/customers/{id}/prefill': { params: customer, body: { fields: ['receipt'], purpose: 'legal' } },
    'POST /v1/customers/{id}/moves': {
      params: customer,
      body: {
        address: { line1: '9 Elsewhere', city: 'Leeds', postcode: 'LS2 2BB', country: 'GB' },
        source: 'takeover',
      },
    },
    'GET /v1/customers/{id}/recipients': { params: customer },
    'GET /v1/privacy-requests/{id}': { params: { id: ids.privacyRequest } },
    'POST /v1/privacy-requests/{id}/verify': {
      params: { id: ids.privacyRequest },
      body: { method: 'takeover' },
    },
    'POST /v1/privacy-requests/{id}/assign': {
      params: { id: ids.privacyRequest },
      body: { assignee: 'mallory' },
    },
    'POST /v1/privacy-requests/{id}/reject': {
      params: { id: ids.privacyRequest },
      body: { reason: 'takeover' },
    },
    'POST /v1/privacy-requests/{id}/complete': { params: { id: ids.privacyRequest }, body: {} },
    'POST /v1/privacy-notifications/{id}/acknowledge': { params: { id: ids.notification }, body: {} },
    'POST /v1/privacy-notifications/{id}/sent': { params: { id: ids.notification }, body: {} },
    'POST /v1/privacy-notifications/{id}/exempt': {
      params: { id: ids.notification },
      body: { reason: 'takeover' },
    },
    'POST /v1/privacy-notifications/{id}/retry': { params: { id: ids.notification } },
    'GET /v1/customers/{id}/next-best-actions': { params: customer },
    'GET /v1/customers/{id}/decisions': { params: customer },
    'GET /v1/decisions/{id}': { params: { id: ids.decision } },
    'GET /v1/tasks/{id}': { params: { id: ids.task } },
    'POST /v1/tasks/{id}/claim': { params: { id: ids.task }, body: { owner: 'mallory' } },
    'POST /v1/tasks/{id}/complete': { params: { id: ids.task }, body: { outcome: 'converted' } },
    'POST /v1/actions/{id}/feedback': { params: { id: ids.task }, body: { outcome: 'converted' } },
  };
  return calls[route];
}

/** A fingerprint of every tenant table of the workspace: its rows, in a stable order, hashed. */
async function fingerprint(ws: TestWorkspace): Promise<Record<string, string>> {
  const tables = (
    await sql<{ table_name: string }>`
      SELECT DISTINCT table_name::text FROM information_schema.columns
       WHERE table_schema = current_schema() AND column_name = 'workspace_id'
       ORDER BY 1`.execute(t.database.db)
  ).rows.map((r) => r.table_name);
  const result: Record<string, string> = {};
  await inTestWorkspace(t.database, ws, async (tx) => {
    for (const table of tables) {
      const row = await sql<{ n: number; digest: string | null }>`
        SELECT count(*)::int AS n, md5(string_agg(x::text, ',' ORDER BY x::text)) AS digest
          FROM ${sql.table(table)} x`.execute(tx);
      result[table] = `${row.rows[0]?.n}:${row.rows[0]?.digest}`;
    }
  });
  return result;
}

describe(`another workspace's ids over every route (${ENGINE})`, () => {
  let victim: TestWorkspace;
  let attacker: TestWorkspace;
  let ids: Owned;

  async function send(method: string, url: string, key: string, body?: unknown) {
    const response = await t.app.inject({
      method: method as 'GET',
      url,
      headers: url.includes('purpose=') ? bearer(key) : { ...bearer(key), 'cornerstore-purpose': 'legal' },
      ...(body === undefined ? {} : { payload: body as object }),
    });
    return response;
  }

  beforeAll(async () => {
    victim = await createTestWorkspace(t.database);
    attacker = await createTestWorkspace(t.database);
    const customer = async (name: string, email: string) => {
      const response = await send('POST', '/v1/customers?purpose=service', victim.apiKey, {
        givenName: name,
        familyName: 'Victim',
        emails: [email],
      });
      expect(response.statusCode, response.body).toBe(201);
      return response.json().customer.id as string;
    };
    const [a, b, c, d] = [
      await customer('Ana', 'ana@victim.test'),
      await customer('Bea', 'bea@victim.test'),
      await customer('Cy', 'cy@victim.test'),
      await customer('Cy', 'cy2@victim.test'),
    ];
    const interaction = await send('POST', '/v1/interactions?purpose=service', victim.apiKey, {
      type: 'complaint',
      channel: 'phone',
      // Recent: a complaint of long ago, recorded today, raises no moment.
      occurredAt: new Date(Date.now() - 2 * 86_400_000).toISOString(),
      source: 'callcentre',
      externalId: 'T-1',
      customer: { id: a },
      text: 'Arrived broken',
    });
    expect(interaction.statusCode, interaction.body).toBe(201);
    const segment = await send('POST', '/v1/segments?purpose=service', victim.apiKey, {
      name: 'everyone',
      definition: { field: 'language', op: 'eq', value: 'pt' },
    });
    expect(segment.statusCode, segment.body).toBe(201);
    const recipient = await send('POST', '/v1/recipients?purpose=legal', victim.apiKey, {
      name: 'courier',
      kind: 'partner',
      purposes: ['fulfilment'],
    });
    expect(recipient.statusCode, recipient.body).toBe(201);
    const merge = await send('POST', `/v1/customers/${c}/merge?purpose=service`, victim.apiKey, {
      absorbedId: d,
      reason: 'same person',
    });
    expect(merge.statusCode, merge.body).toBe(200);
    const webhook = await send('POST', '/v1/recipients?purpose=legal', victim.apiKey, {
      name: 'hook',
      kind: 'webhook',
      url: 'http://127.0.0.1:9/hook',
      purposes: ['service'],
    });
    expect(webhook.statusCode, webhook.body).toBe(201);
    await inTestWorkspace(t.database, victim, (tx) =>
      enqueueWebhookDeliveries(tx, {
        id: crypto.randomUUID(),
        workspaceId: victim.workspace.id,
        type: 'customer_created',
        customerId: a ?? null,
        payload: {},
        occurredAt: new Date(),
      }),
    );
    const deliveries = await send(
      'GET',
      `/v1/recipients/${webhook.json().recipient.id}/deliveries`,
      victim.apiKey,
    );
    expect(deliveries.statusCode, deliveries.body).toBe(200);
    const keys = await send('GET', '/v1/keys', victim.apiKey);
    const fact = await send('POST', `/v1/customers/${a}/facts?purpose=service`, victim.apiKey, {
      key: 'receipt',
      value: 'paper',
      sourceKind: 'declared',
      source: 'store',
    });
    expect(fact.statusCode, fact.body).toBe(201);
    const shared = await send('POST', `/v1/customers/${b}/shares?purpose=fulfilment`, victim.apiKey, {
      recipient: 'courier',
    });
    expect(shared.statusCode, shared.body).toBe(200);
    const restricted = await send('POST', `/v1/customers/${b}/privacy-flags?purpose=legal`, victim.apiKey, {
      kind: 'restrict',
    });
    expect(restricted.statusCode, restricted.body).toBe(200);
    const notifications = await send('GET', '/v1/privacy-notifications?purpose=legal', victim.apiKey);
    const request = await send('POST', '/v1/privacy-requests?purpose=legal', victim.apiKey, {
      customerId: a,
      kind: 'access',
    });
    expect(request.statusCode, request.body).toBe(201);
    // The complaint raised a moment: its decision and the recovery task it queued.
    const decisions = await send('GET', `/v1/customers/${a}/decisions?purpose=service`, victim.apiKey);
    const tasks = await send('GET', '/v1/tasks?purpose=service', victim.apiKey);
    expect(tasks.json().tasks.length, tasks.body).toBeGreaterThan(0);
    ids = {
      customer: a ?? '',
      other: b ?? '',
      interaction: interaction.json().id,
      segment: segment.json().segment?.id ?? segment.json().id,
      recipient: recipient.json().recipient.id,
      merge: merge.json().merge.id,
      key: keys.json().keys[0].id,
      webhook: webhook.json().recipient.id,
      delivery: deliveries.json().deliveries[0].id,
      fact: fact.json().fact.id,
      privacyRequest: request.json().request.id,
      notification: notifications.json().notifications[0].id,
      decision: decisions.json().decisions[0].id,
      task: tasks.json().tasks[0].id,
    };
  });

  it('answers 404 on every route that names a record by id, and changes nothing', async () => {
    const doc = (await t.app.inject({ url: '/openapi.json' })).json() as {
      paths: Record<string, Record<string, unknown>>;
    };
    const routes = Object.entries(doc.paths).flatMap(([path, methods]) =>
      path.includes('{') ? Object.keys(methods).map((m) => `${m.toUpperCase()} ${path}`) : [],
    );
    expect(routes.length).toBeGreaterThan(20);

    await chainAuditBacklog(t.database.db);
    const before = await fingerprint(victim);
    const problems: string[] = [];
    for (const route of routes) {
      const call = callOf(route, ids);
      if (!call) {
        problems.push(`${route}: no call written for this route in cross-workspace.test.ts`);
        continue;
      }
      const [method = 'GET', path = ''] = route.split(' ');
      const url = path.replace(/\{(\w+)\}/g, (_, name: string) => call.params[name] ?? '');
      const response = await send(method, url, attacker.apiKey, call.body);
      if (response.statusCode !== 404) problems.push(`${route}: ${response.statusCode} ${response.body}`);
    }
    expect(problems).toEqual([]);
    await chainAuditBacklog(t.database.db);
    expect(await fingerprint(victim)).toEqual(before);
  });
});
