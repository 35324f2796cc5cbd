import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { sql } from 'kysely';
import { buildApp } from '../src/api/app.ts';
import { bindAuditKeys, loadAuditKeys } from '../src/audit/index.ts';
import { createJobRegistry } from '../src/backbone.ts';
import { inWorkspace, migrateToLatest, openDatabase } from '../src/db/index.ts';
import { runValueRefit, runValueRefitOffLoop, withAccess } from '../src/governance/index.ts';
import { simulateTransactions } from '../src/value/index.ts';
import { createApiKey, createWorkspace, KeyVerifier, operatorActor } from '../src/workspaces/index.ts';
import { driveLoad, type LoadResult, peakRssMiB, percentile, timed } from './lib.ts';
import type { Figure } from './report.ts';

/**
 * HTTP reads during a full value refit on the embedded engine, where the server runs the backbone's
 * scheduled jobs itself (issue 12's target: p99 of reads during a refit within 1.5× of p99 without
 * one). One process, as `cornerstore serve` on the embedded database: the HTTP app listening on
 * loopback, 8 clients reading customers (`GET /v1/customers/:id`), and the refit run beside them, the
 * way the scheduler runs it. Three phases in the same run: reads alone; reads during the refit in one
 * transaction with the fit on the event loop (the previous way, still what `POST /v1/value/refit`
 * does inside its request); reads during the refit off the loop (short read transaction, fit in a
 * worker thread, profiles written in short batches). The clients share the process, so a blocked event
 * loop delays them as it delays any other caller; the loop's longest stall is reported too.
 */

const CUSTOMERS = { smoke: 20_000, small: 100_000, large: 300_000 } as const;
const CLIENTS = 8;

/** The row number's customer id (customers are made by SQL, purchases simulated by BG/NBD). */
const customerId = (n: number) => `00000000-0000-4000-8000-${n.toString(16).padStart(12, '0')}`;

async function seed(db: Parameters<typeof inWorkspace>[0], workspaceId: string, customers: number) {
  await inWorkspace(db, workspaceId, (tx) =>
    sql`
      INSERT INTO customers (workspace_id, id, language, created_at)
      SELECT ${workspaceId}::uuid, ('00000000-0000-4000-8000-' || lpad(to_hex(g), 12, '0'))::uuid, 'en', now()
      FROM generate_series(1, ${customers}) g`.execute(tx),
  );
  // Purchases of a known BG/NBD population over the 540 days before the clock (the fit converges).
  const start = new Date(Date.now() - 560 * 86_400_000).toISOString().slice(0, 10);
  let rows: { c: string; at: string; amount: number }[] = [];
  const flush = async () => {
    const part = rows;
    rows = [];
    await inWorkspace(db, workspaceId, (tx) =>
      sql`
        INSERT INTO interactions (workspace_id, id, customer_id, type, channel, initiated_by, occurred_at, source,
          external_id, amount, currency)
        SELECT ${workspaceId}::uuid, gen_random_uuid(), u.c, 'purchase', 'store', 'customer', u.at, 'bench',
               gen_random_uuid()::text, u.amount, 'EUR'
        FROM unnest(${part.map((r) => r.c)}::uuid[], ${part.map((r) => r.at)}::timestamptz[],
                    ${part.map((r) => r.amount)}::numeric[]) AS u(c, at, amount)`.execute(tx),
    );
  };
  let purchases = 0;
  for (const t of simulateTransactions({
    customers,
    seed: 'bench-refit-reads',
    params: { r: 0.243, alpha: 4.414, a: 0.793, b: 2.426 },
    spend: { p: 6.25, q: 3.74, gamma: 15.44 },
    period: 'week',
    start,
    acquisitionDays: 180,
    days: 540,
  })) {
    rows.push({
      c: customerId(1 + Number(t.customerId.slice(1))),
      at: `${t.date}T12:00:00Z`,
      amount: t.amount,
    });
    purchases += 1;
    if (rows.length === 20_000) await flush();
  }
  if (rows.length > 0) await flush();
  await sql`ANALYZE customers`.execute(db);
  await sql`ANALYZE interactions`.execute(db);
  return purchases;
}

interface Phase {
  load: LoadResult;
  refitSeconds: number | null;
  stallMs: number;
  status: string | null;
}

export async function benchRefitReads(workDir: string, scale: keyof typeof CUSTOMERS): Promise<Figure[]> {
  const customers = CUSTOMERS[scale];
  const dataDir = join(workDir, 'refit-reads');
  const database = await openDatabase({ dataDir });
  const app = { close: async () => {} } as { close: () => Promise<unknown> };
  try {
    bindAuditKeys(database.db, loadAuditKeys(dataDir));
    await migrateToLatest(database.db);
    const { workspace } = await createWorkspace(database.db, {
      name: `bench-refit-${Date.now().toString(36)}`,
    });
    const seeded = await timed(() => seed(database.db, workspace.id, customers));
    process.stdout.write(
      `  seeded ${customers.toLocaleString('en')} customers with ${seeded.value.toLocaleString('en')} purchases in ${seeded.seconds.toFixed(1)} s\n`,
    );
    const { apiKey } = await inWorkspace(database.db, workspace.id, (tx) =>
      createApiKey(tx, workspace.id, { role: 'agent', name: 'bench' }),
    );
    const registry = createJobRegistry({ valueRefitMinutes: 0, eventRetentionDays: 7 });
    const server = await buildApp(
      { db: database.db, keys: new KeyVerifier(database.db), jobs: registry },
      { bodyLimit: 1024 * 1024, rateLimitPerMinute: 100_000_000, logger: false, version: 'bench' },
    );
    app.close = () => server.close();
    const base = await server.listen({ host: '127.0.0.1', port: 0 });
    const headers = { authorization: `Bearer ${apiKey}` };
    const idOf = (i: number) => customerId(1 + ((i * 7919) % customers));
    const send = async (i: number) => {
      const res = await fetch(`${base}/v1/customers/${idOf(i)}?purpose=service`, { headers });
      await res.arrayBuffer();
      return res.ok;
    };
    const actor = operatorActor(workspace.id);
    const scope = { purpose: 'analytics', requestId: null, mode: 'write' } as const;
    // A first refit stores a model, so both measured refits rewrite every profile.
    await runValueRefitOffLoop(database.db, actor, scope);
    await driveLoad({ concurrency: CLIENTS, count: 200, maxSeconds: 30, send });

    const collect = async (
      refit: (() => Promise<{ refit: { status: string; seconds: object } }>) | null,
    ): Promise<Phase> => {
      const latencies: number[] = [];
      let errors = 0;
      let running = refit !== null;
      const loop = monitorEventLoopDelay({ resolution: 10 });
      loop.enable();
      const started = performance.now();
      let status: string | null = null;
      let refitSeconds: number | null = null;
      const work = refit?.().then((r) => {
        status = `${r.refit.status}; ${JSON.stringify(r.refit.seconds)}`;
        refitSeconds = (performance.now() - started) / 1000;
        running = false;
      });
      let issued = 0;
      const limit = refit === null ? 1_000 : Number.POSITIVE_INFINITY;
      const client = async () => {
        while ((refit === null && issued < limit) || running) {
          const i = issued++;
          const t0 = performance.now();
          if (!(await send(i))) errors++;
          latencies.push(performance.now() - t0);
        }
      };
      await Promise.all([...Array.from({ length: CLIENTS }, client), work]);
      loop.disable();
      const load = {
        requests: latencies.length,
        errors,
        seconds: (performance.now() - started) / 1000,
        latenciesMs: latencies,
      };
      return { load, refitSeconds, stallMs: loop.max / 1e6, status };
    };
    const alone = await collect(null);
    const inOne = await collect(() => withAccess(database.db, actor, scope, (s) => runValueRefit(s)));
    const offLoop = await collect(() => runValueRefitOffLoop(database.db, actor, scope));
    const after = await collect(null);
    const p99 = (p: Phase) => percentile(p.load.latenciesMs, 99);
    const baseP99 = Math.max(p99(alone), p99(after));
    const describe = (name: string, p: Phase) =>
      `${name}: ${p.load.requests.toLocaleString('en')} reads (${p.load.errors} errors), p50 ${percentile(p.load.latenciesMs, 50).toFixed(1)} ms, ` +
      `p99 ${p99(p).toFixed(1)} ms, longest event-loop stall ${p.stallMs.toFixed(0)} ms` +
      (p.refitSeconds === null ? '' : `, refit ${p.refitSeconds.toFixed(1)} s (${p.status})`);
    process.stdout.write(
      `  ${describe('alone', alone)}\n  ${describe('one transaction, fit on the loop', inOne)}\n` +
        `  ${describe('short transactions, fit in a worker thread', offLoop)}\n  ${describe('alone again', after)}\n`,
    );
    const common = `embedded engine, ${customers.toLocaleString('en')} customers with ${seeded.value.toLocaleString('en')} purchases, ${CLIENTS} clients in the server's process; p99 without a refit ${baseP99.toFixed(1)} ms (the larger of before and after)`;
    return [
      {
        workload: 'read p99 during a value refit: one transaction, fit on the event loop (before)',
        value: Number(p99(inOne).toFixed(1)),
        unit: 'ms',
        ratio: p99(inOne) / baseP99,
        target: '≤ 1.5× p99 without a refit',
        detail: `${common}; ${describe('during', inOne)}`,
        peakRssMiB: peakRssMiB(),
      },
      {
        workload: 'read p99 during a value refit: short transactions, fit in a worker thread (after)',
        value: Number(p99(offLoop).toFixed(1)),
        unit: 'ms',
        ratio: p99(offLoop) / baseP99,
        target: '≤ 1.5× p99 without a refit',
        detail: `${common}; ${describe('during', offLoop)}`,
        peakRssMiB: peakRssMiB(),
      },
    ];
  } finally {
    await app.close();
    await database.close();
  }
}
