import { sql } from 'kysely';
import { describe, expect, it } from 'vitest';
import { chainAuditBacklog } from '../src/governance/index.ts';
import type { Role } from '../src/shared/access.ts';
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

/**
 * Write answers, duplicates and replays tell a caller no more than that caller's governed read would:
 * each test is a leak found by trying the product as an attacker would, kept as a regression test.
 */

const t = useTestApp();

function keyFor(ws: TestWorkspace, role: Role): Promise<string> {
  return createTestKey(t.database, ws, role);
}

function post(url: string, headers: Record<string, string>, payload: unknown) {
  return t.app.inject({ method: 'POST', url, headers, payload: payload as object });
}

async function newCustomer(ws: TestWorkspace, email: string): Promise<string> {
  const response = await post('/v1/customers', bearer(ws.apiKey), {
    givenName: 'Ana',
    familyName: 'Lima',
    emails: [email],
    identities: [{ source: 'pos', externalId: email }],
  });
  expect(response.statusCode, response.body).toBe(201);
  return response.json().customer.id;
}

async function restrict(ws: TestWorkspace, id: string): Promise<void> {
  const response = await post(`/v1/customers/${id}/privacy-flags`, reader(ws.apiKey, 'legal'), {
    kind: 'restrict',
  });
  expect(response.statusCode, response.body).toBe(200);
}

/** Every stored idempotency receipt of the workspace, as text. */
async function receipts(ws: TestWorkspace): Promise<string> {
  const rows = await inTestWorkspace(t.database, ws, (tx) =>
    tx.selectFrom('idempotency_keys').select(['caller', 'receipt']).execute(),
  );
  return JSON.stringify(rows);
}

describe(`write answers and replays leak nothing (${ENGINE})`, () => {
  it("answers a duplicate ingest with the original's id only when the purpose may not read it", async () => {
    const ws = await createTestWorkspace(t.database);
    const id = await newCustomer(ws, 'dup@example.com');
    const complaint = {
      type: 'complaint',
      channel: 'phone',
      occurredAt: '2026-05-01T10:00:00Z',
      source: 'callcentre',
      externalId: 'T-1',
      customer: { id },
      text: 'My husband left and I cannot pay',
    };
    const created = await post('/v1/interactions', bearer(ws.apiKey), complaint);
    expect(created.statusCode, created.body).toBe(201);
    await restrict(ws, id);

    const duplicate = await post('/v1/interactions', bearer(ws.apiKey), complaint);
    expect(duplicate.statusCode).toBe(200);
    const body = duplicate.json();
    expect(body).toMatchObject({ status: 'duplicate', id: created.json().id, interaction: null });
    expect(body.withheld.length).toBeGreaterThan(0);
    expect(duplicate.body).not.toContain('husband');
  });

  it('replays a write through the gate: a customer restricted since is withheld on the replay', async () => {
    const ws = await createTestWorkspace(t.database);
    const headers = { ...bearer(ws.apiKey), 'idempotency-key': 'create-ana' };
    const body = { givenName: 'Ana', emails: ['ana.replay@example.com'] };
    const first = await post('/v1/customers', headers, body);
    expect(first.statusCode).toBe(201);
    expect(first.json().customer.emails).toEqual(['ana.replay@example.com']);
    await restrict(ws, first.json().customer.id);

    const replay = await post('/v1/customers', headers, body);
    expect(replay.statusCode).toBe(201);
    expect(replay.headers['idempotent-replayed']).toBe('true');
    const read = await t.app.inject({
      url: `/v1/customers/${first.json().customer.id}`,
      headers: reader(ws.apiKey),
    });
    expect(replay.json().customer.emails).toEqual(read.json().customer.emails);
    expect(replay.body).not.toContain('ana.replay@example.com');
    // The receipt keeps ids, never the personal data of the answer.
    expect(await receipts(ws)).not.toContain('ana.replay@example.com');
  });

  it('scopes an Idempotency-Key to the key that sent it: another role never gets the first answer', async () => {
    const ws = await createTestWorkspace(t.database);
    const body = { givenName: 'Bo', emails: ['bo@example.com'] };
    const first = await post('/v1/customers', { ...bearer(ws.apiKey), 'idempotency-key': 'k-1' }, body);
    expect(first.statusCode).toBe(201);
    for (const role of ['analyst', 'marketer', 'integration'] as const) {
      const other = await post(
        '/v1/customers',
        { ...bearer(await keyFor(ws, role)), 'idempotency-key': 'k-1' },
        body,
      );
      expect(other.headers['idempotent-replayed'], role).toBeUndefined();
      expect(other.body, role).not.toContain(first.json().customer.id);
    }
  });

  it('hashes the whole request: the same key under another purpose is another request', async () => {
    const ws = await createTestWorkspace(t.database);
    const headers = { ...bearer(ws.apiKey), 'idempotency-key': 'k-purpose' };
    const body = { givenName: 'Cy' };
    expect((await post('/v1/customers?purpose=service', headers, body)).statusCode).toBe(201);
    const other = await post('/v1/customers?purpose=billing', headers, body);
    expect(other.statusCode).toBe(409);
    expect(other.json().error.code).toBe('IDEMPOTENCY_KEY_REUSED');
  });

  it('never keeps nor replays the secret of a key created with an Idempotency-Key', async () => {
    const ws = await createTestWorkspace(t.database);
    const headers = { ...bearer(ws.apiKey), 'idempotency-key': 'new-key' };
    const first = await post('/v1/keys', headers, { role: 'agent', name: 'till 3' });
    expect(first.statusCode).toBe(201);
    const secret = first.json().apiKey as string;
    const replay = await post('/v1/keys', headers, { role: 'agent', name: 'till 3' });
    expect(replay.json().apiKey).toBeNull();
    expect(replay.json().key.id).toBe(first.json().key.id);
    expect(await receipts(ws)).not.toContain(secret.split('.').at(-1));
  });

  it('lets a receipt expire: after the retention the same key starts a new request', async () => {
    const ws = await createTestWorkspace(t.database);
    const headers = { ...bearer(ws.apiKey), 'idempotency-key': 'old-key' };
    expect((await post('/v1/customers', headers, { givenName: 'Di' })).statusCode).toBe(201);
    await inTestWorkspace(t.database, ws, (tx) =>
      sql`UPDATE idempotency_keys SET created_at = now() - interval '25 hours'`.execute(tx),
    );
    const again = await post('/v1/customers', headers, { givenName: 'Ed' });
    expect(again.statusCode).toBe(201);
    expect(again.headers['idempotent-replayed']).toBeUndefined();
    expect(again.json().customer.givenName).toBe('Ed');
  });

  it('checks the purpose of an access-log read against the role, like every read', async () => {
    const ws = await createTestWorkspace(t.database);
    const id = await newCustomer(ws, 'log@example.com');
    const attempts: [Role, string][] = [
      ['marketer', 'service'],
      ['analyst', 'legal'],
      ['agent', 'legal'],
      ['privacy_officer', 'service'],
    ];
    for (const [role, purpose] of attempts) {
      const response = await t.app.inject({
        url: `/v1/customers/${id}/access-log`,
        headers: reader(await keyFor(ws, role), purpose),
      });
      expect(response.statusCode, `${role} for ${purpose}`).toBe(403);
      expect(response.json().error.code).toBe('PURPOSE_NOT_ALLOWED');
    }
    const allowed = await t.app.inject({
      url: `/v1/customers/${id}/access-log`,
      headers: reader(await keyFor(ws, 'privacy_officer'), 'legal'),
    });
    expect(allowed.statusCode).toBe(200);
  });

  it('tells a pseudonymised caller nothing that links an email, an external id or a guess to a customer', async () => {
    const ws = await createTestWorkspace(t.database);
    const id = await newCustomer(ws, 'pseudo@example.com');
    const ingest = await post('/v1/interactions?purpose=analytics', bearer(ws.apiKey), {
      interactions: [
        {
          type: 'page_view',
          channel: 'web',
          occurredAt: '2026-05-01T10:00:00Z',
          source: 'web',
          externalId: 'pv-1',
          customer: { email: 'pseudo@example.com' },
        },
      ],
    });
    expect(ingest.statusCode, ingest.body).toBe(200);
    expect(ingest.json().results[0].status).toBe('created');
    expect(ingest.body).not.toContain(id);

    const taken = await post('/v1/customers', bearer(ws.apiKey), {
      givenName: 'Other',
      identities: [{ source: 'pos', externalId: 'pseudo@example.com' }],
    });
    expect(taken.statusCode).toBe(409);
    expect(taken.body).not.toContain(id);

    const guess = await post(`/v1/customers/${id}/rectify?purpose=analytics`, bearer(ws.apiKey), {
      field: 'givenName',
      value: 'Ana',
      reason: 'guess',
    });
    const wrong = await post(`/v1/customers/${id}/rectify?purpose=analytics`, bearer(ws.apiKey), {
      field: 'familyName',
      value: 'Lima-Guess',
      reason: 'guess',
    });
    for (const answer of [guess, wrong]) {
      expect(answer.statusCode, answer.body).toBe(200);
      expect(answer.json()).toMatchObject({ outcome: 'recorded', value: null, event: null });
    }
  });

  it('audits a change of workspace settings with the actor and what changed from what', async () => {
    const ws = await createTestWorkspace(t.database);
    const changed = await t.app.inject({
      method: 'PATCH',
      url: '/v1/workspace',
      headers: bearer(ws.apiKey),
      payload: { doNotStore: 'strip' },
    });
    expect(changed.statusCode, changed.body).toBe(200);
    await chainAuditBacklog(t.database.db);
    const events = await inTestWorkspace(t.database, ws, (tx) =>
      tx
        .selectFrom('audit_events')
        .select(['action', 'actor', 'details'])
        .where('action', '=', 'workspace.settings')
        .execute(),
    );
    expect(events).toHaveLength(1);
    expect(events[0]?.details).toEqual({ changes: [{ setting: 'doNotStore', from: 'reject', to: 'strip' }] });
    expect(JSON.stringify(events[0]?.actor)).toContain(ws.actor.keyId);
  });

  it("keeps each key's last use, to the minute", async () => {
    const ws = await createTestWorkspace(t.database);
    const agent = await keyFor(ws, 'agent');
    const listed = async () =>
      (await t.app.inject({ url: '/v1/keys', headers: bearer(ws.apiKey) })).json().keys as {
        role: string;
        lastUsedAt: string | null;
      }[];
    expect((await listed()).find((k) => k.role === 'agent')?.lastUsedAt).toBeNull();
    const before = Date.now();
    const read = await t.app.inject({ url: '/v1/customers?purpose=service', headers: bearer(agent) });
    expect(read.statusCode).toBe(200);
    const used = (await listed()).find((k) => k.role === 'agent')?.lastUsedAt;
    expect(used).not.toBeNull();
    expect(Date.parse(used ?? '')).toBeGreaterThanOrEqual(before - 1000);
  });
});
