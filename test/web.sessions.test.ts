import { describe, expect, it } from 'vitest';
import { findLiveSession, startSession } from '../src/users/index.ts';
import {
  bearer,
  createTestWorkspace,
  inTestWorkspace,
  reader,
  type TestWorkspace,
  useTestApp,
} from './helpers.ts';

/**
 * Staff sessions and portal links over HTTP: users created by an admin, sign-in with a cookie that is
 * HttpOnly and SameSite, the CSRF token on every change, the role's purposes, logout and expiry, the
 * audit actor, security headers; portal links confined to one customer, tampering and expiry refused.
 */
describe('web sessions', () => {
  const fixture = useTestApp();

  async function setUp(role = 'agent'): Promise<{ ws: TestWorkspace; email: string; password: string }> {
    const ws = await createTestWorkspace(fixture.database);
    const email = `${role}-${ws.workspace.id.slice(0, 8)}@example.com`;
    const created = await fixture.app.inject({
      method: 'POST',
      url: '/v1/users',
      headers: bearer(ws.apiKey),
      payload: { email, role },
    });
    expect(created.statusCode).toBe(201);
    const body = created.json();
    expect(body.user).toMatchObject({ email, role });
    expect(body.password).toMatch(/^[A-Za-z0-9_-]{24}$/);
    return { ws, email, password: body.password };
  }

  async function login(ws: TestWorkspace, email: string, password: string) {
    const response = await fixture.app.inject({
      method: 'POST',
      url: '/v1/sessions',
      payload: { workspace: ws.workspace.name, email, password },
    });
    const cookie = response.cookies.find((c) => c.name === 'cornerstore_session');
    return { response, cookie, csrf: response.json().csrfToken as string };
  }

  async function createCustomer(ws: TestWorkspace, givenName: string): Promise<string> {
    const created = await fixture.app.inject({
      method: 'POST',
      url: '/v1/customers',
      headers: bearer(ws.apiKey),
      payload: { givenName, familyName: 'Portal', emails: [`${givenName.toLowerCase()}@example.org`] },
    });
    expect(created.statusCode).toBe(201);
    return created.json().customer.id;
  }

  it('signs in with an HttpOnly, SameSite cookie, reads under the role and needs the CSRF token to change', async () => {
    const { ws, email, password } = await setUp('agent');
    const wrong = await login(ws, email, `${password}x`);
    expect(wrong.response.statusCode).toBe(401);
    expect(wrong.response.json().error.code).toBe('LOGIN_FAILED');

    const { response, cookie, csrf } = await login(ws, email, password);
    expect(response.statusCode).toBe(201);
    expect(cookie).toMatchObject({ httpOnly: true, sameSite: 'Strict', path: '/' });
    expect(cookie?.secure).toBeUndefined(); // plain HTTP here; Secure behind TLS
    const session = { cookie: `cornerstore_session=${cookie?.value}` };

    const current = await fixture.app.inject({
      method: 'GET',
      url: '/v1/sessions/current',
      headers: session,
    });
    expect(current.json()).toMatchObject({ user: { email, role: 'agent' }, csrfToken: csrf });

    const list = await fixture.app.inject({
      method: 'GET',
      url: '/v1/customers?purpose=service',
      headers: session,
    });
    expect(list.statusCode).toBe(200);
    const marketing = await fixture.app.inject({
      method: 'GET',
      url: '/v1/customers?purpose=marketing',
      headers: session,
    });
    expect(marketing.statusCode).toBe(403);

    const payload = { givenName: 'Csrf', familyName: 'Victim', emails: ['csrf@example.org'] };
    const forged = await fixture.app.inject({
      method: 'POST',
      url: '/v1/customers',
      headers: session,
      payload,
    });
    expect(forged.statusCode).toBe(403);
    expect(forged.json().error.code).toBe('CSRF_TOKEN_INVALID');
    const wrongToken = await fixture.app.inject({
      method: 'POST',
      url: '/v1/customers',
      headers: { ...session, 'x-csrf-token': `${csrf.slice(0, -2)}AA` },
      payload,
    });
    expect(wrongToken.statusCode).toBe(403);
    const created = await fixture.app.inject({
      method: 'POST',
      url: '/v1/customers',
      headers: { ...session, 'x-csrf-token': csrf },
      payload,
    });
    expect(created.statusCode).toBe(201);
    const customerId = created.json().customer.id as string;
    const userId = current.json().user.id as string;
    expect(created.json().customer.provenance ?? created.json().customer).toBeDefined();

    // The user is the actor of what they did.
    const log = await fixture.app.inject({
      method: 'GET',
      url: `/v1/customers/${customerId}/access-log`,
      headers: reader(ws.apiKey, 'legal'),
    });
    const actors = log.json().entries.map((e: { actor: { label: string } }) => e.actor.label);
    expect(actors).toContain(`user:${userId}`);

    const logout = await fixture.app.inject({
      method: 'DELETE',
      url: '/v1/sessions/current',
      headers: { ...session, 'x-csrf-token': csrf },
    });
    expect(logout.statusCode).toBe(204);
    const after = await fixture.app.inject({ method: 'GET', url: '/v1/sessions/current', headers: session });
    expect(after.statusCode).toBe(401);
    expect(after.json().error.code).toBe('SESSION_EXPIRED');
  });

  it('ends a session at its expiry', async () => {
    const { ws, email } = await setUp('marketer');
    const users = await fixture.app.inject({ method: 'GET', url: '/v1/users', headers: bearer(ws.apiKey) });
    const user = users.json().users.find((u: { email: string }) => u.email === email);
    const start = new Date(Date.now() - 2 * 3_600_000);
    const started = await inTestWorkspace(fixture.database, ws, (tx) =>
      startSession(tx, { ...user, workspaceId: ws.workspace.id }, start, 3_600_000),
    );
    expect(
      await findLiveSession(fixture.database.db, started.token, new Date(start.getTime() + 60_000)),
    ).toBeDefined();
    expect(await findLiveSession(fixture.database.db, started.token)).toBeUndefined();
    const response = await fixture.app.inject({
      method: 'GET',
      url: '/v1/sessions/current',
      headers: { cookie: `cornerstore_session=${started.token}` },
    });
    expect(response.statusCode).toBe(401);
  });

  it('lets only owners and admins create users, refuses weak passwords and duplicates', async () => {
    const { ws, email, password } = await setUp('agent');
    const { cookie, csrf } = await login(ws, email, password);
    const asAgent = await fixture.app.inject({
      method: 'POST',
      url: '/v1/users',
      headers: { cookie: `cornerstore_session=${cookie?.value}`, 'x-csrf-token': csrf },
      payload: { email: 'new@example.com', role: 'admin' },
    });
    expect(asAgent.statusCode).toBe(403);
    const weak = await fixture.app.inject({
      method: 'POST',
      url: '/v1/users',
      headers: bearer(ws.apiKey),
      payload: { email: 'weak@example.com', role: 'agent', password: 'short' },
    });
    expect(weak.json().error.code).toBe('PASSWORD_TOO_WEAK');
    const again = await fixture.app.inject({
      method: 'POST',
      url: '/v1/users',
      headers: bearer(ws.apiKey),
      payload: { email: email.toUpperCase(), role: 'agent' },
    });
    expect(again.json().error.code).toBe('USER_EXISTS');
  });

  it('sends security headers on pages and API answers', async () => {
    const response = await fixture.app.inject({ method: 'GET', url: '/health' });
    expect(response.headers['content-security-policy']).toContain("frame-ancestors 'none'");
    expect(response.headers['x-content-type-options']).toBe('nosniff');
    expect(response.headers['referrer-policy']).toBe('no-referrer');
  });

  it('confines a portal link to its customer, honours Sec-GPC, refuses tampered and expired links', async () => {
    const ws = await createTestWorkspace(fixture.database);
    const mine = await createCustomer(ws, 'Mina');
    const other = await createCustomer(ws, 'Otto');
    const link = await fixture.app.inject({
      method: 'POST',
      url: `/v1/customers/${mine}/portal-links`,
      headers: bearer(ws.apiKey),
      payload: { expiresInHours: 2 },
    });
    expect(link.statusCode).toBe(201);
    const { token, path } = link.json();
    expect(path).toBe(`/portal.html#${token}`);
    const portal = { authorization: `Portal ${token}` };

    const opened = await fixture.app.inject({
      method: 'POST',
      url: '/v1/portal/session',
      headers: { ...portal, 'sec-gpc': '1' },
    });
    expect(opened.json()).toMatchObject({
      customerId: mine,
      gpc: { signal: true, recorded: ['sale', 'third_party_sharing'] },
    });
    const state = await fixture.app.inject({
      method: 'GET',
      url: `/v1/customers/${mine}/privacy?purpose=legal`,
      headers: portal,
    });
    expect(state.json().objections).toEqual(expect.arrayContaining(['sale', 'third_party_sharing']));
    const own = await fixture.app.inject({
      method: 'GET',
      url: `/v1/customers/${mine}?purpose=legal`,
      headers: portal,
    });
    expect(own.json().customer.givenName).toBe('Mina');

    for (const url of [`/v1/customers/${other}?purpose=legal`, '/v1/customers?purpose=legal', '/v1/keys']) {
      const refused = await fixture.app.inject({ method: 'GET', url, headers: portal });
      expect(refused.statusCode).toBe(403);
      expect(refused.json().error.code).toBe('PORTAL_LINK_SCOPE');
    }
    const lowered = await fixture.app.inject({
      method: 'PUT',
      url: `/v1/customers/${other}/intimacy?purpose=legal`,
      headers: portal,
      payload: { level: 0 },
    });
    expect(lowered.statusCode).toBe(403);

    const tampered = token.replace(/.$/, (c: string) => (c === 'A' ? 'B' : 'A'));
    const bad = await fixture.app.inject({
      method: 'POST',
      url: '/v1/portal/session',
      headers: { authorization: `Portal ${tampered}` },
    });
    expect(bad.json().error.code).toBe('PORTAL_LINK_INVALID');

    const { signPortalLink } = await import('../src/portal/index.ts');
    const forged = signPortalLink(Buffer.alloc(32), {
      workspaceId: ws.workspace.id,
      customerId: other,
      expiresAt: new Date(Date.now() + 60_000).toISOString(),
    });
    const forgedAnswer = await fixture.app.inject({
      method: 'POST',
      url: '/v1/portal/session',
      headers: { authorization: `Portal ${forged}` },
    });
    expect(forgedAnswer.json().error.code).toBe('PORTAL_LINK_INVALID');
  });

  it('refuses an expired portal link with a clear code', async () => {
    const ws = await createTestWorkspace(fixture.database);
    const id = await createCustomer(ws, 'Ela');
    const { issuePortalLink } = await import('../src/portal/index.ts');
    const issued = await inTestWorkspace(fixture.database, ws, (tx) =>
      issuePortalLink(tx, ws.workspace.id, id, { hours: 1, now: new Date(Date.now() - 2 * 3_600_000) }),
    );
    const response = await fixture.app.inject({
      method: 'POST',
      url: '/v1/portal/session',
      headers: { authorization: `Portal ${issued.token}` },
    });
    expect(response.statusCode).toBe(401);
    expect(response.json().error.code).toBe('PORTAL_LINK_EXPIRED');
  });

  it('names every operation of the API document once', async () => {
    const doc = (await fixture.app.inject({ method: 'GET', url: '/openapi.json' })).json();
    const ids: string[] = [];
    for (const [path, item] of Object.entries(
      doc.paths as Record<string, Record<string, { operationId?: string }>>,
    )) {
      for (const [method, op] of Object.entries(item)) {
        expect(op.operationId, `${method.toUpperCase()} ${path}`).toMatch(/^[a-z][A-Za-z]+$/);
        ids.push(op.operationId as string);
      }
    }
    expect(new Set(ids).size).toBe(ids.length);
  });
});
