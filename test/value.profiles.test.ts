import { sql } from 'kysely';
import { describe, expect, it } from 'vitest';
import type { Tx } from '../src/db/index.ts';
import { refitValueOfWorkspaces, withAccess } from '../src/governance/index.ts';
import { mergeCustomers, unmergeCustomers } from '../src/identity/index.ts';
import { newId } from '../src/shared/ids.ts';
import {
  findValueModel,
  findValueProfile,
  fitBgNbd,
  fitGammaGamma,
  refitWorkspaceValue,
  simulateTransactions,
  summariseTransactions,
  type Transaction,
  updateProfilesForCustomers,
} from '../src/value/index.ts';
import { operatorActor } from '../src/workspaces/index.ts';
import {
  createTestWorkspace,
  drainEvents,
  ENGINE,
  inTestWorkspace,
  type TestWorkspace,
  useTestDatabase,
} from './helpers.ts';

/**
 * Value profiles over the database: a refit on seeded synthetic purchases reads the same figures as the
 * pure summary of the same transactions and fits the same parameters; profiles are sane; one customer's
 * profile follows a new purchase or return without a refit.
 */

const t = useTestDatabase();

const NOW = new Date('2024-07-01T00:00:00Z');
const TRUE_PARAMS = { r: 0.243, alpha: 4.414, a: 0.793, b: 2.426 };

async function insertCustomers(tx: Tx, workspaceId: string, ids: readonly string[]): Promise<void> {
  await sql`INSERT INTO customers (workspace_id, id) SELECT ${workspaceId}::uuid, u FROM unnest(${ids as string[]}::uuid[]) u`.execute(
    tx,
  );
}

async function insertInteractions(
  tx: Tx,
  workspaceId: string,
  rows: readonly { customerId: string; type: string; at: string; amount: number }[],
): Promise<void> {
  await sql`
    INSERT INTO interactions (workspace_id, id, customer_id, type, channel, initiated_by, occurred_at, source, external_id, amount, currency)
    SELECT ${workspaceId}::uuid, gen_random_uuid(), u.customer_id, u.type, 'store', 'customer', u.at, 'test', gen_random_uuid()::text, u.amount, 'EUR'
    FROM unnest(${rows.map((r) => r.customerId)}::uuid[], ${rows.map((r) => r.type)}::text[],
                ${rows.map((r) => r.at)}::timestamptz[], ${rows.map((r) => r.amount)}::numeric[])
      AS u(customer_id, type, at, amount)`.execute(tx);
}

async function seedWorld(ws: TestWorkspace, customers: number): Promise<{ transactions: Transaction[] }> {
  const simulated = [
    ...simulateTransactions({
      customers,
      seed: 'value-profiles',
      params: TRUE_PARAMS,
      spend: { p: 6.25, q: 3.74, gamma: 15.44 },
      period: 'week',
      start: '2023-01-01',
      acquisitionDays: 84,
      days: 540,
    }),
  ];
  const ids = new Map<string, string>();
  for (const tr of simulated) if (!ids.has(tr.customerId)) ids.set(tr.customerId, newId());
  const transactions = simulated.map((tr) => ({ ...tr, customerId: ids.get(tr.customerId) ?? '' }));
  await inTestWorkspace(t.database, ws, async (tx) => {
    await insertCustomers(tx, ws.workspace.id, [...ids.values()]);
    await insertInteractions(
      tx,
      ws.workspace.id,
      transactions.map((tr) => ({
        customerId: tr.customerId,
        type: 'purchase',
        at: `${tr.date}T12:00:00Z`,
        amount: tr.amount,
      })),
    );
  });
  return { transactions };
}

describe(`value profiles in the database (${ENGINE})`, () => {
  it('a refit reads the same summary as the pure code, fits the same parameters and writes sane profiles', async () => {
    const ws = await createTestWorkspace(t.database);
    // Small on purpose: the refit is a scheduled job now; its speed at scale is measured in bench/.
    const { transactions } = await seedWorld(ws, 500);
    const report = await inTestWorkspace(t.database, ws, (tx) =>
      refitWorkspaceValue(tx, ws.workspace.id, { now: NOW }),
    );
    const pure = await summariseTransactions(transactions, { calibrationEnd: '2024-07-01', period: 'week' });
    expect(report.status).toBe('fitted');
    expect(report.customers).toBe(pure.customers.length);
    const expected = fitBgNbd(pure.customers).params;
    const fitted = report.model?.bgnbd.params;
    for (const name of ['r', 'alpha', 'a', 'b'] as const) {
      expect(fitted?.[name]).toBeCloseTo(expected[name], 6);
    }
    expect(report.model?.gammaGamma?.params.p).toBeCloseTo(fitGammaGamma(pure.customers).params.p, 6);
    // Sane: the simulated purchase process is recovered roughly from 500 customers.
    expect(fitted?.r).toBeGreaterThan(TRUE_PARAMS.r * 0.6);
    expect(fitted?.r).toBeLessThan(TRUE_PARAMS.r * 1.6);
    expect(report.model?.convergence.bgnbd?.converged).toBe(true);

    const stored = await inTestWorkspace(t.database, ws, (tx) => findValueModel(tx, ws.workspace.id));
    expect(stored?.bgnbd.params.r).toBeCloseTo(fitted?.r ?? 0, 9);
    const rows = await inTestWorkspace(t.database, ws, (tx) =>
      tx.selectFrom('value_profiles').selectAll().where('workspace_id', '=', ws.workspace.id).execute(),
    );
    expect(rows).toHaveLength(pure.customers.length);
    const byId = new Map(pure.customers.map((c) => [c.customerId, c]));
    for (const row of rows) {
      const summary = byId.get(row.customer_id);
      expect(row.frequency).toBe(summary?.frequency);
      expect(row.recency).toBeCloseTo(summary?.recency ?? -1, 9);
      expect(row.t).toBeCloseTo(summary?.T ?? -1, 9);
      expect(row.p_alive).toBeGreaterThanOrEqual(0);
      expect(row.p_alive).toBeLessThanOrEqual(1);
      expect(row.expected_purchases).toBeGreaterThanOrEqual(0);
      expect(row.clv).toBeGreaterThanOrEqual(0);
      expect(Number.isFinite(row.clv)).toBe(true);
    }
    // RFM quintiles: five recency scores used, segments named.
    expect(new Set(rows.map((r) => r.rfm_r)).size).toBeGreaterThanOrEqual(4);
    expect(Object.values(report.segments).reduce((a, b) => a + (b ?? 0), 0)).toBe(rows.length);
    // One-time buyers are alive by the model's definition; frequent recent buyers score high.
    const oneTimers = rows.filter((r) => r.frequency === 0);
    expect(oneTimers.every((r) => r.p_alive === 1)).toBe(true);
  });

  it('the scheduled refit (short transactions, fit in a worker thread) stores what the one-transaction refit does', async () => {
    const ws = await createTestWorkspace(t.database);
    await seedWorld(ws, 300);
    const profiles = () =>
      inTestWorkspace(t.database, ws, (tx) =>
        tx
          .selectFrom('value_profiles')
          .select(['customer_id', 'frequency', 'p_alive', 'clv', 'rfm_segment', 'purchases'])
          .where('workspace_id', '=', ws.workspace.id)
          .orderBy('customer_id')
          .execute(),
      );
    const inOne = await inTestWorkspace(t.database, ws, (tx) =>
      refitWorkspaceValue(tx, ws.workspace.id, { now: NOW }),
    );
    const expected = await profiles();
    await inTestWorkspace(t.database, ws, (tx) =>
      tx.deleteFrom('value_profiles').where('workspace_id', '=', ws.workspace.id).execute(),
    );
    const [run] = await refitValueOfWorkspaces(t.database.db, [ws.workspace.id], { now: NOW, asOf: NOW });
    expect(run?.refit.status).toBe('fitted');
    expect(run?.refit.model?.bgnbd.params).toEqual(inOne.model?.bgnbd.params);
    expect(await profiles()).toEqual(expected);

    // A profile an event rewrote after the refit read (newer than the refit's clock) is left alone by its
    // batches and rescored with the new model at the end, keeping the newer purchase.
    const someone = expected[0]?.customer_id ?? '';
    await inTestWorkspace(t.database, ws, async (tx) => {
      await insertInteractions(tx, ws.workspace.id, [
        { customerId: someone, type: 'purchase', at: '2024-06-30T10:00:00Z', amount: 5 },
      ]);
      await updateProfilesForCustomers(tx, ws.workspace.id, [someone], NOW);
    });
    const [again] = await refitValueOfWorkspaces(t.database.db, [ws.workspace.id], { now: NOW, asOf: NOW });
    expect(again?.refit.status).toBe('fitted');
    const after = await inTestWorkspace(t.database, ws, (tx) =>
      findValueProfile(tx, ws.workspace.id, someone),
    );
    expect(after?.purchases).toBe((expected[0]?.purchases ?? 0) + 1);
    expect(after?.lastPurchaseAt).toBe('2024-06-30T10:00:00.000Z');
  });

  it('one customer follows a new purchase and a return without a refit; nothing before a first fit', async () => {
    const ws = await createTestWorkspace(t.database);
    // Enough buyers besides these two for the model to fit inside its parameter space.
    await seedWorld(ws, 300);
    const [a, b] = [newId(), newId()];
    await inTestWorkspace(t.database, ws, async (tx) => {
      await insertCustomers(tx, ws.workspace.id, [a, b]);
      const rows = [];
      for (let week = 0; week < 40; week += 3) {
        rows.push({
          customerId: a,
          type: 'purchase',
          at: new Date(Date.UTC(2024, 0, 1 + week * 7)).toISOString(),
          amount: 20 + week,
        });
      }
      rows.push({ customerId: b, type: 'purchase', at: '2024-02-01T10:00:00Z', amount: 50 });
      rows.push({ customerId: b, type: 'purchase', at: '2024-03-01T10:00:00Z', amount: 30 });
      await insertInteractions(tx, ws.workspace.id, rows);
      expect(await updateProfilesForCustomers(tx, ws.workspace.id, [a, b], NOW)).toBe(0);
    });
    await inTestWorkspace(t.database, ws, (tx) => refitWorkspaceValue(tx, ws.workspace.id, { now: NOW }));
    const before = await inTestWorkspace(t.database, ws, (tx) => findValueProfile(tx, ws.workspace.id, b));
    expect(before).toMatchObject({ purchases: 2, frequency: 1, totalSpend: 80, monetaryValue: 30 });

    const later = new Date('2024-07-10T00:00:00Z');
    await inTestWorkspace(t.database, ws, async (tx) => {
      await insertInteractions(tx, ws.workspace.id, [
        { customerId: b, type: 'purchase', at: '2024-07-05T10:00:00Z', amount: 40 },
        { customerId: b, type: 'return', at: '2024-07-06T10:00:00Z', amount: 10 },
      ]);
      expect(await updateProfilesForCustomers(tx, ws.workspace.id, [b], later)).toBe(1);
    });
    const after = await inTestWorkspace(t.database, ws, (tx) => findValueProfile(tx, ws.workspace.id, b));
    // Repeat spend (30 + 40) less the later return (10), over two repeats.
    expect(after).toMatchObject({ purchases: 3, frequency: 2, totalSpend: 110, monetaryValue: 30 });
    expect(after?.asOf).toBe(later.toISOString());
    expect(after?.lastPurchaseAt).toBe('2024-07-05T10:00:00.000Z');
    expect(after?.pAlive).toBeGreaterThan(0);
  });

  it("a merge moves the absorbed customer's purchases into the survivor's profile once dispatched", async () => {
    const ws = await createTestWorkspace(t.database);
    await seedWorld(ws, 300);
    const [a, b, c] = [newId(), newId(), newId()];
    await inTestWorkspace(t.database, ws, async (tx) => {
      await insertCustomers(tx, ws.workspace.id, [a, b, c]);
      await insertInteractions(tx, ws.workspace.id, [
        { customerId: a, type: 'purchase', at: '2024-01-05T10:00:00Z', amount: 10 },
        { customerId: a, type: 'purchase', at: '2024-02-05T10:00:00Z', amount: 20 },
        { customerId: b, type: 'purchase', at: '2024-03-05T10:00:00Z', amount: 40 },
        { customerId: c, type: 'purchase', at: '2024-01-15T10:00:00Z', amount: 5 },
        { customerId: c, type: 'purchase', at: '2024-04-15T10:00:00Z', amount: 5 },
      ]);
    });
    await inTestWorkspace(t.database, ws, (tx) => refitWorkspaceValue(tx, ws.workspace.id, { now: NOW }));
    const owner = operatorActor(ws.workspace.id);
    const write = { purpose: undefined, requestId: null, mode: 'write' } as const;
    const merge = await withAccess(t.database.db, owner, write, (scope) => mergeCustomers(scope, a, b));
    // The merge's event reaches the value subscriber after commit (eventually consistent).
    await drainEvents(t.database, [ws]);
    const merged = await inTestWorkspace(t.database, ws, (tx) => findValueProfile(tx, ws.workspace.id, a));
    expect(merged).toMatchObject({ purchases: 3, totalSpend: 70 });
    await withAccess(t.database.db, owner, write, (scope) => unmergeCustomers(scope, merge.id));
    await drainEvents(t.database, [ws]);
    const back = await inTestWorkspace(t.database, ws, (tx) => findValueProfile(tx, ws.workspace.id, a));
    expect(back).toMatchObject({ purchases: 2, totalSpend: 30 });
  });

  it('scores profiles as of the value clock, not the time of the refit', async () => {
    const ws = await createTestWorkspace(t.database);
    await seedWorld(ws, 300);
    const asOf = new Date('2024-01-01T00:00:00Z');
    const report = await inTestWorkspace(t.database, ws, (tx) =>
      refitWorkspaceValue(tx, ws.workspace.id, { now: NOW, asOf }),
    );
    expect(report).toMatchObject({ status: 'fitted', asOf: asOf.toISOString(), fittedAt: NOW.toISOString() });
    expect(report.model?.calibration.end).toBe(asOf.toISOString());
    const rows = await inTestWorkspace(t.database, ws, (tx) =>
      tx
        .selectFrom('value_profiles')
        .select(['as_of', 'updated_at', 'last_purchase_at'])
        .where('workspace_id', '=', ws.workspace.id)
        .execute(),
    );
    expect(rows.length).toBe(report.customers);
    for (const row of rows) {
      expect(new Date(row.as_of).toISOString()).toBe(asOf.toISOString());
      expect(new Date(row.updated_at).toISOString()).toBe(NOW.toISOString());
      // Purchases after the clock are not read.
      expect(new Date(row.last_purchase_at).getTime()).toBeLessThanOrEqual(asOf.getTime());
    }
  });

  it('a refit at the boundary or without convergence says so and keeps the previous model and profiles', async () => {
    const ws = await createTestWorkspace(t.database);
    await seedWorld(ws, 300);
    const first = await inTestWorkspace(t.database, ws, (tx) =>
      refitWorkspaceValue(tx, ws.workspace.id, { now: NOW }),
    );
    expect(first).toMatchObject({ status: 'fitted', refused: null });
    const snapshot = () =>
      inTestWorkspace(t.database, ws, async (tx) => ({
        model: await findValueModel(tx, ws.workspace.id),
        profiles: await tx
          .selectFrom('value_profiles')
          .selectAll()
          .where('workspace_id', '=', ws.workspace.id)
          .orderBy('customer_id')
          .execute(),
      }));
    const before = await snapshot();

    // On the simulation's second day nobody has bought twice: no purchase process can be told apart, and
    // the likelihood is highest at the edge (or the optimiser gives up).
    const report = await inTestWorkspace(t.database, ws, (tx) =>
      refitWorkspaceValue(tx, ws.workspace.id, { now: new Date(), asOf: new Date('2023-01-02T00:00:00Z') }),
    );
    expect(['boundary', 'not_converged']).toContain(report.status);
    expect(report.customers).toBeGreaterThan(0);
    expect(report.model?.bgnbd.params).toEqual(before.model?.bgnbd.params);
    expect(report.refused?.reason).toMatch(/previous model and its profiles are kept/);
    const convergence = report.refused?.model.convergence.bgnbd;
    expect(convergence && (!convergence.converged || convergence.atBoundary)).toBe(true);
    expect(await snapshot()).toEqual(before);
  });

  it('a first fit that is refused stores no model and no profile', async () => {
    const ws = await createTestWorkspace(t.database);
    const ids = [newId(), newId(), newId()];
    await inTestWorkspace(t.database, ws, async (tx) => {
      await insertCustomers(tx, ws.workspace.id, ids);
      await insertInteractions(
        tx,
        ws.workspace.id,
        ids.map((customerId, i) => ({
          customerId,
          type: 'purchase',
          at: `2024-0${i + 1}-10T10:00:00Z`,
          amount: 10,
        })),
      );
    });
    const report = await inTestWorkspace(t.database, ws, (tx) =>
      refitWorkspaceValue(tx, ws.workspace.id, { now: NOW }),
    );
    expect(['boundary', 'not_converged']).toContain(report.status);
    expect(report).toMatchObject({ model: null, customers: 3 });
    expect(report.refused?.reason).toMatch(/no model was stored/);
    const stored = await inTestWorkspace(t.database, ws, async (tx) => ({
      model: await findValueModel(tx, ws.workspace.id),
      profiles: await tx.selectFrom('value_profiles').select('customer_id').execute(),
    }));
    expect(stored).toEqual({ model: undefined, profiles: [] });
  });

  it('a workspace sees only its own profiles and model', async () => {
    const ws = await createTestWorkspace(t.database);
    const other = await createTestWorkspace(t.database);
    await seedWorld(ws, 200);
    await inTestWorkspace(t.database, ws, (tx) => refitWorkspaceValue(tx, ws.workspace.id, { now: NOW }));
    const seen = await inTestWorkspace(t.database, other, async (tx) => ({
      model: await findValueModel(tx, ws.workspace.id),
      profiles: await tx.selectFrom('value_profiles').select('customer_id').execute(),
    }));
    expect(seen).toEqual({ model: undefined, profiles: [] });
    const report = await inTestWorkspace(t.database, other, (tx) =>
      refitWorkspaceValue(tx, other.workspace.id, { now: NOW }),
    );
    expect(report.status).toBe('no_purchases');
  });
});
