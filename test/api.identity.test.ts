import { sql } from 'kysely';
import { beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../src/api/app.ts';
import { identityRoutes } from '../src/api/routes/identity.ts';
import { inWorkspace } from '../src/db/index.ts';
import { generateCorruptedRecords } from '../src/identity/index.ts';
import { newId } from '../src/shared/ids.ts';
import { KeyVerifier } from '../src/workspaces/index.ts';
import { bearer, createTestWorkspace, ENGINE, reader, type TestWorkspace, useTestApp } from './helpers.ts';

const fixture = useTestApp();
let app: App;

beforeAll(async () => {
  app = fixture.app;
  // Until the routes are registered in the app itself, the test registers them (before the app is ready).
  if (!app.hasRoute({ method: 'POST', url: '/v1/identity/resolve' })) {
    await app.register(
      identityRoutes({ db: fixture.database.db, keys: new KeyVerifier(fixture.database.db) }),
      {
        prefix: '/v1',
      },
    );
  }
});

async function createCustomer(ws: TestWorkspace, body: object): Promise<string> {
  const res = await app.inject({
    method: 'POST',
    url: '/v1/customers',
    headers: bearer(ws.apiKey),
    payload: body,
  });
  expect(res.statusCode, res.body).toBe(201);
  return res.json().customer.id;
}

async function seedWorld(ws: TestWorkspace, records: number): Promise<void> {
  const generated = generateCorruptedRecords({ records, seed: 21 });
  await inWorkspace(fixture.database.db, ws.workspace.id, async (tx) => {
    for (const [i, r] of generated.records.entries()) {
      const id = newId();
      await sql`
        INSERT INTO customers (workspace_id, id, given_name, family_name, created_at)
        VALUES (${ws.workspace.id}, ${id}, ${r.givenName}, ${r.surname}, now() + ${i} * interval '1 microsecond')`.execute(
        tx,
      );
      if (r.email !== null) {
        await sql`
          INSERT INTO contact_points (workspace_id, id, customer_id, kind, value, source)
          VALUES (${ws.workspace.id}, ${newId()}, ${id}, 'email', ${r.email}, 'import')`.execute(tx);
      }
      if (r.phone !== null) {
        await sql`
          INSERT INTO contact_points (workspace_id, id, customer_id, kind, value, source)
          VALUES (${ws.workspace.id}, ${newId()}, ${id}, 'phone', ${r.phone}, 'import')`.execute(tx);
      }
    }
  });
}

describe(`identity API (${ENGINE})`, () => {
  it('merges, hides the absorbed customer, and unmerges exactly', async () => {
    const ws = await createTestWorkspace(fixture.database);
    const survivor = await createCustomer(ws, {
      givenName: 'Jon',
      identities: [{ source: 'pos', externalId: 'L-1' }],
      source: 'pos',
    });
    const absorbed = await createCustomer(ws, {
      givenName: 'John',
      emails: [{ value: 'john@example.com', verified: true }],
      identities: [{ source: 'web', externalId: 'W-1' }],
      source: 'billing',
    });
    const before = (await app.inject({ url: `/v1/customers/${absorbed}`, headers: reader(ws.apiKey) })).json()
      .customer;

    const merged = await app.inject({
      method: 'POST',
      url: `/v1/customers/${survivor}/merge`,
      headers: bearer(ws.apiKey),
      payload: { absorbedId: absorbed, reason: 'same person at the counter' },
    });
    expect(merged.statusCode, merged.body).toBe(200);
    const merge = merged.json().merge;
    expect(merge).toMatchObject({ survivorId: survivor, absorbedId: absorbed, origin: 'manual' });
    expect(merge.moved).toMatchObject({ identities: 1, contactPoints: 1 });

    const gone = await app.inject({ url: `/v1/customers/${absorbed}`, headers: reader(ws.apiKey) });
    expect(gone.statusCode).toBe(404);
    const whole = (await app.inject({ url: `/v1/customers/${survivor}`, headers: reader(ws.apiKey) })).json()
      .customer;
    expect(whole.givenName).toBe('John');
    expect(whole.identities).toEqual(
      expect.arrayContaining([
        { source: 'pos', externalId: 'L-1' },
        { source: 'web', externalId: 'W-1' },
      ]),
    );

    const undone = await app.inject({
      method: 'POST',
      url: `/v1/merges/${merge.id}/unmerge`,
      headers: bearer(ws.apiKey),
    });
    expect(undone.statusCode, undone.body).toBe(200);
    const back = await app.inject({ url: `/v1/customers/${absorbed}`, headers: reader(ws.apiKey) });
    expect(back.statusCode).toBe(200);
    // Exactly as before, but for the relationship the backbone derived for both customers after the
    // merge and the unmerge (a derived profile, recomputed from the restored history).
    const { relationship, ...restored } = back.json().customer;
    expect(relationship).toMatchObject({ archetype: expect.any(String) });
    expect(restored).toEqual(before);
    const again = await app.inject({
      method: 'POST',
      url: `/v1/merges/${merge.id}/unmerge`,
      headers: bearer(ws.apiKey),
    });
    expect(again.statusCode).toBe(409);
    expect(again.json().error.code).toBe('MERGE_ALREADY_UNDONE');
  });

  it('refuses merges to roles that do not keep the records', async () => {
    const ws = await createTestWorkspace(fixture.database);
    const a = await createCustomer(ws, { givenName: 'A' });
    const b = await createCustomer(ws, { givenName: 'B' });
    const key = await app.inject({
      method: 'POST',
      url: '/v1/keys',
      headers: bearer(ws.apiKey),
      payload: { role: 'marketer' },
    });
    const res = await app.inject({
      method: 'POST',
      url: `/v1/customers/${a}/merge`,
      headers: bearer(key.json().apiKey),
      payload: { absorbedId: b },
    });
    expect(res.statusCode).toBe(403);
    expect(res.json().error.code).toBe('ROLE_NOT_ALLOWED');
  });

  it('rectifies a misspelled name and reports the name_corrected event', async () => {
    const ws = await createTestWorkspace(fixture.database);
    const id = await createCustomer(ws, { givenName: 'Jhon', familyName: 'Smith' });
    const res = await app.inject({
      method: 'POST',
      url: `/v1/customers/${id}/rectify`,
      headers: bearer(ws.apiKey),
      payload: { field: 'givenName', value: 'John', reason: 'customer pointed out the typo' },
    });
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json()).toMatchObject({
      outcome: 'rectified',
      value: 'John',
      provenance: { source: 'rectification' },
      event: { type: 'name_corrected' },
    });
    const bad = await app.inject({
      method: 'POST',
      url: `/v1/customers/${id}/rectify`,
      headers: bearer(ws.apiKey),
      payload: { field: 'emails', value: 'x', reason: 'no' },
    });
    expect(bad.statusCode).toBe(400);
  });

  it('resolves a workspace and keeps its review queue to itself', async () => {
    const mine = await createTestWorkspace(fixture.database);
    const theirs = await createTestWorkspace(fixture.database);
    await seedWorld(mine, 300);
    const resolved = await app.inject({
      method: 'POST',
      url: '/v1/identity/resolve',
      headers: bearer(mine.apiKey),
      payload: { reviewThreshold: 0.02 },
    });
    expect(resolved.statusCode, resolved.body).toBe(200);
    const summary = resolved.json();
    expect(summary.customers).toBe(300);
    expect(summary.merges.length).toBeGreaterThan(0);
    expect(summary.queued).toBeGreaterThan(0);

    const queue = await app.inject({ url: '/v1/identity/reviews?limit=5', headers: reader(mine.apiKey) });
    expect(queue.statusCode, queue.body).toBe(200);
    const reviews = queue.json().reviews;
    expect(reviews.length).toBe(Math.min(5, summary.queued));
    expect(reviews[0].explanation.fields.length).toBeGreaterThan(0);

    const elsewhere = await app.inject({ url: '/v1/identity/reviews', headers: reader(theirs.apiKey) });
    expect(elsewhere.json().reviews).toEqual([]);
    const foreign = await app.inject({
      method: 'POST',
      url: `/v1/identity/reviews/${reviews[0].id}/decision`,
      headers: bearer(theirs.apiKey),
      payload: { decision: 'reject' },
    });
    expect(foreign.statusCode).toBe(404);
    expect(foreign.json().error.code).toBe('REVIEW_NOT_FOUND');
    const foreignUnmerge = await app.inject({
      method: 'POST',
      url: `/v1/merges/${summary.merges[0].mergeId}/unmerge`,
      headers: bearer(theirs.apiKey),
    });
    expect(foreignUnmerge.statusCode).toBe(404);

    const decided = await app.inject({
      method: 'POST',
      url: `/v1/identity/reviews/${reviews[0].id}/decision`,
      headers: bearer(mine.apiKey),
      payload: { decision: 'reject' },
    });
    expect(decided.statusCode, decided.body).toBe(200);
    expect(decided.json()).toMatchObject({ review: { status: 'rejected' }, merge: null });
    const rejected = await app.inject({
      url: '/v1/identity/reviews?status=rejected',
      headers: reader(mine.apiKey),
    });
    expect(rejected.json().reviews.map((r: { id: string }) => r.id)).toEqual([reviews[0].id]);

    const defaults = await app.inject({
      method: 'POST',
      url: '/v1/identity/resolve',
      headers: bearer(mine.apiKey),
      payload: {},
    });
    expect(defaults.statusCode, defaults.body).toBe(200);
    expect(defaults.json().customers).toBe(300 - summary.merges.length);
  });
});
