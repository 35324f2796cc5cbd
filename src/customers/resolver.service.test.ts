import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createTestWorkspace,
  ENGINE,
  inTestWorkspace,
  openTestDatabase,
  type TestWorkspace,
} from '../../test/helpers.ts';
import type { Database, Tx } from '../db/index.ts';
import { updateSettings } from '../workspaces/index.ts';
import { type CustomerRef, type ResolveOptions, resolveCustomerRefs } from './index.ts';

let database: Database;

beforeAll(async () => {
  database = await openTestDatabase();
});
afterAll(async () => {
  await database.close();
});

function options(ws: TestWorkspace, autoCreate = true): ResolveOptions {
  return {
    workspaceId: ws.workspace.id,
    defaultRegion: ws.workspace.settings.defaultRegion,
    autoCreate,
    capturedBy: ws.actor.label,
    source: 'pos',
  };
}

function resolve(ws: TestWorkspace, refs: CustomerRef[], autoCreate = true) {
  return inTestWorkspace(database, ws, (tx) => resolveCustomerRefs(tx, refs, options(ws, autoCreate)));
}

async function countCustomers(tx: Tx): Promise<number> {
  const { rows } = await sql<{ n: number }>`SELECT count(*)::int AS n FROM customers`.execute(tx);
  return rows[0]?.n ?? 0;
}

function ids(results: Awaited<ReturnType<typeof resolveCustomerRefs>>): string[] {
  return results.map((r) => {
    if (!r.ok) throw r.error;
    return r.customerId;
  });
}

describe(`resolveCustomerRefs (${ENGINE})`, () => {
  it('creates one customer per unknown identity, and repeated refs resolve to the same one', async () => {
    const ws = await createTestWorkspace(database);
    const refs: CustomerRef[] = [
      { identity: { source: 'pos', externalId: 'L-1' } },
      { identity: { source: 'pos', externalId: 'L-2' } },
      { identity: { source: ' pos ', externalId: 'L-1' } },
    ];
    const results = await resolve(ws, refs);
    expect(results.map((r) => r.ok && r.created)).toEqual([true, true, false]);
    const [a, b, c] = ids(results);
    expect(a).toBe(c);
    expect(a).not.toBe(b);
    expect(await inTestWorkspace(database, ws, countCustomers)).toBe(2);

    const again = await resolve(ws, [{ identity: { source: 'pos', externalId: 'L-2' } }, { id: a ?? '' }]);
    expect(ids(again)).toEqual([b, a]);
    expect(again.every((r) => r.ok && !r.created)).toBe(true);
  });

  it('creates customers for unknown emails and phones with the contact point and source, normalised', async () => {
    const ws = await createTestWorkspace(database);
    const results = await resolve(ws, [
      { email: ' Ana@Example.COM ' },
      { phone: '(415) 555-2671' },
      { email: 'ana@example.com' },
      { phone: '+1 415 555 2671' },
    ]);
    const [email1, phone1, email2, phone2] = ids(results);
    expect(email1).toBe(email2);
    expect(phone1).toBe(phone2);
    expect(email1).not.toBe(phone1);
    const points = await inTestWorkspace(database, ws, (tx) =>
      tx
        .selectFrom('contact_points')
        .select(['customer_id', 'kind', 'value', 'source', 'verified'])
        .orderBy('kind')
        .execute(),
    );
    expect(points).toEqual([
      { customer_id: email1, kind: 'email', value: 'ana@example.com', source: 'pos', verified: false },
      { customer_id: phone1, kind: 'phone', value: '+14155552671', source: 'pos', verified: false },
    ]);
  });

  it('records, in a call mixing systems, each contact point with the system that named it first', async () => {
    const ws = await createTestWorkspace(database);
    const refs: CustomerRef[] = [
      { email: 'web@example.com' },
      { phone: '(415) 555-2672' },
      { email: 'web@example.com' },
    ];
    await inTestWorkspace(database, ws, (tx) =>
      resolveCustomerRefs(tx, refs, { ...options(ws, true), sources: ['web', 'callcentre', 'billing'] }),
    );
    const points = await inTestWorkspace(database, ws, (tx) =>
      tx.selectFrom('contact_points').select(['kind', 'source']).orderBy('kind').execute(),
    );
    expect(points).toEqual([
      { kind: 'email', source: 'web' },
      { kind: 'phone', source: 'callcentre' },
    ]);
  });

  it('resolves a shared email to the oldest customer', async () => {
    const ws = await createTestWorkspace(database);
    const [first] = ids(await resolve(ws, [{ identity: { source: 'web', externalId: 'u1' } }]));
    const [second] = ids(await resolve(ws, [{ identity: { source: 'web', externalId: 'u2' } }]));
    await inTestWorkspace(database, ws, async (tx) => {
      // The younger customer's contact point is inserted first: age of the customer decides, not of the row.
      for (const customerId of [second, first]) {
        await sql`INSERT INTO contact_points (workspace_id, id, customer_id, kind, value, source)
          VALUES (${ws.workspace.id}, gen_random_uuid(), ${customerId}, 'email', 'shared@example.com', 'web')`.execute(
          tx,
        );
      }
    });
    expect(ids(await resolve(ws, [{ email: 'SHARED@example.com' }]))).toEqual([first]);
  });

  it('links a shared email or phone to the customer holding it verified when the workspace says so', async () => {
    const ws = await createTestWorkspace(database);
    const [older] = ids(await resolve(ws, [{ identity: { source: 'web', externalId: 'v1' } }]));
    const [younger] = ids(await resolve(ws, [{ identity: { source: 'web', externalId: 'v2' } }]));
    await inTestWorkspace(database, ws, async (tx) => {
      for (const [customerId, verified] of [
        [older, false],
        [younger, true],
      ] as const) {
        for (const [kind, value] of [
          ['email', 'family@example.com'],
          ['phone', '+14155550100'],
        ] as const) {
          await sql`INSERT INTO contact_points (workspace_id, id, customer_id, kind, value, verified, source)
            VALUES (${ws.workspace.id}, gen_random_uuid(), ${customerId}, ${kind}, ${value}, ${verified}, 'web')`.execute(
            tx,
          );
        }
      }
    });
    const refs: CustomerRef[] = [{ email: 'family@example.com' }, { phone: '(415) 555-0100' }];
    // The setting is on by default: the verified holder wins over the older unverified one.
    expect(ws.workspace.settings.linkVerifiedContacts).toBe(true);
    expect(ids(await resolve(ws, refs))).toEqual([younger, younger]);
    // Off: the oldest holder, verified or not, as before the setting existed.
    await inTestWorkspace(database, ws, (tx) =>
      updateSettings(tx, ws.actor, { linkVerifiedContacts: false }),
    );
    expect(ids(await resolve(ws, refs))).toEqual([older, older]);
    // The caller may decide for one call.
    const forced = await inTestWorkspace(database, ws, (tx) =>
      resolveCustomerRefs(tx, refs, { ...options(ws), linkVerifiedContacts: true }),
    );
    expect(ids(forced)).toEqual([younger, younger]);
  });

  it('with autoCreate off, unknown references are CUSTOMER_UNKNOWN naming the setting and nothing is created', async () => {
    const ws = await createTestWorkspace(database);
    const [known] = ids(await resolve(ws, [{ identity: { source: 'pos', externalId: 'known' } }]));
    const results = await resolve(
      ws,
      [
        { identity: { source: 'pos', externalId: 'known' } },
        { identity: { source: 'pos', externalId: 'new' } },
        { email: 'new@example.com' },
        { phone: '+442071838750' },
      ],
      false,
    );
    expect(results[0]).toEqual({ ok: true, customerId: known, created: false });
    for (const r of results.slice(1)) {
      expect(r.ok).toBe(false);
      if (r.ok) continue;
      expect(r.error.code).toBe('CUSTOMER_UNKNOWN');
      expect(r.error.kind).toBe('not_found');
      expect(r.error.message).toContain('autoCreateCustomers');
    }
    expect(await inTestWorkspace(database, ws, countCustomers)).toBe(1);
  });

  it("reports unknown ids and other workspaces' ids as CUSTOMER_NOT_FOUND, and bad values as invalid", async () => {
    const ws = await createTestWorkspace(database);
    const other = await createTestWorkspace(database);
    const [foreign] = ids(await resolve(other, [{ identity: { source: 'pos', externalId: 'x' } }]));
    const results = await resolve(ws, [
      { id: foreign ?? '' },
      { id: '01900000-0000-7000-8000-000000000000' },
      { id: 'not-a-uuid' },
      { email: 'not an email' },
      { phone: '12' },
      { identity: { source: 'pos', externalId: '  ' } },
    ]);
    const codes = results.map((r) => (r.ok ? 'ok' : `${r.error.kind}:${r.error.code}`));
    expect(codes).toEqual([
      'not_found:CUSTOMER_NOT_FOUND',
      'not_found:CUSTOMER_NOT_FOUND',
      'invalid:CUSTOMER_ID_INVALID',
      'invalid:EMAIL_INVALID',
      'invalid:PHONE_INVALID',
      'invalid:IDENTITY_INVALID',
    ]);
    expect(await inTestWorkspace(database, ws, countCustomers)).toBe(0);
  });

  it('resolves a batch of 10,000 refs (half repeated) with one customer per distinct identity', async () => {
    const ws = await createTestWorkspace(database);
    const refs: CustomerRef[] = Array.from({ length: 10_000 }, (_, i) => ({
      identity: { source: 'pos', externalId: `card-${i % 5000}` },
    }));
    const started = performance.now();
    const results = await resolve(ws, refs);
    const elapsed = performance.now() - started;
    const resolved = ids(results);
    expect(new Set(resolved).size).toBe(5000);
    expect(resolved[0]).toBe(resolved[5000]);
    expect(results.filter((r) => r.ok && r.created)).toHaveLength(5000);
    expect(await inTestWorkspace(database, ws, countCustomers)).toBe(5000);
    // Resolving the same batch again creates nothing.
    const again = await resolve(ws, refs);
    expect(ids(again)).toEqual(resolved);
    expect(await inTestWorkspace(database, ws, countCustomers)).toBe(5000);
    console.info(`resolved 10,000 refs creating 5,000 customers in ${elapsed.toFixed(0)} ms on ${ENGINE}`);
  });

  it('two concurrent transactions creating the same identity and email end with one customer each', async () => {
    const ws = await createTestWorkspace(database);
    const refs: CustomerRef[] = [
      { identity: { source: 'pos', externalId: 'race' } },
      { email: 'race@example.com' },
    ];
    let firstResolved: () => void = () => {};
    const firstHasResolved = new Promise<void>((resolveIt) => {
      firstResolved = resolveIt;
    });
    // The first transaction resolves, then holds its uncommitted rows and locks while the second starts.
    const first = inTestWorkspace(database, ws, async (tx) => {
      const results = await resolveCustomerRefs(tx, refs, options(ws));
      firstResolved();
      await new Promise((r) => setTimeout(r, 300));
      return results;
    });
    await firstHasResolved;
    const second = inTestWorkspace(database, ws, (tx) => resolveCustomerRefs(tx, refs, options(ws)));
    const [a, b] = await Promise.all([first, second]);
    expect(ids(b)).toEqual(ids(a));
    expect(a.every((r) => r.ok && r.created)).toBe(true);
    expect(b.every((r) => r.ok && !r.created)).toBe(true);
    expect(await inTestWorkspace(database, ws, countCustomers)).toBe(2);
    const owners = await inTestWorkspace(database, ws, (tx) =>
      tx.selectFrom('customer_identities').select('customer_id').where('external_id', '=', 'race').execute(),
    );
    expect(owners).toHaveLength(1);
  });
});
