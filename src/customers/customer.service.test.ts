import { sql } from 'kysely';
import { describe, expect, it } from 'vitest';
import {
  createTestWorkspace,
  ENGINE,
  inTestWorkspace,
  type TestWorkspace,
  useTestDatabase,
} from '../../test/helpers.ts';
import type { Tx } from '../db/index.ts';
import { AppError } from '../shared/errors.ts';
import {
  type Customer,
  type CustomerInput,
  createCustomer,
  createCustomers,
  type ExportedCustomer,
  getCustomer,
  listCustomers,
  listCustomersForExport,
  listFieldHistory,
  parseExportedCustomer,
  restoreCustomers,
  updateCustomer,
} from './index.ts';

const t = useTestDatabase();

function create(ws: TestWorkspace, input: CustomerInput): Promise<Customer> {
  return inTestWorkspace(t.database, ws, (tx) => createCustomer(tx, ws.actor, input));
}

async function rejection(promise: Promise<unknown>): Promise<AppError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof AppError) return error;
    throw error;
  }
  throw new Error('expected a rejection');
}

async function count(
  tx: Tx,
  table: 'customers' | 'customer_identities' | 'contact_points' | 'customer_field_values',
) {
  const { rows } = await sql<{ n: number }>`SELECT count(*)::int AS n FROM ${sql.table(table)}`.execute(tx);
  return rows[0]?.n ?? 0;
}

describe(`customers service (${ENGINE})`, () => {
  it('creates a customer with normalised fields, contact points, identities and provenance', async () => {
    const ws = await createTestWorkspace(t.database, { defaultRegion: 'GB' });
    const customer = await create(ws, {
      givenName: '  Mary  Ann ',
      familyName: 'Smith',
      language: 'en-gb',
      birthDate: '1980-05-17',
      emails: [' Mary@Example.com', { value: 'm.smith@work.example', verified: true }],
      phones: ['020 7183 8750'],
      identities: [{ source: 'pos', externalId: 'L-100' }],
      source: 'pos',
      capturedAt: '2024-03-01T10:00:00Z',
    });
    expect(customer).toMatchObject({
      givenName: 'Mary Ann',
      familyName: 'Smith',
      preferredName: null,
      language: 'en-GB',
      birthDate: '1980-05-17',
      emails: ['mary@example.com', 'm.smith@work.example'],
      phones: ['+442071838750'],
      identities: [{ source: 'pos', externalId: 'L-100' }],
    });
    expect(customer.contactPoints.map((c) => [c.kind, c.value, c.verified, c.source])).toEqual([
      ['email', 'mary@example.com', false, 'pos'],
      ['email', 'm.smith@work.example', true, 'pos'],
      ['phone', '+442071838750', false, 'pos'],
    ]);
    expect(Object.keys(customer.provenance).sort()).toEqual([
      'birthDate',
      'familyName',
      'givenName',
      'language',
    ]);
    expect(customer.provenance.givenName).toEqual({
      source: 'pos',
      capturedAt: '2024-03-01T10:00:00.000Z',
      capturedBy: ws.actor.label,
      interactionId: null,
      confidence: 1,
    });
    expect(await inTestWorkspace(t.database, ws, (tx) => getCustomer(tx, ws.actor, customer.id))).toEqual(
      customer,
    );
  });

  it('rejects invalid input with the code and path, storing nothing', async () => {
    const ws = await createTestWorkspace(t.database);
    const error = await rejection(
      create(ws, { givenName: 'A', emails: ['fine@example.com', 'not-an-email'] }),
    );
    expect(error.code).toBe('EMAIL_INVALID');
    expect(error.details).toEqual({ errors: [{ path: 'emails[1]', message: expect.any(String) }] });
    expect(await inTestWorkspace(t.database, ws, (tx) => count(tx, 'customers'))).toBe(0);
  });

  it('updates: sets and clears fields, supersedes provenance and keeps history, adds and removes lists', async () => {
    const ws = await createTestWorkspace(t.database);
    const created = await create(ws, {
      givenName: 'Jon',
      familyName: 'Smith',
      emails: ['jon@example.com'],
      identities: [{ source: 'web', externalId: 'u-1' }],
      source: 'web',
    });
    const interactionId = '01900000-0000-7000-8000-0000000000aa';
    const updated = await inTestWorkspace(t.database, ws, (tx) =>
      updateCustomer(tx, ws.actor, created.id, {
        givenName: 'John',
        familyName: 'Smith',
        preferredName: 'Johnny',
        emails: ['john@example.com'],
        phones: ['+1 415 555 2671'],
        identities: [{ source: 'pos', externalId: 'L-1' }],
        removeEmails: ['JON@example.com'],
        removeIdentities: [{ source: 'web', externalId: 'u-1' }],
        source: 'callcentre',
        interactionId,
      }),
    );
    expect(updated).toMatchObject({
      givenName: 'John',
      familyName: 'Smith',
      preferredName: 'Johnny',
      emails: ['john@example.com'],
      phones: ['+14155552671'],
      identities: [{ source: 'pos', externalId: 'L-1' }],
    });
    expect(updated.provenance.givenName).toMatchObject({ source: 'callcentre', interactionId });
    // An unchanged value keeps its provenance.
    expect(updated.provenance.familyName).toMatchObject({ source: 'web', interactionId: null });
    expect(updated.contactPoints.find((c) => c.kind === 'phone')?.source).toBe('callcentre');
    expect(Date.parse(updated.updatedAt)).toBeGreaterThanOrEqual(Date.parse(created.updatedAt));

    const cleared = await inTestWorkspace(t.database, ws, (tx) =>
      updateCustomer(tx, ws.actor, created.id, { preferredName: null }),
    );
    expect(cleared.preferredName).toBeNull();

    const history = await inTestWorkspace(t.database, ws, (tx) => listFieldHistory(tx, ws.actor, created.id));
    const givenNames = history.filter((h) => h.field === 'givenName');
    expect(givenNames.map((h) => [h.value, h.source, h.supersededAt === null])).toEqual([
      ['John', 'callcentre', true],
      ['Jon', 'web', false],
    ]);
    expect(history.filter((h) => h.field === 'preferredName').map((h) => h.value)).toEqual([null, 'Johnny']);
    const current = await inTestWorkspace(t.database, ws, (tx) =>
      tx
        .selectFrom('customer_field_values')
        .select(['field'])
        .where('customer_id', '=', created.id)
        .where('superseded_at', 'is', null)
        .execute(),
    );
    expect(current.map((r) => r.field).sort()).toEqual(['familyName', 'givenName', 'preferredName']);
  });

  it('refuses an empty patch and unknown or foreign ids', async () => {
    const ws = await createTestWorkspace(t.database);
    const other = await createTestWorkspace(t.database);
    const foreign = await create(other, { givenName: 'Else' });
    const mine = await create(ws, { givenName: 'Mine' });
    expect(
      (await rejection(inTestWorkspace(t.database, ws, (tx) => updateCustomer(tx, ws.actor, mine.id, {}))))
        .code,
    ).toBe('PATCH_EMPTY');
    for (const id of [foreign.id, '01900000-0000-7000-8000-000000000000', 'nope']) {
      const onGet = await rejection(inTestWorkspace(t.database, ws, (tx) => getCustomer(tx, ws.actor, id)));
      expect(onGet.code).toBe('CUSTOMER_NOT_FOUND');
      const onPatch = await rejection(
        inTestWorkspace(t.database, ws, (tx) => updateCustomer(tx, ws.actor, id, { givenName: 'X' })),
      );
      expect(onPatch.code).toBe('CUSTOMER_NOT_FOUND');
    }
    expect(
      (await inTestWorkspace(t.database, other, (tx) => getCustomer(tx, other.actor, foreign.id))).givenName,
    ).toBe('Else');
  });

  it('refuses an identity that belongs to another customer with 409 IDENTITY_TAKEN and stores nothing', async () => {
    const ws = await createTestWorkspace(t.database);
    const owner = await create(ws, {
      givenName: 'Owner',
      identities: [{ source: 'pos', externalId: 'card-1' }],
    });
    const before = await inTestWorkspace(t.database, ws, async (tx) => ({
      customers: await count(tx, 'customers'),
      contacts: await count(tx, 'contact_points'),
      values: await count(tx, 'customer_field_values'),
    }));
    const onCreate = await rejection(
      create(ws, {
        givenName: 'Thief',
        emails: ['thief@example.com'],
        identities: [{ source: 'pos', externalId: 'card-1' }],
      }),
    );
    expect(onCreate.kind).toBe('conflict');
    expect(onCreate.code).toBe('IDENTITY_TAKEN');
    expect(onCreate.details).toEqual({
      // The owner is not named: a refused write tells no more than the caller's read would.
      identities: [{ source: 'pos', externalId: 'card-1' }],
    });

    const other = await create(ws, { givenName: 'Other' });
    const onPatch = await rejection(
      inTestWorkspace(t.database, ws, (tx) =>
        updateCustomer(tx, ws.actor, other.id, {
          familyName: 'Changed',
          identities: [{ source: 'pos', externalId: 'card-1' }],
        }),
      ),
    );
    expect(onPatch.code).toBe('IDENTITY_TAKEN');
    const after = await inTestWorkspace(t.database, ws, async (tx) => ({
      customers: await count(tx, 'customers'),
      contacts: await count(tx, 'contact_points'),
      values: await count(tx, 'customer_field_values'),
    }));
    expect(after).toEqual({
      customers: before.customers + 1,
      contacts: before.contacts,
      values: before.values + 1,
    });
    expect(
      (await inTestWorkspace(t.database, ws, (tx) => getCustomer(tx, ws.actor, other.id))).familyName,
    ).toBeNull();
    // Adding an identity the customer already holds is fine.
    const same = await inTestWorkspace(t.database, ws, (tx) =>
      updateCustomer(tx, ws.actor, owner.id, { identities: [{ source: 'pos', externalId: 'card-1' }] }),
    );
    expect(same.identities).toEqual([{ source: 'pos', externalId: 'card-1' }]);
  });

  it('creates a batch as one by one would, in order; a bad input or a shared identity stores nothing', async () => {
    const ws = await createTestWorkspace(t.database);
    const inputs: CustomerInput[] = [
      { givenName: 'Ann', emails: ['Ann@Example.com'], identities: [{ source: 'pos', externalId: 'b-1' }] },
      { familyName: 'Lee', phones: ['+44 7700 900123'], source: 'web', birthDate: '1980-02-03' },
      {},
    ];
    const batch = await inTestWorkspace(t.database, ws, (tx) => createCustomers(tx, ws.actor, inputs));
    const single = await Promise.all(inputs.map((input) => create(ws, { ...input, identities: [] })));
    expect(batch.map((c) => c.id)).toEqual([...new Set(batch.map((c) => c.id))]);
    const shape = (c: Customer) => ({
      fields: [c.givenName, c.familyName, c.birthDate],
      emails: c.emails,
      phones: c.phones,
      provenance: Object.fromEntries(Object.entries(c.provenance).map(([k, v]) => [k, v?.source])),
    });
    expect(batch.map(shape)).toEqual(single.map(shape));
    expect(batch[0]?.identities).toEqual([{ source: 'pos', externalId: 'b-1' }]);

    const before = await inTestWorkspace(t.database, ws, (tx) => count(tx, 'customers'));
    const bad = await rejection(
      inTestWorkspace(t.database, ws, (tx) =>
        createCustomers(tx, ws.actor, [{ givenName: 'Fine' }, { emails: ['not an email'] }]),
      ),
    );
    expect(bad.kind).toBe('invalid');
    expect((bad.details as { errors: { path: string }[] }).errors[0]?.path).toBe('customers[1].emails[0]');
    const shared = await rejection(
      inTestWorkspace(t.database, ws, (tx) =>
        createCustomers(tx, ws.actor, [
          { givenName: 'One', identities: [{ source: 'pos', externalId: 'twice' }] },
          { givenName: 'Two', identities: [{ source: 'pos', externalId: 'twice' }] },
        ]),
      ),
    );
    expect(shared.code).toBe('IDENTITY_TAKEN');
    expect(await inTestWorkspace(t.database, ws, (tx) => count(tx, 'customers'))).toBe(before);
  });

  it('lists in creation order with a cursor, never showing other workspaces', async () => {
    const ws = await createTestWorkspace(t.database);
    const other = await createTestWorkspace(t.database);
    await create(other, { givenName: 'Hidden' });
    const made: string[] = [];
    for (let i = 0; i < 5; i += 1) made.push((await create(ws, { givenName: `Person ${i}` })).id);
    const seen: string[] = [];
    let cursor: string | undefined;
    for (let pages = 0; pages < 10; pages += 1) {
      const page = await inTestWorkspace(t.database, ws, (tx) =>
        listCustomers(tx, ws.actor, { limit: 2, ...(cursor === undefined ? {} : { cursor }) }),
      );
      seen.push(...page.customers.map((c) => c.id));
      if (page.nextCursor === null) break;
      cursor = page.nextCursor;
    }
    expect(seen).toEqual(made);
  });

  it('search tolerates typos: a misspelled name ranks the right customer first among 50 others', async () => {
    const ws = await createTestWorkspace(t.database);
    const given = [
      'James',
      'Mary',
      'Robert',
      'Patricia',
      'Jon',
      'Jennifer',
      'Michael',
      'Linda',
      'Johan',
      'Joan',
    ];
    const family = [
      'Smyth',
      'Johnson',
      'Williams',
      'Brown',
      'Jones',
      'Garcia',
      'Miller',
      'Davis',
      'Smithers',
      'Schmidt',
    ];
    for (let i = 0; i < 50; i += 1) {
      await create(ws, { givenName: given[i % 10] ?? 'X', familyName: family[(i * 3 + 1) % 10] ?? 'Y' });
    }
    const target = await create(ws, { givenName: 'John', familyName: 'Smith' });
    const result = await inTestWorkspace(t.database, ws, (tx) =>
      listCustomers(tx, ws.actor, { q: 'Jonh Smiht', limit: 5 }),
    );
    expect(result.customers[0]?.id).toBe(target.id);
  });

  it('search finds by email, phone and external id, and filters exactly', async () => {
    const ws = await createTestWorkspace(t.database);
    const ana = await create(ws, {
      givenName: 'Ana',
      emails: ['ana@example.com'],
      phones: ['4155552671'],
      identities: [{ source: 'pos', externalId: 'LOYAL-42' }],
    });
    await create(ws, { givenName: 'Anabel', emails: ['anabel@example.com'] });
    const q = (query: Parameters<typeof listCustomers>[2]) =>
      inTestWorkspace(t.database, ws, (tx) => listCustomers(tx, ws.actor, query)).then((p) =>
        p.customers.map((c) => c.id),
      );
    expect(await q({ q: 'ANA@example.com' })).toEqual([ana.id]);
    expect(await q({ q: '(415) 555-2671' })).toEqual([ana.id]);
    expect(await q({ q: 'LOYAL-42' })).toEqual([ana.id]);
    expect(await q({ email: ' Ana@Example.com ' })).toEqual([ana.id]);
    expect(await q({ phone: '+1 415-555-2671' })).toEqual([ana.id]);
    expect(await q({ source: 'pos', externalId: 'LOYAL-42' })).toEqual([ana.id]);
    expect(await q({ source: 'web', externalId: 'LOYAL-42' })).toEqual([]);
    expect(await q({ q: 'ana', email: 'anabel@example.com' })).not.toContain(ana.id);
    const error = await rejection(q({ email: 'nope' }));
    expect(error.code).toBe('EMAIL_INVALID');
  });

  it('search pages with an offset cursor', async () => {
    const ws = await createTestWorkspace(t.database);
    for (let i = 0; i < 5; i += 1)
      await create(ws, { givenName: 'Maria', familyName: `Lopez${'z'.repeat(i)}` });
    const first = await inTestWorkspace(t.database, ws, (tx) =>
      listCustomers(tx, ws.actor, { q: 'maria lopez', limit: 3 }),
    );
    expect(first.customers).toHaveLength(3);
    expect(first.nextCursor).not.toBeNull();
    const second = await inTestWorkspace(t.database, ws, (tx) =>
      listCustomers(tx, ws.actor, { q: 'maria lopez', limit: 3, cursor: first.nextCursor ?? '' }),
    );
    expect(second.customers).toHaveLength(2);
    expect(second.nextCursor).toBeNull();
    const all = [...first.customers, ...second.customers].map((c) => c.id);
    expect(new Set(all).size).toBe(5);
    expect(first.customers[0]?.familyName).toBe('Lopez');
  });

  it('exports and restores customers with ids, identities, contact points and provenance; restoring twice skips', async () => {
    const source = await createTestWorkspace(t.database);
    const target = await createTestWorkspace(t.database);
    const a = await create(source, {
      givenName: 'Ana',
      birthDate: '1990-01-02',
      emails: [{ value: 'ana@example.com', verified: true }],
      phones: ['+14155552671'],
      identities: [{ source: 'pos', externalId: 'A-1' }],
      source: 'pos',
    });
    await inTestWorkspace(t.database, source, (tx) =>
      updateCustomer(tx, source.actor, a.id, { givenName: 'Anna' }),
    );
    const b = await create(source, { familyName: 'Bare' });
    const exported: ExportedCustomer[] = [];
    let after: string | null = null;
    for (;;) {
      const batch: ExportedCustomer[] = await inTestWorkspace(t.database, source, (tx) =>
        listCustomersForExport(tx, after, 1),
      );
      if (batch.length === 0) break;
      exported.push(...batch);
      after = batch[batch.length - 1]?.id ?? null;
    }
    expect(exported.map((c) => c.id)).toEqual([a.id, b.id].sort());
    // What is exported survives JSON and validates against the schema.
    const parsed = exported.map((c, i) => parseExportedCustomer(JSON.parse(JSON.stringify(c)), `[${i}]`));
    expect(parsed).toEqual(exported);

    const first = await inTestWorkspace(t.database, target, (tx) =>
      restoreCustomers(tx, target.actor, parsed),
    );
    expect(first).toEqual({ restored: 2, skipped: 0 });
    const again = await inTestWorkspace(t.database, target, (tx) =>
      restoreCustomers(tx, target.actor, parsed),
    );
    expect(again).toEqual({ restored: 0, skipped: 2 });

    const original = await inTestWorkspace(t.database, source, (tx) => getCustomer(tx, source.actor, a.id));
    const restored = await inTestWorkspace(t.database, target, (tx) => getCustomer(tx, target.actor, a.id));
    expect(restored).toEqual(original);
    expect(restored.givenName).toBe('Anna');
    const reExported = await inTestWorkspace(t.database, target, (tx) =>
      listCustomersForExport(tx, null, 10),
    );
    expect(reExported).toEqual(exported);
  });

  it('refuses an export record that does not match the schema, with paths', () => {
    let caught: unknown;
    try {
      parseExportedCustomer({ id: 'x', contactPoints: [{ kind: 'fax' }] }, 'line 3');
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(AppError);
    const error = caught as AppError;
    expect(error.code).toBe('EXPORT_RECORD_INVALID');
    const paths = (error.details as { errors: { path: string }[] }).errors.map((e) => e.path);
    expect(paths).toContain('line 3.id');
  });
});
