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
import { BASE_TAXONOMY } from '../policy/index.ts';
import type { AppError } from '../shared/errors.ts';
import { updateSettings } from '../workspaces/index.ts';
import {
  getInteraction,
  getTimeline,
  type IngestResult,
  type Interaction,
  ingestInteractions,
  listInteractionsForExport,
  toIngestItem,
} from './index.ts';

const t = useTestDatabase();

function item(externalId: string, overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    type: 'visit',
    channel: 'store',
    occurredAt: '2024-05-01T10:00:00Z',
    source: 'pos',
    externalId,
    customer: { identity: { source: 'pos', externalId: 'L-1' } },
    ...overrides,
  };
}

const STORAGE_POLICY = { taxonomy: BASE_TAXONOMY, mode: 'reject' } as const;

function ingest(ws: TestWorkspace, items: unknown[], atomic = false): Promise<IngestResult[]> {
  return inTestWorkspace(t.database, ws, (tx) =>
    ingestInteractions(tx, ws.actor, items, { atomic, policy: STORAGE_POLICY }),
  );
}

async function count(ws: TestWorkspace, table: 'interactions' | 'customers'): Promise<number> {
  return inTestWorkspace(t.database, ws, async (tx: Tx) => {
    const { rows } = await sql<{ n: number }>`SELECT count(*)::int AS n FROM ${sql.table(table)}`.execute(tx);
    return rows[0]?.n ?? 0;
  });
}

async function caught(promise: Promise<unknown>): Promise<AppError> {
  try {
    await promise;
  } catch (error) {
    return error as AppError;
  }
  throw new Error('expected the call to fail');
}

/** A customer of the workspace, made by ingesting one interaction that names a new identity. */
async function newCustomer(ws: TestWorkspace, loyalty: string): Promise<string> {
  const [result] = await ingest(ws, [
    item(`seed-${loyalty}`, { customer: { identity: { source: 'pos', externalId: loyalty } } }),
  ]);
  if (!result?.customerId) throw new Error('no customer');
  return result.customerId;
}

describe(`ingestInteractions (${ENGINE})`, () => {
  it('stores the good items of a mixed batch and reports each bad one', async () => {
    const ws = await createTestWorkspace(t.database);
    const results = await ingest(ws, [
      item('a'),
      item('b', { occurredAt: 'last tuesday' }),
      item('c', { type: 'purchase', amount: 5, currency: 'EUR' }),
      item('d', { customer: { id: '0190a1b2-0000-7000-8000-000000000001' } }),
      'not an object',
    ]);
    expect(results.map((r) => r.status)).toEqual(['created', 'rejected', 'created', 'rejected', 'rejected']);
    expect(results[1]?.error).toMatchObject({
      code: 'INTERACTION_INVALID',
      details: { errors: [{ path: 'interactions[1].occurredAt' }] },
    });
    expect(results[3]?.error?.code).toBe('CUSTOMER_NOT_FOUND');
    expect(results[4]?.error?.details).toEqual({
      errors: [{ path: 'interactions[4]', message: 'must be a JSON object' }],
    });
    expect(await count(ws, 'interactions')).toBe(2);
    const stored = await inTestWorkspace(t.database, ws, (tx) => getInteraction(tx, results[2]?.id ?? ''));
    expect(stored).toMatchObject({
      type: 'purchase',
      amount: 5,
      currency: 'EUR',
      externalId: 'c',
      initiatedBy: 'customer',
    });
    expect(stored.customerId).toBe(results[0]?.customerId);
  });

  it('atomic: a rejected item stores nothing and creates no customer', async () => {
    const ws = await createTestWorkspace(t.database);
    const invalidItem = await caught(
      ingest(ws, [item('a', { customer: { email: 'new@example.com' } }), item('b', { channel: '' })], true),
    );
    expect(invalidItem).toMatchObject({ code: 'BATCH_REJECTED', kind: 'invalid' });
    expect(invalidItem.details).toMatchObject({
      rejected: [{ index: 1, error: { code: 'INTERACTION_INVALID' } }],
      errors: [{ path: 'interactions[1].channel' }],
    });
    // The second item fails only at resolution, after the first item's customer was created.
    const unknownCustomer = await caught(
      ingest(
        ws,
        [
          item('c', { customer: { identity: { source: 'web', externalId: 'brand-new' } } }),
          item('d', { customer: { id: '0190a1b2-0000-7000-8000-000000000002' } }),
        ],
        true,
      ),
    );
    expect(unknownCustomer.details).toMatchObject({
      rejected: [{ index: 1, error: { code: 'CUSTOMER_NOT_FOUND' } }],
    });
    expect(await count(ws, 'interactions')).toBe(0);
    expect(await count(ws, 'customers')).toBe(0);
  });

  it('atomic: a clean batch is stored whole', async () => {
    const ws = await createTestWorkspace(t.database);
    const results = await ingest(ws, [item('a'), item('b')], true);
    expect(results.map((r) => r.status)).toEqual(['created', 'created']);
  });

  it('answers a repeat across batches with the original id and never stores it twice', async () => {
    const ws = await createTestWorkspace(t.database);
    const [first] = await ingest(ws, [item('a')]);
    const again = await ingest(ws, [
      item('a', { type: 'call', customer: { email: 'other@example.com' } }),
      item('b'),
    ]);
    expect(again[0]).toEqual({ index: 0, status: 'duplicate', id: first?.id, customerId: first?.customerId });
    expect(again[1]?.status).toBe('created');
    expect(await count(ws, 'interactions')).toBe(2);
    const stored = await inTestWorkspace(t.database, ws, (tx) => getInteraction(tx, first?.id ?? ''));
    expect(stored.type).toBe('visit');
  });

  it('answers a repeat inside one batch as a duplicate of the first', async () => {
    const ws = await createTestWorkspace(t.database);
    const results = await ingest(ws, [item('a'), item('b'), item('a', { type: 'call' }), item('a')]);
    expect(results.map((r) => r.status)).toEqual(['created', 'created', 'duplicate', 'duplicate']);
    expect(results[2]?.id).toBe(results[0]?.id);
    expect(results[3]?.id).toBe(results[0]?.id);
    expect(await count(ws, 'interactions')).toBe(2);
    // Same key from another source is another interaction.
    const other = await ingest(ws, [item('a', { source: 'web' })]);
    expect(other[0]?.status).toBe('created');
  });

  it('stores each key once when concurrent batches share keys in opposite orders', async () => {
    const ws = await createTestWorkspace(t.database);
    // An existing customer: resolving it takes no lock, so the two inserts really race.
    const customer = { id: await newCustomer(ws, 'C-1') };
    const keys = Array.from({ length: 2000 }, (_, i) => `k-${i}`);
    const forwardItems = keys.map((k) => item(k, { customer }));
    const backwardItems = [...keys].reverse().map((k) => item(k, { customer }));
    const [forward, backward] = await Promise.all([ingest(ws, forwardItems), ingest(ws, backwardItems)]);
    expect(await count(ws, 'interactions')).toBe(2001);
    const byKey = new Map(keys.map((k, i) => [k, forward?.[i]]));
    [...keys].reverse().forEach((k, i) => {
      const a = byKey.get(k);
      const b = backward?.[i];
      expect([a?.status, b?.status].sort()).toEqual(['created', 'duplicate']);
      expect(b?.id).toBe(a?.id);
    });
  });

  // Locking needs real connections: the embedded engine has one, so two transactions never interleave.
  it.skipIf(ENGINE === 'pglite')(
    'takes key locks in key order, so crossing batches wait instead of deadlocking',
    async () => {
      const ws = await createTestWorkspace(t.database);
      const customer = { id: await newCustomer(ws, 'C-2') };
      const run = (tx: Tx, keys: string[]) =>
        ingestInteractions(
          tx,
          ws.actor,
          keys.map((k) => item(k, { customer })),
          { atomic: false, policy: STORAGE_POLICY },
        );
      let firstHeld!: () => void;
      const held = new Promise<void>((resolve) => {
        firstHeld = resolve;
      });
      let secondWaiting!: () => void;
      const waiting = new Promise<void>((resolve) => {
        secondWaiting = resolve;
      });
      // T1 holds k-1, T2 (k-2 then k-1 as sent) blocks on k-1, then T1 asks for k-2: had T2 taken k-2
      // first, this would be a deadlock.
      const first = inTestWorkspace(t.database, ws, async (tx) => {
        const a = await run(tx, ['k-1']);
        firstHeld();
        await waiting;
        return [...a, ...(await run(tx, ['k-2']))];
      });
      await held;
      const second = inTestWorkspace(t.database, ws, (tx) => run(tx, ['k-2', 'k-1']));
      for (let i = 0; i < 100; i++) {
        const { rows } = await sql<{
          n: number;
        }>`SELECT count(*)::int AS n FROM pg_locks WHERE NOT granted`.execute(t.database.db);
        if ((rows[0]?.n ?? 0) > 0) break;
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      secondWaiting();
      const [created, repeated] = await Promise.all([first, second]);
      expect(created.map((r) => r.status)).toEqual(['created', 'created']);
      expect(repeated.map((r) => r.status)).toEqual(['duplicate', 'duplicate']);
      expect(repeated.map((r) => r.id)).toEqual([created[1]?.id, created[0]?.id]);
    },
  );

  it('creates one customer for an unknown identity and uses it for all its items', async () => {
    const ws = await createTestWorkspace(t.database);
    const ref = { identity: { source: 'loyalty', externalId: 'card-77' } };
    const results = await ingest(ws, [
      item('a', { customer: ref }),
      item('b', { customer: ref, source: 'web' }),
      item('c', { customer: ref }),
    ]);
    expect(results.map((r) => r.status)).toEqual(['created', 'created', 'created']);
    expect(new Set(results.map((r) => r.customerId)).size).toBe(1);
    expect(await count(ws, 'customers')).toBe(1);
    const later = await ingest(ws, [item('d', { customer: ref })]);
    expect(later[0]?.customerId).toBe(results[0]?.customerId);
    expect(await count(ws, 'customers')).toBe(1);
  });

  it('rejects unknown customers with CUSTOMER_UNKNOWN when autoCreateCustomers is off', async () => {
    const ws = await createTestWorkspace(t.database);
    const known = await newCustomer(ws, 'K-1');
    await inTestWorkspace(t.database, ws, (tx) =>
      updateSettings(tx, ws.actor, { autoCreateCustomers: false }),
    );
    const results = await ingest(ws, [
      item('a', { customer: { identity: { source: 'pos', externalId: 'nobody' } } }),
      item('b', { customer: { id: known } }),
      item('c', { customer: { email: 'nobody@example.com' } }),
    ]);
    expect(results.map((r) => r.status)).toEqual(['rejected', 'created', 'rejected']);
    expect(results[0]?.error?.code).toBe('CUSTOMER_UNKNOWN');
    expect(results[2]?.error?.code).toBe('CUSTOMER_UNKNOWN');
    expect(await count(ws, 'customers')).toBe(1);
  });

  it("rejects another workspace's customer id as CUSTOMER_NOT_FOUND", async () => {
    const mine = await createTestWorkspace(t.database);
    const theirs = await createTestWorkspace(t.database);
    const theirCustomer = await newCustomer(theirs, 'T-1');
    const results = await ingest(mine, [item('a', { customer: { id: theirCustomer } })]);
    expect(results[0]).toMatchObject({ status: 'rejected', error: { code: 'CUSTOMER_NOT_FOUND' } });
    expect(await count(mine, 'interactions')).toBe(0);
  });

  it('refuses more than 10,000 items', async () => {
    const ws = await createTestWorkspace(t.database);
    const error = await caught(ingest(ws, new Array(10_001).fill(item('a'))));
    expect(error).toMatchObject({ code: 'BATCH_TOO_LARGE', kind: 'too_large' });
  });

  it('stores every field and reads it back as camelCase JSON', async () => {
    const ws = await createTestWorkspace(t.database);
    const [result] = await ingest(ws, [
      item('full', {
        type: 'purchase',
        channel: 'web',
        occurredAt: '2024-05-01T12:00:00.250+02:00',
        amount: 19.99,
        currency: 'GBP',
        sentiment: 0.5,
        text: 'Thanks!',
        lineItems: [{ sku: 'MUG-1', name: 'Mug', quantity: 2, unitPrice: 9.995 }],
        properties: { orderId: 'W-9', gift: true },
      }),
    ]);
    const stored = await inTestWorkspace(t.database, ws, (tx) => getInteraction(tx, result?.id ?? ''));
    expect(stored).toEqual({
      id: result?.id,
      customerId: result?.customerId,
      type: 'purchase',
      channel: 'web',
      initiatedBy: 'customer',
      occurredAt: '2024-05-01T10:00:00.250Z',
      source: 'pos',
      externalId: 'full',
      amount: 19.99,
      currency: 'GBP',
      sentiment: 0.5,
      text: 'Thanks!',
      lineItems: [{ sku: 'MUG-1', name: 'Mug', quantity: 2, unitPrice: 9.995 }],
      properties: { orderId: 'W-9', gift: true },
      declaredFor: null,
      receivedAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
    });
  });

  it("does not find another workspace's interaction", async () => {
    const mine = await createTestWorkspace(t.database);
    const theirs = await createTestWorkspace(t.database);
    const [theirItem] = await ingest(theirs, [item('a')]);
    const error = await caught(
      inTestWorkspace(t.database, mine, (tx) => getInteraction(tx, theirItem?.id ?? '')),
    );
    expect(error).toMatchObject({ code: 'INTERACTION_NOT_FOUND', kind: 'not_found' });
    expect(await caught(inTestWorkspace(t.database, mine, (tx) => getInteraction(tx, 'nope')))).toMatchObject(
      {
        code: 'INTERACTION_NOT_FOUND',
      },
    );
  });
});

describe(`getTimeline (${ENGINE})`, () => {
  /** 23 interactions of one customer with ties in occurredAt and sub-millisecond digits, plus noise. */
  async function seed(): Promise<{ ws: TestWorkspace; customerId: string; ids: string[] }> {
    timeOf.clear();
    const ws = await createTestWorkspace(t.database);
    const ref = { identity: { source: 'pos', externalId: 'TL-1' } };
    const items = Array.from({ length: 23 }, (_, i) =>
      item(`t-${i}`, {
        customer: ref,
        type: i % 3 === 0 ? 'complaint' : 'visit',
        channel: i % 2 === 0 ? 'store' : 'web',
        // Pairs share a timestamp; some carry microseconds.
        occurredAt: `2024-03-${String(1 + Math.floor(i / 2)).padStart(2, '0')}T09:00:00.${i % 4 === 0 ? '000001' : '000000'}Z`,
      }),
    );
    const results = await ingest(ws, items);
    for (const it of items) timeOf.set(it.externalId as string, it.occurredAt as string);
    await ingest(ws, [item('noise', { customer: { identity: { source: 'pos', externalId: 'TL-2' } } })]);
    const customerId = results[0]?.customerId ?? '';
    return { ws, customerId, ids: results.map((r) => r.id ?? '') };
  }

  async function pageAll(ws: TestWorkspace, customerId: string, options: Parameters<typeof getTimeline>[2]) {
    const seen: Interaction[] = [];
    let cursor: string | undefined;
    let pages = 0;
    do {
      const page = await inTestWorkspace(t.database, ws, (tx) =>
        getTimeline(tx, customerId, { ...options, cursor }),
      );
      seen.push(...page.interactions);
      cursor = page.nextCursor ?? undefined;
      pages += 1;
    } while (cursor && pages < 100);
    return { seen, pages };
  }

  /** The seeded occurredAt texts, to microseconds (the JSON shows milliseconds). */
  const timeOf = new Map<string, string>();

  function sortKey(i: Interaction): string {
    return `${timeOf.get(i.externalId)}|${i.id}`;
  }

  it('lists newest first by default, ordered by occurredAt then id', async () => {
    const { ws, customerId } = await seed();
    const page = await inTestWorkspace(t.database, ws, (tx) => getTimeline(tx, customerId, { limit: 500 }));
    expect(page.interactions).toHaveLength(23);
    expect(page.nextCursor).toBeNull();
    const keys = page.interactions.map(sortKey);
    expect(keys).toEqual([...keys].sort().reverse());
    expect(page.interactions.every((i) => i.customerId === customerId)).toBe(true);
  });

  it('pages with a cursor through every item exactly once, in both orders', async () => {
    const { ws, customerId, ids } = await seed();
    for (const order of ['desc', 'asc'] as const) {
      const { seen, pages } = await pageAll(ws, customerId, { limit: 4, order });
      expect(pages).toBe(6);
      expect(seen.map((i) => i.id).sort()).toEqual([...ids].sort());
      const keys = seen.map(sortKey);
      expect(keys).toEqual(order === 'asc' ? [...keys].sort() : [...keys].sort().reverse());
    }
  });

  it('filters by type, channel and time range (from inclusive, to exclusive)', async () => {
    const { ws, customerId } = await seed();
    const complaints = await pageAll(ws, customerId, { limit: 3, types: ['complaint'] });
    expect(complaints.seen).toHaveLength(8);
    expect(complaints.seen.every((i) => i.type === 'complaint')).toBe(true);
    const web = await pageAll(ws, customerId, { limit: 5, channels: ['web'] });
    expect(web.seen).toHaveLength(11);
    expect(web.seen.every((i) => i.channel === 'web')).toBe(true);
    const both = await pageAll(ws, customerId, { types: ['complaint', 'visit'], channels: ['store'] });
    expect(both.seen).toHaveLength(12);
    const range = await pageAll(ws, customerId, { from: '2024-03-02T09:00:00Z', to: '2024-03-04T09:00:00Z' });
    expect(range.seen.map((i) => i.externalId).sort()).toEqual(['t-2', 't-3', 't-4', 't-5']);
  });

  it('answers an empty page for a customer without interactions of that kind', async () => {
    const { ws, customerId } = await seed();
    const page = await inTestWorkspace(t.database, ws, (tx) =>
      getTimeline(tx, customerId, { types: ['purchase'] }),
    );
    expect(page).toEqual({ interactions: [], nextCursor: null });
  });

  it("refuses an unknown customer and another workspace's customer", async () => {
    const { customerId } = await seed();
    const other = await createTestWorkspace(t.database);
    for (const id of [customerId, '0190a1b2-0000-7000-8000-000000000003', 'x']) {
      const error = await caught(inTestWorkspace(t.database, other, (tx) => getTimeline(tx, id)));
      expect(error).toMatchObject({ code: 'CUSTOMER_NOT_FOUND', kind: 'not_found' });
    }
  });

  it('refuses a bad limit, cursor or time bound', async () => {
    const { ws, customerId } = await seed();
    const run = (options: Parameters<typeof getTimeline>[2]) =>
      caught(inTestWorkspace(t.database, ws, (tx) => getTimeline(tx, customerId, options)));
    expect((await run({ limit: 0 })).code).toBe('LIMIT_INVALID');
    expect((await run({ limit: 501 })).code).toBe('LIMIT_INVALID');
    expect((await run({ cursor: 'abc' })).code).toBe('CURSOR_INVALID');
    expect((await run({ from: 'yesterday' })).code).toBe('TIME_RANGE_INVALID');
  });
});

describe(`listInteractionsForExport (${ENGINE})`, () => {
  it('pages the workspace in id order, and the export re-imports as duplicates of itself', async () => {
    const ws = await createTestWorkspace(t.database);
    const other = await createTestWorkspace(t.database);
    await ingest(other, [item('elsewhere')]);
    const results = await ingest(
      ws,
      Array.from({ length: 7 }, (_, i) =>
        item(`x-${i}`, { type: 'purchase', amount: i, currency: 'EUR', text: 'hi' }),
      ),
    );
    const exported: Interaction[] = [];
    let after: string | null = null;
    for (;;) {
      const page: Interaction[] = await inTestWorkspace(t.database, ws, (tx) =>
        listInteractionsForExport(tx, after, 3),
      );
      if (page.length === 0) break;
      exported.push(...page);
      after = page[page.length - 1]?.id ?? null;
    }
    expect(exported.map((i) => i.id)).toEqual(results.map((r) => r.id).sort());
    const again = await ingest(ws, exported.map(toIngestItem), true);
    expect(again.every((r) => r.status === 'duplicate')).toBe(true);
    expect(again.map((r) => r.id)).toEqual(exported.map((i) => i.id));
  });
});
