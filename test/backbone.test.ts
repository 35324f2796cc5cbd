import fc from 'fast-check';
import { sql } from 'kysely';
import { describe, expect, it } from 'vitest';
import { createJobRegistry, valueAndSegmentsSubscriber } from '../src/backbone.ts';
import { createCustomer } from '../src/customers/index.ts';
import { inWorkspace } from '../src/db/index.ts';
import { type DomainEvent, findEvents } from '../src/events/index.ts';
import { createSegmentGoverned, ingestGoverned, runValueRefit, withAccess } from '../src/governance/index.ts';
import {
  Dispatcher,
  JobRegistry,
  listJobFailures,
  readJobsStatus,
  retryDeadLetters,
  Scheduler,
  type Subscriber,
} from '../src/jobs/index.ts';
import { operatorActor } from '../src/workspaces/index.ts';
import {
  createTestWorkspace,
  drainEvents,
  ENGINE,
  inTestWorkspace,
  type TestWorkspace,
  useTestDatabase,
} from './helpers.ts';
import { valuePopulation } from './value-population.ts';

/**
 * The event backbone: an event exists if and only if its write committed; dispatching is idempotent;
 * a subscriber's failure never touches the writer and ends, after its retries, as a dead letter that
 * can be retried; scheduled jobs run in one runner at a time; retention prunes what was dispatched.
 */

const t = useTestDatabase();
const WRITE = { purpose: undefined, requestId: null, mode: 'write' } as const;

class RolledBack extends Error {}

async function eventsOf(
  ws: TestWorkspace,
): Promise<{ type: string; customer_id: string | null; payload: Record<string, unknown> }[]> {
  return inTestWorkspace(
    t.database,
    ws,
    async (tx) =>
      (
        await sql<{ type: string; customer_id: string | null; payload: Record<string, unknown> }>`
        SELECT type, customer_id, payload FROM events ORDER BY position`.execute(tx)
      ).rows,
  );
}

describe(`the event backbone (${ENGINE})`, () => {
  it('records an event for every committed write and none for a rolled-back one (property)', async () => {
    const op = fc.record({
      kind: fc.constantFrom('customer', 'interaction'),
      commit: fc.boolean(),
    });
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.array(op, { minLength: 1, maxLength: 3 }), { minLength: 1, maxLength: 4 }),
        async (rounds) => {
          const ws = await createTestWorkspace(t.database);
          const committedCustomers = new Set<string>();
          const committedInteractions = new Set<string>();
          let n = 0;
          for (const round of rounds) {
            // The writes of a round run side by side: on a server their transactions interleave.
            await Promise.all(
              round.map(async ({ kind, commit }) => {
                n += 1;
                const label = `w${n}`;
                try {
                  await withAccess(t.database.db, ws.actor, WRITE, async (scope) => {
                    if (kind === 'customer') {
                      const created = await createCustomer(scope.tx, scope.actor, { givenName: label });
                      if (!commit) throw new RolledBack();
                      committedCustomers.add(created.id);
                      return;
                    }
                    const [result] = await ingestGoverned(
                      scope,
                      [
                        {
                          type: 'note',
                          channel: 'store',
                          occurredAt: '2024-01-01T10:00:00Z',
                          source: 'pos',
                          externalId: label,
                          customer: { identity: { source: 'pos', externalId: label } },
                          properties: { text: 'hello' },
                        },
                      ],
                      { atomic: true },
                    );
                    if (!commit) throw new RolledBack();
                    if (result?.status === 'created' && result.id && result.customerId) {
                      committedInteractions.add(result.id);
                      committedCustomers.add(result.customerId);
                    }
                  });
                } catch (error) {
                  if (!(error instanceof RolledBack)) throw error;
                }
              }),
            );
          }
          const events = await eventsOf(ws);
          const created = events.filter((e) => e.type === 'customer_created').map((e) => e.customer_id);
          const recorded = events
            .filter((e) => e.type === 'interaction_recorded')
            .map((e) => e.payload.interactionId);
          expect(new Set(created)).toEqual(committedCustomers);
          expect(created).toHaveLength(committedCustomers.size);
          expect(new Set(recorded)).toEqual(committedInteractions);
          expect(recorded).toHaveLength(committedInteractions.size);
          // Payloads name ids and fields, never the values written.
          expect(JSON.stringify(events)).not.toMatch(/"w\d+"|hello/);
        },
      ),
      { numRuns: 8 },
    );
  });

  it('dispatching twice yields the same state: value profiles and segments follow ingest once', async () => {
    const ws = await createTestWorkspace(t.database);
    const owner = operatorActor(ws.workspace.id);
    const end = new Date('2024-07-01T00:00:00Z');
    await withAccess(t.database.db, owner, WRITE, (scope) =>
      ingestGoverned(scope, valuePopulation({ customers: 300, end, seed: 'backbone' }), { atomic: true }),
    );
    await drainEvents(t.database, [ws]);
    const analytics = { purpose: 'analytics', requestId: null, mode: 'write', now: end } as const;
    await withAccess(t.database.db, owner, analytics, (scope) => runValueRefit(scope));
    await withAccess(t.database.db, owner, analytics, (scope) =>
      createSegmentGoverned(scope, {
        name: 'bought twice',
        definition: { aggregate: 'count', type: 'purchase', within: 'P3650D', op: 'gte', value: 2 },
      }),
    );
    // A newcomer buys twice after the refit: the writer's transaction does not touch value or segments.
    const newcomer = (i: number) => ({
      type: 'purchase',
      channel: 'store',
      occurredAt: `2024-06-2${i}T10:00:00Z`,
      source: 'pos',
      externalId: `late-${i}`,
      customer: { identity: { source: 'pos', externalId: 'newcomer' } },
      amount: 30 + i,
      currency: 'EUR',
    });
    const [first] = await withAccess(t.database.db, owner, WRITE, (scope) =>
      ingestGoverned(scope, [newcomer(1), newcomer(2)], { atomic: true }),
    );
    const customerId = first?.customerId as string;
    const state = () =>
      inTestWorkspace(t.database, ws, async (tx) => ({
        profile: await tx
          .selectFrom('value_profiles')
          .select(['purchases', 'total_spend', 'frequency', 'clv'])
          .where('customer_id', '=', customerId)
          .executeTakeFirst(),
        members: (await tx.selectFrom('segment_members').select('customer_id').execute()).length,
        inSegment: await tx
          .selectFrom('segment_members')
          .select('customer_id')
          .where('customer_id', '=', customerId)
          .executeTakeFirst(),
      }));
    const before = await state();
    expect(before.profile).toBeUndefined();
    expect(before.inSegment).toBeUndefined();

    const report = await drainEvents(t.database, [ws]);
    expect(report.dispatched).toBeGreaterThanOrEqual(2);
    const once = await state();
    expect(once.profile).toMatchObject({ purchases: 2, total_spend: 63 });
    expect(once.inSegment).toBeDefined();

    // Handling the same events again (a redelivery) changes nothing; a second drain finds nothing.
    const ids = (await eventsOf(ws)).length;
    expect(ids).toBeGreaterThan(0);
    await inTestWorkspace(t.database, ws, async (tx) => {
      const all = await sql<{
        id: string;
      }>`SELECT id FROM events WHERE type = 'interaction_recorded'`.execute(tx);
      const events = await findEvents(
        tx,
        ws.workspace.id,
        all.rows.map((r) => r.id),
      );
      await valueAndSegmentsSubscriber.handleBatch?.(tx, events);
    });
    expect(await state()).toEqual(once);
    expect(
      (
        await new Dispatcher(
          t.database.db,
          createJobRegistry({ valueRefitMinutes: 0, eventRetentionDays: 7 }),
        ).drain([ws.workspace.id])
      ).dispatched,
    ).toBe(0);
    expect(await state()).toEqual(once);
  });

  it("a subscriber's failure never rolls back the writer: it is retried with backoff, parked, and retryable", async () => {
    const ws = await createTestWorkspace(t.database);
    let clock = new Date('2030-01-01T00:00:00Z');
    let failing = true;
    const handled: string[] = [];
    const flaky: Subscriber = {
      name: 'flaky',
      purpose: 'service',
      events: ['customer_created'],
      async handle(_tx, event) {
        if (failing) throw new Error('the receiving end is down');
        handled.push(event.id);
      },
    };
    const steady: Subscriber = {
      name: 'steady',
      purpose: 'service',
      events: ['customer_created'],
      async handle(_tx, event) {
        handled.push(`steady:${event.id}`);
      },
    };
    const registry = new JobRegistry().subscribe(flaky).subscribe(steady);
    const dispatcher = new Dispatcher(t.database.db, registry, {
      maxAttempts: 3,
      backoffMs: 1000,
      now: () => clock,
    });
    const customer = await withAccess(t.database.db, ws.actor, WRITE, (scope) =>
      createCustomer(scope.tx, scope.actor, { givenName: 'Ada' }),
    );
    const first = await dispatcher.drain([ws.workspace.id]);
    expect(first).toMatchObject({ dispatched: 1, failed: 1 });
    // The writer's customer stands, the other subscriber got the event, and the failure waits.
    expect(
      await inTestWorkspace(t.database, ws, (tx) =>
        tx.selectFrom('customers').select('id').where('id', '=', customer.id).executeTakeFirst(),
      ),
    ).toBeDefined();
    expect(handled.filter((h) => h.startsWith('steady:'))).toHaveLength(1);
    const failures = () => inTestWorkspace(t.database, ws, (tx) => listJobFailures(tx, ws.actor, {}));
    const [retrying] = await failures();
    expect(retrying).toMatchObject({
      subscriber: 'flaky',
      status: 'retrying',
      attempts: 1,
      eventType: 'customer_created',
    });
    expect(retrying?.error).toContain('the receiving end is down');
    const firstDelay = new Date(retrying?.nextAttemptAt ?? 0).getTime() - clock.getTime();
    expect(firstDelay).toBeGreaterThanOrEqual(500);
    expect(firstDelay).toBeLessThanOrEqual(1000);

    // Not due yet: nothing runs. Due: it runs and fails again, with a longer delay.
    expect((await dispatcher.drain([ws.workspace.id])).retried).toBe(0);
    clock = new Date(clock.getTime() + 1000);
    expect(await dispatcher.drain([ws.workspace.id])).toMatchObject({ retried: 1, failed: 1 });
    const [second] = await failures();
    expect(second?.attempts).toBe(2);
    const secondDelay = new Date(second?.nextAttemptAt ?? 0).getTime() - clock.getTime();
    expect(secondDelay).toBeGreaterThanOrEqual(1000);
    expect(secondDelay).toBeLessThanOrEqual(2000);
    clock = new Date(clock.getTime() + 2000);
    await dispatcher.drain([ws.workspace.id]);
    const [dead] = await failures();
    expect(dead).toMatchObject({ status: 'dead', attempts: 3, nextAttemptAt: null });
    const status = await readJobsStatus(t.database.db, ws.workspace.id, registry, clock);
    expect(status.subscribers.find((s) => s.name === 'flaky')).toMatchObject({ retrying: 0, dead: 1 });
    expect(status.events.pending).toBe(0);

    // A person retries it once the receiver is back: handled, and the dead letter is gone.
    failing = false;
    const requeued = await inTestWorkspace(t.database, ws, (tx) =>
      retryDeadLetters(tx, ws.actor, { subscriber: 'flaky' }),
    );
    expect(requeued).toEqual({ requeued: 1 });
    clock = new Date();
    expect(await dispatcher.drain([ws.workspace.id])).toMatchObject({ retried: 1, failed: 0 });
    expect(await failures()).toEqual([]);
    expect(handled.filter((h) => !h.startsWith('steady:'))).toHaveLength(1);
  });

  it('isolates the failing event of a batch: the others are handled once', async () => {
    const ws = await createTestWorkspace(t.database);
    const seen: string[] = [];
    let poison = '';
    const picky: Subscriber = {
      name: 'picky',
      purpose: 'service',
      events: ['customer_created'],
      async handle(_tx, event: DomainEvent) {
        if (event.customerId === poison) throw new Error('poison');
        seen.push(event.id);
      },
      async handleBatch(tx, events) {
        for (const event of events) await this.handle(tx, event);
      },
    };
    const ids = await withAccess(t.database.db, ws.actor, WRITE, async (scope) => {
      const out: string[] = [];
      for (const name of ['a', 'b', 'c'])
        out.push((await createCustomer(scope.tx, scope.actor, { givenName: name })).id);
      return out;
    });
    poison = ids[1] as string;
    const report = await new Dispatcher(t.database.db, new JobRegistry().subscribe(picky)).drain([
      ws.workspace.id,
    ]);
    expect(report).toMatchObject({ dispatched: 3, failed: 1 });
    // The batch's partial work was undone, then each event ran alone: two handled once each.
    expect(new Set(seen).size).toBe(2);
    const failures = await inTestWorkspace(t.database, ws, (tx) => listJobFailures(tx, ws.actor, {}));
    expect(failures).toHaveLength(1);
  });

  it('runs a scheduled job in one runner at a time, and not again before its interval', async () => {
    let runs = 0;
    const name = `probe-${Date.now()}-${Math.random().toString(36).slice(2)}`;
    const registry = new JobRegistry().schedule({
      name,
      everyMs: 3_600_000,
      async run() {
        runs += 1;
        await new Promise((resolve) => setTimeout(resolve, 50));
      },
    });
    const a = new Scheduler(t.database.db, t.database.kind, registry, 'runner-a');
    const b = new Scheduler(t.database.db, t.database.kind, registry, 'runner-b');
    const ran = await Promise.all([a.runDue(), b.runDue(), a.runDue()]);
    expect(ran.flat()).toEqual([name]);
    expect(runs).toBe(1);
    expect(await b.runDue()).toEqual([]);
    const lease = await t.database.db
      .selectFrom('job_leases')
      .selectAll()
      .where('name', '=', name)
      .executeTakeFirst();
    expect(lease).toMatchObject({ holder: null, last_status: 'succeeded', runs: 1 });
  });

  it('retention prunes dispatched events past their period, but keeps pending ones and dead letters', async () => {
    const ws = await createTestWorkspace(t.database);
    const failing: Subscriber = {
      name: 'always-failing',
      purpose: 'service',
      events: ['customer_created'],
      async handle() {
        throw new Error('never works');
      },
    };
    const dispatcher = new Dispatcher(t.database.db, new JobRegistry().subscribe(failing), {
      maxAttempts: 1,
    });
    await withAccess(t.database.db, ws.actor, WRITE, (scope) =>
      createCustomer(scope.tx, scope.actor, { givenName: 'x' }),
    );
    await dispatcher.drain([ws.workspace.id]);
    await withAccess(t.database.db, ws.actor, WRITE, async (scope) => {
      await createCustomer(scope.tx, scope.actor, { givenName: 'y' });
      await createCustomer(scope.tx, scope.actor, { givenName: 'z' });
    });
    await new Dispatcher(t.database.db, new JobRegistry()).drain([ws.workspace.id]);
    await withAccess(t.database.db, ws.actor, WRITE, (scope) =>
      createCustomer(scope.tx, scope.actor, { givenName: 'pending' }),
    );
    const registry = createJobRegistry({ valueRefitMinutes: 0, eventRetentionDays: 7 });
    const retention = registry.scheduled.find((j) => j.name === 'retention');
    const later = new Date(Date.now() + 8 * 86_400_000);
    const pruned = (await retention?.run({
      db: t.database.db,
      kind: t.database.kind,
      now: later,
      workspaceIds: [ws.workspace.id],
    })) as Record<string, number>;
    expect(pruned.events).toBeGreaterThanOrEqual(2);
    const left = await eventsOf(ws);
    // The dead letter's event and the pending one stay.
    expect(left).toHaveLength(2);
    const status = await inTestWorkspace(t.database, ws, (tx) =>
      listJobFailures(tx, ws.actor, { status: 'dead' }),
    );
    expect(status).toHaveLength(1);
    expect(
      (
        await inWorkspace(t.database.db, ws.workspace.id, (tx) =>
          sql<{ n: number }>`SELECT count(*)::int AS n FROM events WHERE dispatched_at IS NULL`.execute(tx),
        )
      ).rows[0]?.n,
    ).toBe(1);
  });
});
