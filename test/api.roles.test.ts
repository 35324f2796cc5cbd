import { sql } from 'kysely';
import { beforeAll, describe, expect, it } from 'vitest';
import { chainAuditBacklog } from '../src/governance/index.ts';
import { ROLE_PURPOSES, ROLES, type Role } from '../src/shared/access.ts';
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
 * Least privilege on writes: each role against each write and each act of managing the workspace, over
 * HTTP. The expected table is written out here, apart from the one in shared/access.ts, so a change to
 * the role table shows up as a failing row. A refusal is 403 ROLE_NOT_ALLOWED with the request having
 * changed nothing; a role that may act gets through (its purpose is one it may use).
 */

const t = useTestApp();

type Operation =
  | 'create customer'
  | 'patch customer'
  | 'rectify customer'
  | 'record interaction'
  | 'create segment'
  | 'delete segment'
  | 'refit value'
  | 'set relationship rules'
  | 'recompute relationships'
  | 'change settings'
  | 'list keys'
  | 'create key'
  | 'revoke key'
  | 'take privacy request'
  | 'complete privacy request';

const WHO_MAY: Record<Operation, readonly Role[]> = {
  'create customer': ['owner', 'admin', 'agent', 'integration'],
  'patch customer': ['owner', 'admin', 'agent', 'integration'],
  'rectify customer': ['owner', 'admin', 'agent', 'privacy_officer'],
  'record interaction': ['owner', 'admin', 'agent', 'integration'],
  'create segment': ['owner', 'admin', 'marketer', 'analyst'],
  'delete segment': ['owner', 'admin', 'marketer', 'analyst'],
  'refit value': ['owner', 'admin'],
  // relationships.configure
  'set relationship rules': ['owner', 'admin'],
  'recompute relationships': ['owner', 'admin'],
  'change settings': ['owner', 'admin'],
  'list keys': ['owner', 'admin'],
  'create key': ['owner', 'admin'],
  'revoke key': ['owner', 'admin'],
  'take privacy request': ['owner', 'admin', 'agent', 'privacy_officer'],
  'complete privacy request': ['owner', 'admin', 'privacy_officer'],
};

const BUYERS = { aggregate: 'count', type: 'purchase', op: 'gte', value: 1 };
let sequence = 0;

function call(
  method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE',
  url: string,
  headers: object,
  payload?: object,
) {
  return t.app.inject({
    method,
    url,
    headers: headers as Record<string, string>,
    ...(payload === undefined ? {} : { payload }),
  });
}

describe(`who may write, per role (${ENGINE})`, () => {
  let ws: TestWorkspace;
  let customerId: string;
  const keys = new Map<Role, string>();

  beforeAll(async () => {
    ws = await createTestWorkspace(t.database);
    for (const role of ROLES) {
      const payload = role === 'integration' ? { role, purposes: ['service'] } : { role };
      const created = await call('POST', '/v1/keys', bearer(ws.apiKey), payload);
      expect(created.statusCode, created.body).toBe(201);
      keys.set(role, created.json().apiKey);
    }
    const customer = await call('POST', '/v1/customers', reader(ws.apiKey), { givenName: 'Ana' });
    customerId = customer.json().customer.id;
  });

  /** A purpose the role may use (the auditor has none: it names service and is refused for it). */
  const purposeOf = (role: Role) =>
    role === 'integration' ? 'service' : (ROLE_PURPOSES[role][0] ?? 'service');

  /** Runs the operation as the role; answers the response. */
  async function attempt(operation: Operation, role: Role) {
    const key = keys.get(role) ?? '';
    const as = reader(key, purposeOf(role));
    sequence += 1;
    switch (operation) {
      case 'create customer':
        return call('POST', '/v1/customers', as, { givenName: `Created ${sequence}` });
      case 'patch customer':
        return call('PATCH', `/v1/customers/${customerId}`, as, { preferredName: `P${sequence}` });
      case 'rectify customer':
        return call('POST', `/v1/customers/${customerId}/rectify`, as, {
          field: 'familyName',
          value: `Lima ${sequence}`,
          reason: 'misspelt at the desk',
        });
      case 'record interaction':
        return call('POST', '/v1/interactions', as, {
          type: 'purchase',
          channel: 'web',
          occurredAt: new Date(Date.now() - 86_400_000).toISOString(),
          source: 'shop',
          externalId: `role-${sequence}`,
          customer: { id: customerId },
          amount: 10,
          currency: 'EUR',
        });
      case 'create segment':
        return call('POST', '/v1/segments', as, { name: `s-${sequence}`, definition: BUYERS });
      case 'delete segment': {
        const made = await call('POST', '/v1/segments', reader(ws.apiKey), {
          name: `d-${sequence}`,
          definition: BUYERS,
        });
        expect(made.statusCode, made.body).toBe(201);
        return call('DELETE', `/v1/segments/${made.json().segment.id}`, as);
      }
      case 'refit value':
        return call('POST', '/v1/value/refit', as, {});
      case 'set relationship rules': {
        const active = await call('GET', '/v1/relationships/rules', reader(ws.apiKey, 'analytics'));
        expect(active.statusCode, active.body).toBe(200);
        return call('PUT', '/v1/relationships/rules', as, active.json().table);
      }
      case 'recompute relationships':
        return call('POST', '/v1/relationships/recompute', as);
      case 'change settings':
        return call('PATCH', '/v1/workspace', bearer(key), { autoCreateCustomers: true });
      case 'list keys':
        return call('GET', '/v1/keys', bearer(key));
      case 'create key':
        return call('POST', '/v1/keys', bearer(key), { role: 'analyst' });
      case 'take privacy request':
        return call('POST', '/v1/privacy-requests', as, { customerId, kind: 'access' });
      case 'complete privacy request': {
        const made = await call('POST', '/v1/privacy-requests', reader(ws.apiKey, 'legal'), {
          customerId,
          kind: 'objection',
          purposes: ['marketing'],
          verifiedBy: 'id_document',
        });
        expect(made.statusCode, made.body).toBe(201);
        return call('POST', `/v1/privacy-requests/${made.json().request.id}/complete`, as, {});
      }
      case 'revoke key': {
        const victim = await call('POST', '/v1/keys', bearer(ws.apiKey), { role: 'analyst' });
        return call('DELETE', `/v1/keys/${victim.json().key.id}`, bearer(key));
      }
    }
  }

  const rows = (Object.keys(WHO_MAY) as Operation[]).flatMap((operation) =>
    ROLES.map((role) => [operation, role, WHO_MAY[operation].includes(role)] as const),
  );

  it.each(rows)('%s as %s: allowed %s', async (operation, role, allowed) => {
    const response = await attempt(operation, role);
    if (allowed) {
      expect(response.statusCode, response.body).toBeLessThan(300);
    } else {
      expect(response.statusCode, response.body).toBe(403);
      // The auditor may use no purpose at all, so a governed write stops there first.
      const codes = role === 'auditor' ? ['ROLE_NOT_ALLOWED', 'PURPOSE_NOT_ALLOWED'] : ['ROLE_NOT_ALLOWED'];
      expect(codes, response.body).toContain(response.json().error.code);
    }
  });
});

describe(`keys: the last admin key stays, every change is audited (${ENGINE})`, () => {
  it('refuses to revoke the last active owner or admin key, with a stable code', async () => {
    const ws = await createTestWorkspace(t.database);
    const own = ws.actor.keyId ?? '';
    const alone = await call('DELETE', `/v1/keys/${own}`, bearer(ws.apiKey));
    expect(alone.statusCode).toBe(409);
    expect(alone.json().error).toMatchObject({
      code: 'LAST_ADMIN_KEY',
      details: { keyId: own, role: 'admin' },
    });

    // An agent key does not count: it cannot manage keys.
    const agent = await call('POST', '/v1/keys', bearer(ws.apiKey), { role: 'agent' });
    expect((await call('DELETE', `/v1/keys/${own}`, bearer(ws.apiKey))).statusCode).toBe(409);
    expect((await call('DELETE', `/v1/keys/${agent.json().key.id}`, bearer(ws.apiKey))).statusCode).toBe(200);

    // With an owner key beside it, the admin key may go; then the owner key is the last one.
    const owner = await call('POST', '/v1/keys', bearer(ws.apiKey), { role: 'owner' });
    const ownerKey: string = owner.json().apiKey;
    const ownerId: string = owner.json().key.id;
    const revoked = await call('DELETE', `/v1/keys/${own}`, bearer(ws.apiKey));
    expect(revoked.statusCode, revoked.body).toBe(200);
    expect((await call('GET', '/v1/workspace', bearer(ws.apiKey))).statusCode).toBe(401);
    const last = await call('DELETE', `/v1/keys/${ownerId}`, bearer(ownerKey));
    expect(last.statusCode).toBe(409);
    expect(last.json().error.code).toBe('LAST_ADMIN_KEY');
    // Revoking an already revoked key changes nothing and is no lockout.
    expect((await call('DELETE', `/v1/keys/${own}`, bearer(ownerKey))).statusCode).toBe(200);
    expect((await call('GET', '/v1/keys', bearer(ownerKey))).statusCode).toBe(200);
  });

  it('two admins revoking each other at once leave one of them', async () => {
    const ws = await createTestWorkspace(t.database);
    const other = await call('POST', '/v1/keys', bearer(ws.apiKey), { role: 'admin' });
    const otherKey: string = other.json().apiKey;
    // Both keys verified first, so the two revocations race inside the database.
    expect((await call('GET', '/v1/keys', bearer(otherKey))).statusCode).toBe(200);
    const [first, second] = await Promise.all([
      call('DELETE', `/v1/keys/${other.json().key.id}`, bearer(ws.apiKey)),
      call('DELETE', `/v1/keys/${ws.actor.keyId}`, bearer(otherKey)),
    ]);
    expect([first?.statusCode, second?.statusCode].sort()).toEqual([200, 409]);
    const active = await inTestWorkspace(t.database, ws, (tx) =>
      tx.selectFrom('api_keys').select('id').where('revoked_at', 'is', null).execute(),
    );
    expect(active).toHaveLength(1);
  });

  it('audits key creation and revocation: who, which key, its role, never the secret', async () => {
    const ws = await createTestWorkspace(t.database);
    const created = await call('POST', '/v1/keys', bearer(ws.apiKey), {
      role: 'integration',
      purposes: ['service'],
    });
    const id: string = created.json().key.id;
    const secret: string = created.json().apiKey.split('.').at(-1);
    expect((await call('DELETE', `/v1/keys/${id}`, bearer(ws.apiKey))).statusCode).toBe(200);
    await chainAuditBacklog(t.database.db);
    const events = await inTestWorkspace(t.database, ws, (tx) =>
      tx
        .selectFrom('audit_events')
        .select(['action', 'actor', 'details', 'purpose', sql<string>`audit_events::text`.as('row')])
        .where('action', 'in', ['key.create', 'key.revoke'])
        .orderBy('seq')
        .execute(),
    );
    expect(events.map((e) => [e.action, e.purpose, e.details])).toEqual([
      ['key.create', null, { keyId: id, role: 'integration', purposes: ['service'] }],
      ['key.revoke', null, { keyId: id, role: 'integration', purposes: ['service'] }],
    ]);
    for (const event of events) {
      expect(event.actor).toMatchObject({ keyId: ws.actor.keyId, role: 'admin' });
      expect(event.row).not.toContain(secret);
    }
  });
});
