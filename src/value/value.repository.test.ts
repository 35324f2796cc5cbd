import { sql } from 'kysely';
import { describe, expect, it } from 'vitest';
import {
  createTestWorkspace,
  ENGINE,
  inTestWorkspace,
  type TestWorkspace,
  useTestDatabase,
} from '../../test/helpers.ts';
import { newId } from '../shared/ids.ts';
import { aggregatePurchases, aggregatePurchasesQuery } from './value.repository.ts';

/**
 * The purchase aggregate every refit and every ingest runs. It once joined per-day rows back to
 * per-customer ones; with the embedded engine's statistics stale after a bulk load the planner chose
 * nested loops over millions of row pairs and the demo's value phase took minutes. Now it is one pass.
 */

const t = useTestDatabase();

async function seed(ws: TestWorkspace): Promise<{ a: string; b: string }> {
  const [a, b] = [newId(), newId()];
  await inTestWorkspace(t.database, ws, async (tx) => {
    await sql`INSERT INTO customers (workspace_id, id) SELECT ${ws.workspace.id}::uuid, u FROM unnest(${[a, b]}::uuid[]) u`.execute(
      tx,
    );
    const rows: [string, string, string, number][] = [
      [a, 'return', '2024-01-01T09:00:00Z', 5], // before any purchase: reduces spend, not repeat spend
      [a, 'purchase', '2024-01-02T10:00:00Z', 10],
      [a, 'purchase', '2024-01-02T18:00:00Z', 15], // same day: one purchase day
      [a, 'return', '2024-01-02T19:00:00Z', 3], // on the first day: not a later return
      [a, 'purchase', '2024-02-01T10:00:00Z', 40],
      [a, 'return', '2024-02-03T10:00:00Z', 7],
      [a, 'purchase', '2024-08-01T10:00:00Z', 99], // after the end
      [b, 'return', '2024-01-05T10:00:00Z', 4], // returns only: no profile
    ];
    await sql`
      INSERT INTO interactions (workspace_id, id, customer_id, type, channel, initiated_by, occurred_at, source, external_id, amount, currency)
      SELECT ${ws.workspace.id}::uuid, gen_random_uuid(), u.c, u.t, 'store', 'customer', u.at, 'test', gen_random_uuid()::text, u.amount, 'EUR'
      FROM unnest(${rows.map((r) => r[0])}::uuid[], ${rows.map((r) => r[1])}::text[], ${rows.map((r) => r[2])}::timestamptz[],
                  ${rows.map((r) => r[3])}::numeric[]) AS u(c, t, at, amount)`.execute(tx);
  });
  return { a, b };
}

/** Value counted in euros, no other currency converted. */
const EUR = { currency: 'EUR', decimals: 2, rates: {} };

describe(`the purchase aggregate (${ENGINE})`, () => {
  it('sums purchase days, first-day spend and returns per customer up to the end', async () => {
    const ws = await createTestWorkspace(t.database);
    const { a } = await seed(ws);
    const end = new Date('2024-07-01T00:00:00Z');
    const rows = await inTestWorkspace(t.database, ws, (tx) =>
      aggregatePurchases(tx, ws.workspace.id, { end, money: EUR }),
    );
    const day = (iso: string) => Date.parse(iso) / 86_400_000;
    expect(rows).toEqual([
      {
        customerId: a,
        purchaseDays: 2,
        firstDay: day('2024-01-02'),
        lastDay: day('2024-02-01'),
        total: 65,
        firstDayTotal: 25,
        returned: 15,
        returnedLater: 7,
        totalSpend: 50,
        firstPurchaseAt: new Date('2024-01-02T10:00:00Z'),
        lastPurchaseAt: new Date('2024-02-01T10:00:00Z'),
      },
    ]);
    const only = await inTestWorkspace(t.database, ws, (tx) =>
      aggregatePurchases(tx, ws.workspace.id, { end, money: EUR, customerIds: [a] }),
    );
    expect(only).toEqual(rows);
  });

  it('plans no join, so tables the planner believes empty cannot turn it into nested loops', async () => {
    const ws = await createTestWorkspace(t.database);
    const { a } = await seed(ws);
    // A rate table too: conversion is an expression, never a join.
    const money = { ...EUR, rates: { GBP: 1.17 } };
    for (const options of [
      { end: new Date(), money },
      { end: new Date(), money, customerIds: [a] },
    ]) {
      const plan = await inTestWorkspace(t.database, ws, async (tx) => {
        const { rows } = await sql<{
          'QUERY PLAN': string;
        }>`EXPLAIN ${aggregatePurchasesQuery(ws.workspace.id, options)}`.execute(tx);
        return rows.map((r) => r['QUERY PLAN']).join('\n');
      });
      expect(plan).not.toMatch(/Join|Nested Loop|SubPlan/);
    }
  });
});
