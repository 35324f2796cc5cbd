import { spawn } from 'node:child_process';
import { sql } from 'kysely';
import { beforeAll, describe, expect, it } from 'vitest';
import { createCustomers } from '../src/customers/index.ts';
import { inWorkspace } from '../src/db/index.ts';
import { withAccess } from '../src/governance/index.ts';
import { Dispatcher, JobRegistry, listJobFailures } from '../src/jobs/index.ts';
import { createProbeTable, probeSubscriber } from './backbone-probe.ts';
import { createTestWorkspace, type TestWorkspace, testDatabaseUrl, useTestDatabase } from './helpers.ts';

/**
 * What only a server can show: workers side by side never handle one event twice, nor at once, and a
 * worker killed with SIGKILL in the middle of a batch loses nothing and duplicates nothing.
 */

const t = useTestDatabase();
const WRITE = { purpose: undefined, requestId: null, mode: 'write' } as const;

async function createEvents(ws: TestWorkspace, count: number): Promise<void> {
  await withAccess(t.database.db, ws.actor, WRITE, (scope) =>
    createCustomers(
      scope.tx,
      scope.actor,
      Array.from({ length: count }, (_, i) => ({ givenName: `n${i}` })),
    ),
  );
}

async function handledIn(ws: TestWorkspace): Promise<{ event_id: string; worker: string }[]> {
  return inWorkspace(
    t.database.db,
    ws.workspace.id,
    async (tx) =>
      (
        await sql<{ event_id: string; worker: string }>`
        SELECT event_id, worker FROM backbone_probe.handled WHERE workspace_id = ${ws.workspace.id}`.execute(
          tx,
        )
      ).rows,
  );
}

async function eventIds(ws: TestWorkspace, where = sql`true`): Promise<string[]> {
  return inWorkspace(t.database.db, ws.workspace.id, async (tx) =>
    (
      await sql<{ id: string }>`SELECT id FROM events WHERE type = 'customer_created' AND ${where}`.execute(
        tx,
      )
    ).rows.map((r) => r.id),
  );
}

describe.skipIf(!process.env.TEST_DATABASE_URL)('the event backbone on a PostgreSQL server', () => {
  beforeAll(async () => {
    await createProbeTable(t.database.db);
  });

  it('two workers side by side never handle one event twice, nor at the same time', async () => {
    const ws = await createTestWorkspace(t.database);
    await createEvents(ws, 400);
    const inFlight = new Set<string>();
    const overlaps: string[] = [];
    const track = async (id: string) => {
      if (inFlight.has(id)) overlaps.push(id);
      inFlight.add(id);
      await new Promise((resolve) => setImmediate(resolve));
      inFlight.delete(id);
    };
    const worker = (name: string) =>
      new Dispatcher(t.database.db, new JobRegistry().subscribe(probeSubscriber(name, 1, track)), {
        batchSize: 25,
      });
    const [a, b] = await Promise.all([
      worker('a').drain([ws.workspace.id]),
      worker('b').drain([ws.workspace.id]),
    ]);
    const handled = await handledIn(ws);
    expect(overlaps).toEqual([]);
    expect(a.failed + b.failed).toBe(0);
    expect(a.dispatched + b.dispatched).toBe(400);
    expect(handled).toHaveLength(400);
    expect(new Set(handled.map((h) => h.event_id))).toEqual(new Set(await eventIds(ws)));
  });

  it('a worker killed with SIGKILL mid-batch loses no event and handles none twice', async () => {
    const ws = await createTestWorkspace(t.database);
    await createEvents(ws, 300);
    const child = spawn(
      process.execPath,
      [
        '--import',
        'tsx',
        new URL('./backbone-child.ts', import.meta.url).pathname,
        testDatabaseUrl() ?? '',
        ws.workspace.id,
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let stderr = '';
    child.stderr?.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    // Kill it once some batches committed and others are in flight (20 events of 10 ms per batch).
    for (let waited = 0; ; waited += 50) {
      const done = (await handledIn(ws)).length;
      if (done >= 40) break;
      if (child.exitCode !== null || waited > 120_000) throw new Error(`worker never got going: ${stderr}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    child.kill('SIGKILL');
    await exited;
    const byChild = (await handledIn(ws)).length;
    expect(byChild).toBeGreaterThanOrEqual(40);
    expect(byChild).toBeLessThan(300);
    // Every event the child's handling committed is dispatched; its batch in flight rolled back.
    expect((await eventIds(ws, sql`dispatched_at IS NOT NULL`)).length).toBe(byChild);

    const rest = await new Dispatcher(
      t.database.db,
      new JobRegistry().subscribe(probeSubscriber('after', 0)),
    ).drain([ws.workspace.id]);
    expect(rest).toMatchObject({ dispatched: 300 - byChild, failed: 0 });
    const handled = await handledIn(ws);
    expect(handled).toHaveLength(300);
    expect(new Set(handled.map((h) => h.event_id))).toEqual(new Set(await eventIds(ws)));
    expect(
      await inWorkspace(t.database.db, ws.workspace.id, (tx) => listJobFailures(tx, ws.actor, {})),
    ).toEqual([]);
  });
});
