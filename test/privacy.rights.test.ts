import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import { strFromU8, unzipSync } from 'fflate';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getAuditKeys, verifyWorkspaceAuditChain } from '../src/audit/index.ts';
import { listWorkspaceTables } from '../src/db/index.ts';
import { chainAuditBacklog } from '../src/governance/index.ts';
import { exportWorkspace } from '../src/imports/index.ts';
import { computeDueOn, planNotifications } from '../src/privacy/index.ts';
import { deliverDueWebhooks } from '../src/webhooks/index.ts';
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
 * Privacy rights end to end over HTTP: requests with deadlines (month ends), verification and the
 * officer's queue; a GPC signal that blocks sale; corrections that travel to exactly the recipients
 * that received the fields (two exports and a webhook share); complete erasure, checked against every
 * table of the catalog, with the audit chain still verifying and the suppression list stopping a
 * re-creation; the access archive holding every table that holds the person.
 */

const t = useTestApp();

const legal = (key: string) => reader(key, 'legal');

async function post(url: string, headers: object, payload?: object) {
  return t.app.inject({
    method: 'POST',
    url,
    headers: headers as Record<string, string>,
    ...(payload === undefined ? {} : { payload }),
  });
}

async function get(url: string, headers: object) {
  return t.app.inject({ method: 'GET', url, headers: headers as Record<string, string> });
}

async function createCustomer(ws: TestWorkspace, body: object): Promise<string> {
  const created = await post('/v1/customers', reader(ws.apiKey), body);
  expect(created.statusCode, created.body).toBe(201);
  return created.json().customer.id;
}

/** Exports the workspace for a purpose (to a named recipient, or to the file itself), discarding the bytes. */
async function exportTo(ws: TestWorkspace, purpose: string, recipient: string | undefined, fileName: string) {
  const sink = new Writable({ write: (_chunk, _enc, done) => done() });
  return exportWorkspace(t.database.db, { actor: ws.actor, purpose, recipient, fileName }, sink);
}

/** A receiver on 127.0.0.1 that accepts every delivery and keeps what it got. */
class Receiver {
  readonly received: { headers: Record<string, unknown>; body: string }[] = [];
  base = '';
  readonly #server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      this.received.push({ headers: req.headers, body: Buffer.concat(chunks).toString('utf8') });
      res.writeHead(200).end();
    });
  });
  async start(): Promise<void> {
    await new Promise<void>((resolve) => this.#server.listen(0, '127.0.0.1', resolve));
    this.base = `http://127.0.0.1:${(this.#server.address() as AddressInfo).port}`;
  }
  stop(): Promise<void> {
    return new Promise((resolve) => this.#server.close(() => resolve()));
  }
}

describe('deadlines (pure)', () => {
  it('counts calendar days from the UTC day of receipt, across month ends and leap days', () => {
    expect(computeDueOn(new Date('2026-01-31T23:59:00Z'), 30)).toBe('2026-03-02');
    expect(computeDueOn(new Date('2028-01-31T00:00:00Z'), 30)).toBe('2028-03-01');
    expect(computeDueOn(new Date('2026-12-15T10:00:00Z'), 30)).toBe('2027-01-14');
    expect(computeDueOn(new Date('2026-02-28T12:00:00Z'), 1)).toBe('2026-03-01');
    expect(computeDueOn(new Date('2026-04-30T00:00:00Z'), 45)).toBe('2026-06-14');
  });
});

describe(`privacy requests, GPC, corrections that travel, erasure, access (${ENGINE})`, () => {
  let ws: TestWorkspace;
  const receiver = new Receiver();

  beforeAll(async () => {
    ws = await createTestWorkspace(t.database);
    await receiver.start();
  });
  afterAll(() => receiver.stop());

  it('records a request with its deadline and works it from the queue: verify, then complete', async () => {
    const id = await createCustomer(ws, { givenName: 'Mara', familyName: 'Okafor' });
    const other = await createCustomer(ws, { givenName: 'Mara', familyName: 'Okafor-Dup' });
    const merged = await post(`/v1/customers/${id}/merge`, reader(ws.apiKey), {
      absorbedId: other,
      reason: 'same person',
    });
    expect(merged.statusCode, merged.body).toBe(200);

    const setting = await t.app.inject({
      method: 'PATCH',
      url: '/v1/workspace',
      headers: bearer(ws.apiKey),
      payload: { privacyRequestDays: 45 },
    });
    expect(setting.statusCode, setting.body).toBe(200);
    expect(setting.json().workspace.settings.privacyRequestDays).toBe(45);

    // The merged-away id resolves to the survivor.
    const made = await post('/v1/privacy-requests', legal(ws.apiKey), {
      customerId: other,
      kind: 'restriction',
      note: 'asked at the desk',
    });
    expect(made.statusCode, made.body).toBe(201);
    const request = made.json().request;
    expect(request).toMatchObject({
      customerId: id,
      kind: 'restriction',
      source: 'staff',
      status: 'open',
      verification: { status: 'pending' },
      dueOn: computeDueOn(new Date(), 45),
      daysLeft: 45,
      overdue: false,
      details: { requestedFor: other },
    });

    const unknown = await post('/v1/privacy-requests', legal(ws.apiKey), {
      customerId: '00000000-0000-7000-8000-000000000000',
      kind: 'access',
    });
    expect(unknown.json().error.code).toBe('CUSTOMER_NOT_FOUND');
    const badKind = await post('/v1/privacy-requests', legal(ws.apiKey), {
      customerId: id,
      kind: 'forget_me',
    });
    expect([badKind.statusCode, badKind.json().error.code]).toEqual([400, 'PRIVACY_REQUEST_KIND_INVALID']);

    const early = await post(`/v1/privacy-requests/${request.id}/complete`, legal(ws.apiKey), {});
    expect([early.statusCode, early.json().error.code]).toEqual([409, 'PRIVACY_REQUEST_NOT_VERIFIED']);

    const queue = await get(
      `/v1/privacy-requests?status=open&dueBefore=${computeDueOn(new Date(), 46)}`,
      legal(ws.apiKey),
    );
    expect(queue.json().requests.map((r: { id: string }) => r.id)).toContain(request.id);
    const notYet = await get(
      `/v1/privacy-requests?status=open&dueBefore=${computeDueOn(new Date(), 45)}`,
      legal(ws.apiKey),
    );
    expect(notYet.json().requests.map((r: { id: string }) => r.id)).not.toContain(request.id);

    const assigned = await post(`/v1/privacy-requests/${request.id}/assign`, legal(ws.apiKey), {
      assignee: 'dpo@shop',
    });
    expect(assigned.json().request.assignee).toBe('dpo@shop');
    const verified = await post(`/v1/privacy-requests/${request.id}/verify`, legal(ws.apiKey), {
      method: 'id_document',
    });
    expect(verified.json().request.verification).toMatchObject({ status: 'verified', method: 'id_document' });
    const done = await post(`/v1/privacy-requests/${request.id}/complete`, legal(ws.apiKey), {
      note: 'done',
    });
    expect(done.statusCode, done.body).toBe(200);
    expect(done.json().request).toMatchObject({
      status: 'completed',
      evidence: { restricted: true, note: 'done' },
    });
    const state = await get(`/v1/customers/${id}/privacy`, legal(ws.apiKey));
    expect(state.json().restricted).toBe(true);
    const again = await post(`/v1/privacy-requests/${request.id}/complete`, legal(ws.apiKey), {});
    expect(again.json().request.completedAt).toBe(done.json().request.completedAt);

    // An agent may take a request but not work the queue.
    const agentKey = (await post('/v1/keys', bearer(ws.apiKey), { role: 'agent' })).json().apiKey as string;
    const taken = await post('/v1/privacy-requests', reader(agentKey), { customerId: id, kind: 'access' });
    expect(taken.statusCode, taken.body).toBe(201);
    const refused = await post(
      `/v1/privacy-requests/${taken.json().request.id}/complete`,
      reader(agentKey),
      {},
    );
    expect([refused.statusCode, refused.json().error.code]).toEqual([403, 'ROLE_NOT_ALLOWED']);
  });

  it('a Sec-GPC signal on the customer’s request records do-not-sell and blocks a later sale share and export', async () => {
    const id = await createCustomer(ws, { givenName: 'Iva', emails: ['iva@example.org'] });
    const consent = await post(`/v1/customers/${id}/consents`, reader(ws.apiKey), {
      purpose: 'sale',
      status: 'granted',
      explicit: true,
    });
    expect(consent.statusCode, consent.body).toBe(201);
    const broker = await post('/v1/recipients', legal(ws.apiKey), {
      name: 'broker',
      kind: 'partner',
      purposes: ['sale'],
    });
    expect(broker.statusCode, broker.body).toBe(201);
    const before = await post(`/v1/customers/${id}/shares`, reader(ws.apiKey, 'sale'), {
      recipient: 'broker',
    });
    expect(before.statusCode, before.body).toBe(200);
    const soldBefore = await exportTo(ws, 'sale', 'broker', 'sale-1.ndjson');
    expect(soldBefore.customers).toBe(1);

    const link = await post(`/v1/customers/${id}/portal-links`, reader(ws.apiKey), { expiresInHours: 1 });
    const portal = { authorization: `Portal ${link.json().token}`, 'sec-gpc': '1' };
    const made = await post('/v1/privacy-requests', portal, { customerId: id, kind: 'access' });
    expect(made.statusCode, made.body).toBe(201);
    expect(made.json().gpc.recorded).toEqual(['sale', 'third_party_sharing']);
    expect(made.json().request).toMatchObject({
      source: 'customer',
      verification: { status: 'verified', method: 'portal_link' },
    });
    const notMine = await post('/v1/privacy-requests', portal, {
      customerId: ws.workspace.id,
      kind: 'access',
    });
    expect(notMine.statusCode).toBe(403);

    const dns = await get(`/v1/privacy-requests?customerId=${id}&kind=do_not_sell`, legal(ws.apiKey));
    expect(dns.json().requests).toMatchObject([
      { source: 'gpc', status: 'completed', verification: { status: 'not_required' } },
    ]);

    const after = await post(`/v1/customers/${id}/shares`, reader(ws.apiKey, 'sale'), {
      recipient: 'broker',
    });
    expect(after.statusCode).toBe(403);
    expect(after.json().error).toMatchObject({ code: 'SHARE_REFUSED', details: { purpose: 'sale' } });
    expect(after.json().error.message).toMatch(/object/i);
    const soldAfter = await exportTo(ws, 'sale', 'broker', 'sale-2.ndjson');
    expect(soldAfter.customers).toBe(0);
  });

  it('a rectification after two exports and one webhook share gives exactly three notifications', async () => {
    const fresh = await createTestWorkspace(t.database);
    const id = await createCustomer(fresh, {
      givenName: 'Jon',
      familyName: 'Smiht',
      emails: ['jon@example.org'],
    });
    for (const body of [
      { name: 'acme', kind: 'partner', purposes: ['service'] },
      {
        name: 'hook',
        kind: 'webhook',
        purposes: ['service'],
        url: `${receiver.base}/hook`,
        events: ['field_rectified'],
      },
    ]) {
      const made = await post('/v1/recipients', legal(fresh.apiKey), body);
      expect(made.statusCode, made.body).toBe(201);
    }
    await exportTo(fresh, 'service', 'acme', 'to-acme.ndjson');
    await exportTo(fresh, 'service', undefined, 'monthly.ndjson');
    const shared = await post(`/v1/customers/${id}/shares`, reader(fresh.apiKey), { recipient: 'hook' });
    expect(shared.statusCode, shared.body).toBe(200);

    const fixed = await post(`/v1/customers/${id}/rectify`, reader(fresh.apiKey), {
      field: 'familyName',
      value: 'Smith',
      reason: 'misspelt at the desk',
    });
    expect(fixed.statusCode, fixed.body).toBe(200);

    const recipients = (await get(`/v1/customers/${id}/recipients`, legal(fresh.apiKey))).json().recipients;
    const notices = recipients.flatMap((r: { notifications: unknown[] }) => r.notifications);
    expect(notices).toHaveLength(3);
    expect(
      notices
        .map((n: { recipient: { name: string }; channel: string }) => `${n.recipient.name}:${n.channel}`)
        .sort(),
    ).toEqual(['acme:manual', 'file:monthly.ndjson:manual', 'hook:webhook']);
    expect(
      new Set(notices.map((n: { cause: string; fields: string[] }) => `${n.cause}:${n.fields.join()}`)),
    ).toEqual(new Set(['rectification:familyName']));
    // Planning the same cause again adds nothing (a retried subscriber).
    const causeId = (notices[0] as { causeId: string }).causeId;
    const replanned = await inTestWorkspace(t.database, fresh, (tx) =>
      planNotifications(tx, {
        workspaceId: fresh.workspace.id,
        customerId: id,
        cause: 'rectification',
        causeId,
        requestId: null,
        fields: ['familyName'],
        now: new Date(),
      }),
    );
    expect(replanned).toEqual([]);

    // The webhook notice goes out signed, its id the idempotency key; the recipient acknowledges it.
    const hookNotice = notices.find((n: { channel: string }) => n.channel === 'webhook') as { id: string };
    await deliverDueWebhooks(t.database.db, { workspaceIds: [fresh.workspace.id] });
    const got = receiver.received.filter((r) => r.headers['webhook-id'] === hookNotice.id);
    expect(got).toHaveLength(1);
    expect(JSON.parse(got[0]?.body ?? '{}')).toMatchObject({
      type: 'privacy.rectification',
      data: {
        customerId: id,
        fields: ['familyName'],
        acknowledge: `/v1/privacy-notifications/${hookNotice.id}/acknowledge`,
      },
    });
    expect(got[0]?.body).not.toContain('Smith');
    const queue = await get('/v1/privacy-notifications?channel=webhook', legal(fresh.apiKey));
    expect(queue.json().notifications[0]).toMatchObject({ id: hookNotice.id, status: 'delivered' });
    const ack = await post(`/v1/privacy-notifications/${hookNotice.id}/acknowledge`, legal(fresh.apiKey), {
      note: 'fixed',
    });
    expect(ack.json().notification.status).toBe('acknowledged');

    // The manual queue: one written to, one exempt with its reason.
    const manual = (
      await get('/v1/privacy-notifications?channel=manual&status=pending', legal(fresh.apiKey))
    ).json().notifications as { id: string; recipient: { name: string } }[];
    expect(manual).toHaveLength(2);
    const [first, second] = manual;
    const sent = await post(`/v1/privacy-notifications/${first?.id}/sent`, legal(fresh.apiKey), {
      note: 'letter',
    });
    expect(sent.json().notification.status).toBe('delivered');
    const exempt = await post(`/v1/privacy-notifications/${second?.id}/exempt`, legal(fresh.apiKey), {
      reason: 'the file was destroyed, confirmed in writing',
    });
    expect(exempt.json().notification).toMatchObject({
      status: 'exempt',
      reason: 'the file was destroyed, confirmed in writing',
    });
    const retry = await post(`/v1/privacy-notifications/${second?.id}/retry`, legal(fresh.apiKey));
    expect([retry.statusCode, retry.json().error.code]).toEqual([409, 'PRIVACY_NOTIFICATION_NOT_FAILED']);
  });

  it('erases completely: no identifier or free text left in any table, the audit chain verifies, a re-import is refused', async () => {
    const marks = {
      given: 'Zebulonia',
      family: 'Quagmirewska',
      email: 'zq.erase-me@example.org',
      shop: 'SHOP-ERASE-7731',
      text: 'blue-umbrella-left-at-till-7731',
      fact: 'window-seat-7731',
    };
    const id = await createCustomer(ws, {
      givenName: marks.given,
      familyName: marks.family,
      emails: [marks.email],
      identities: [{ source: 'shop', externalId: marks.shop }],
    });
    const note = await post('/v1/interactions', reader(ws.apiKey), {
      type: 'note',
      channel: 'store',
      occurredAt: new Date(Date.now() - 3_600_000).toISOString(),
      source: 'pos',
      externalId: 'erase-note-1',
      customer: { id },
      text: marks.text,
      properties: { remark: marks.text },
    });
    expect(note.statusCode, note.body).toBeLessThan(300);
    const fact = await post(`/v1/customers/${id}/facts`, reader(ws.apiKey), {
      key: 'delivery_window',
      value: marks.fact,
      sourceKind: 'declared',
      source: 'store',
    });
    expect(fact.statusCode, fact.body).toBeLessThan(300);
    await post('/v1/recipients', legal(ws.apiKey), {
      name: 'erase-partner',
      kind: 'partner',
      purposes: ['service'],
    });
    expect(
      (await post(`/v1/customers/${id}/shares`, reader(ws.apiKey), { recipient: 'erase-partner' }))
        .statusCode,
    ).toBe(200);

    const made = await post('/v1/privacy-requests', legal(ws.apiKey), {
      customerId: id,
      kind: 'erasure',
      verifiedBy: 'id_document',
    });
    const requestId = made.json().request.id as string;
    const done = await post(`/v1/privacy-requests/${requestId}/complete`, legal(ws.apiKey), {});
    expect(done.statusCode, done.body).toBe(200);
    expect(done.json().request.evidence.erasure).toMatchObject({
      recipientsTold: 1,
      suppressed: 2,
      facts: 1,
    });
    expect(done.json().notifications).toMatchObject([
      { cause: 'erasure', recipient: { name: 'erase-partner' } },
    ]);

    await chainAuditBacklog(t.database.db);
    const found: string[] = [];
    await inTestWorkspace(t.database, ws, async (tx) => {
      for (const table of await listWorkspaceTables(tx)) {
        const { rows } = await sql<{ text: string }>`
          SELECT to_jsonb(x)::text AS text FROM ${sql.table(table.name)} x
          WHERE ${sql.ref(table.workspaceColumn)} = ${ws.workspace.id}`.execute(tx);
        for (const { text } of rows) {
          for (const [what, mark] of Object.entries(marks)) {
            if (text.toLowerCase().includes(mark.toLowerCase())) found.push(`${table.name}: ${what}`);
          }
        }
      }
    });
    expect(found).toEqual([]);
    const report = await verifyWorkspaceAuditChain(
      t.database.db,
      ws.workspace.id,
      getAuditKeys(t.database.db),
    );
    expect(report.ok).toBe(true);

    // The suppression list stops a silent re-creation; a second erasure finds nothing more.
    const back = await post('/v1/customers', reader(ws.apiKey), {
      givenName: 'Z',
      emails: [marks.email.toUpperCase()],
    });
    expect([back.statusCode, back.json().error.code]).toEqual([409, 'CUSTOMER_SUPPRESSED']);
    const viaEvent = await post('/v1/interactions', reader(ws.apiKey), {
      type: 'note',
      channel: 'email',
      occurredAt: new Date(Date.now() - 60_000).toISOString(),
      source: 'mail',
      externalId: 'erase-note-2',
      customer: { email: marks.email },
    });
    expect([viaEvent.statusCode, viaEvent.json().error.code]).toEqual([409, 'CUSTOMER_SUPPRESSED']);
    const twice = await post('/v1/privacy-requests', legal(ws.apiKey), {
      customerId: id,
      kind: 'erasure',
      verifiedBy: 'id_document',
    });
    const second = await post(
      `/v1/privacy-requests/${twice.json().request.id}/complete`,
      legal(ws.apiKey),
      {},
    );
    expect(second.statusCode, second.body).toBe(200);
    expect(second.json().request.evidence.erasure).toMatchObject({
      recipientsTold: 1,
      suppressed: 0,
      contactPoints: 0,
      interactionsDeleted: 0,
      facts: 0,
    });
  });

  it('the access archive holds every table that holds the person (from the catalog), as JSON and CSV', async () => {
    const id = await createCustomer(ws, {
      givenName: 'Ada',
      familyName: 'Byron',
      emails: ['ada@example.org'],
      identities: [{ source: 'shop', externalId: 'ADA-1' }],
    });
    await post(`/v1/customers/${id}/consents`, reader(ws.apiKey), {
      purpose: 'marketing',
      status: 'granted',
    });
    await post('/v1/interactions', reader(ws.apiKey), {
      type: 'purchase',
      channel: 'web',
      occurredAt: new Date(Date.now() - 86_400_000).toISOString(),
      source: 'shop',
      externalId: 'ada-order-1',
      customer: { id },
      amount: 12.5,
      currency: 'EUR',
    });
    await post(`/v1/customers/${id}/facts`, reader(ws.apiKey), {
      key: 'receipt',
      value: 'paper',
      sourceKind: 'declared',
      source: 'store',
    });
    await post('/v1/recipients', legal(ws.apiKey), {
      name: 'access-partner',
      kind: 'partner',
      purposes: ['service'],
    });
    expect(
      (await post(`/v1/customers/${id}/shares`, reader(ws.apiKey), { recipient: 'access-partner' }))
        .statusCode,
    ).toBe(200);
    const made = await post('/v1/privacy-requests', legal(ws.apiKey), {
      customerId: id,
      kind: 'access',
      verifiedBy: 'signed_in',
    });
    await chainAuditBacklog(t.database.db);
    const done = await post(`/v1/privacy-requests/${made.json().request.id}/complete`, legal(ws.apiKey), {});
    expect(done.statusCode, done.body).toBe(200);
    const zip = Buffer.from(done.json().archive.base64, 'base64');
    expect(done.json().request.evidence.archive.bytes).toBe(zip.byteLength);
    const files = unzipSync(new Uint8Array(zip));
    const data = JSON.parse(strFromU8(files['data.json'] ?? new Uint8Array()));
    expect(data.customerId).toBe(id);
    expect(data.tables.customers[0]).toMatchObject({ given_name: 'Ada', family_name: 'Byron' });
    expect(data.accessLog.length).toBeGreaterThan(0);

    // Every table of the catalog with a row naming the person is in the archive (the audit chain as
    // the access log), and each has its CSV file.
    const holding: string[] = [];
    await inTestWorkspace(t.database, ws, async (tx) => {
      for (const table of await listWorkspaceTables(tx)) {
        const { rows } = await sql<{ n: number }>`
          SELECT count(*)::int AS n FROM ${sql.table(table.name)} x
          WHERE ${sql.ref(table.workspaceColumn)} = ${ws.workspace.id} AND to_jsonb(x)::text LIKE ${`%${id}%`}`.execute(
          tx,
        );
        if ((rows[0]?.n ?? 0) > 0) holding.push(table.name);
      }
    });
    const AUDIT = new Set(['audit_events', 'audit_subjects', 'audit_inbox']);
    expect(holding).toContain('interactions');
    for (const table of holding) {
      if (AUDIT.has(table)) continue;
      expect(Object.keys(data.tables), table).toContain(table);
      expect(Object.keys(files), table).toContain(`csv/${table}.csv`);
    }
    expect(strFromU8(files['csv/customers.csv'] ?? new Uint8Array())).toContain('Byron');
  });
});
