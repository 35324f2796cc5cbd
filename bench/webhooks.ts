import { randomUUID } from 'node:crypto';
import { Agent, createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { sql } from 'kysely';
import { bindAuditKeys, loadAuditKeys } from '../src/audit/index.ts';
import { type Database, inWorkspace, migrateToLatest, openDatabase } from '../src/db/index.ts';
import { withAccess } from '../src/governance/index.ts';
import {
  computeSignatureHeader,
  deliverDueWebhooks,
  enqueueWebhookDeliveries,
  registerRecipientWithWebhook,
} from '../src/webhooks/index.ts';
import { createWorkspace, operatorActor } from '../src/workspaces/index.ts';
import { peakRssMiB, timed } from './lib.ts';
import type { Figure } from './report.ts';

/**
 * Webhook delivery (issue 12's target: ≥ 2,000 deliveries/s to a local receiver): deliveries enqueued
 * by the subscriber (`field_rectified` events about customers, so each first attempt is also a
 * disclosure), then sent by the delivery worker in batches of 500 — claim with `SKIP LOCKED`, sign, POST
 * to a node:http receiver on 127.0.0.1 (keep-alive, 64 in flight), record attempts, deliveries and
 * disclosures — until none is due: one batch per run with nothing overlapped (before), and runs whose
 * claims and records overlap the sending (after), in the same run. On the PostgreSQL server and on the embedded engine. The baseline is
 * the same number of signed POSTs to the same receiver with the same concurrency and no database.
 */

const DELIVERIES = { smoke: 5_000, small: 20_000, large: 50_000 } as const;
const CUSTOMERS = 1_000;
const CONCURRENCY = 64;

async function startReceiver(): Promise<{ url: string; server: Server; count: () => number }> {
  let received = 0;
  const server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      received += 1;
      res.writeHead(204).end();
    });
  });
  server.keepAliveTimeout = 60_000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`,
    server,
    count: () => received,
  };
}

async function seed(database: Database, url: string, deliveries: number): Promise<string> {
  const { workspace } = await createWorkspace(database.db, {
    name: `bench-webhooks-${Date.now().toString(36)}`,
  });
  const actor = operatorActor(workspace.id);
  await withAccess(database.db, actor, { purpose: 'legal', requestId: null, mode: 'write' }, (scope) =>
    registerRecipientWithWebhook(scope, { name: 'bench-hook', kind: 'webhook', url, purposes: ['service'] }),
  );
  // Benchmark setup, not the product's ingest path: customers made by SQL.
  await inWorkspace(database.db, workspace.id, (tx) =>
    sql`
      INSERT INTO customers (workspace_id, id, language, created_at)
      SELECT ${workspace.id}::uuid, ('00000000-0000-4000-8000-' || lpad(to_hex(g), 12, '0'))::uuid, 'en', now()
      FROM generate_series(1, ${CUSTOMERS}) g`.execute(tx),
  );
  const now = new Date();
  for (let start = 0; start < deliveries; start += 1_000) {
    await inWorkspace(database.db, workspace.id, async (tx) => {
      for (let i = start; i < Math.min(deliveries, start + 1_000); i++) {
        const customer = `00000000-0000-4000-8000-${(1 + (i % CUSTOMERS)).toString(16).padStart(12, '0')}`;
        await enqueueWebhookDeliveries(
          tx,
          {
            id: randomUUID(),
            workspaceId: workspace.id,
            type: 'field_rectified',
            customerId: customer,
            payload: { fields: ['givenName'] },
            occurredAt: now,
          },
          { now },
        );
      }
    });
  }
  return workspace.id;
}

/**
 * Delivers everything due. `pipelined`: runs as the scheduled job makes them (claims and records of
 * batches of 500 overlapping the sending); otherwise one batch per run, claim, send and record one
 * after the other (the way runs went before, one run of 500 a second).
 */
async function deliverAll(database: Database, workspaceId: string, pipelined: boolean): Promise<number> {
  let delivered = 0;
  for (;;) {
    const run = await deliverDueWebhooks(database.db, {
      limit: pipelined ? 1_000_000 : 500,
      batchSize: 500,
      concurrency: CONCURRENCY,
      workspaceIds: [workspaceId],
    });
    if (run.attempted === 0) return delivered;
    delivered += run.delivered;
  }
}

/**
 * The same POSTs, signed, over node:http with a keep-alive agent (as the worker sends them) and the
 * same concurrency, with no database: what the HTTP side alone costs on this machine at this moment.
 */
async function baseline(url: string, count: number): Promise<number> {
  const body = JSON.stringify({ type: 'field_rectified', timestamp: new Date().toISOString(), data: {} });
  const secret = Buffer.alloc(32, 7);
  const agent = new Agent({ keepAlive: true, maxSockets: CONCURRENCY });
  let next = 0;
  const post = () =>
    new Promise<void>((resolve, reject) => {
      const id = randomUUID();
      const now = new Date();
      const req = request(
        url,
        {
          method: 'POST',
          agent,
          headers: {
            'content-type': 'application/json',
            'content-length': String(Buffer.byteLength(body)),
            'webhook-id': id,
            'webhook-timestamp': String(Math.floor(now.getTime() / 1000)),
            'webhook-signature': computeSignatureHeader(id, now, body, [secret]),
          },
        },
        (res) => {
          res.resume();
          res.on('end', resolve);
        },
      );
      req.on('error', reject);
      req.end(body);
    });
  const worker = async () => {
    while (next < count) {
      next += 1;
      await post();
    }
  };
  const { seconds } = await timed(() => Promise.all(Array.from({ length: CONCURRENCY }, worker)));
  agent.destroy();
  return count / seconds;
}

async function measure(
  database: Database,
  engine: string,
  receiver: { url: string; count: () => number },
  deliveries: number,
  baselineRate: number,
  pipelined: boolean,
): Promise<Figure> {
  const workspaceId = await seed(database, receiver.url, deliveries);
  const before = receiver.count();
  const { value: delivered, seconds } = await timed(() => deliverAll(database, workspaceId, pipelined));
  const rate = delivered / seconds;
  return {
    workload: `webhook delivery, ${engine}${pipelined ? '' : ', one batch per run, nothing overlapped (before)'}`,
    value: Math.round(rate),
    unit: 'deliveries/s',
    detail:
      `${delivered} of ${deliveries} delivered in ${seconds.toFixed(2)} s (receiver saw ${receiver.count() - before}); ` +
      `${pipelined ? 'batches of 500 claimed and recorded while the previous batch is sent' : 'runs of 500'}, ${CONCURRENCY} in flight; each attempt logged, each first attempt disclosed; ` +
      `the same signed POSTs without a database: ${Math.round(baselineRate)}/s`,
    ratio: rate / baselineRate,
    target: '≥ 2,000 deliveries/s',
    peakRssMiB: peakRssMiB(),
  };
}

/** The webhook workload on the server database and on the embedded engine. */
export async function benchWebhooks(
  database: Database,
  scaleName: keyof typeof DELIVERIES,
  keyDir: string,
): Promise<Figure[]> {
  const deliveries = DELIVERIES[scaleName];
  const receiver = await startReceiver();
  try {
    const baselineRate = await baseline(receiver.url, deliveries);
    // Before and after in the same run, alternating.
    const figures = [
      await measure(database, 'PostgreSQL', receiver, deliveries, baselineRate, false),
      await measure(database, 'PostgreSQL', receiver, deliveries, baselineRate, true),
    ];
    const embedded = await openDatabase({ dataDir: 'memory://' });
    try {
      bindAuditKeys(embedded.db, loadAuditKeys(keyDir));
      await migrateToLatest(embedded.db);
      figures.push(await measure(embedded, 'embedded', receiver, deliveries, baselineRate, true));
      figures.push(await measure(embedded, 'embedded', receiver, deliveries, baselineRate, false));
    } finally {
      await embedded.close();
    }
    return figures;
  } finally {
    receiver.server.closeAllConnections();
    await new Promise<void>((resolve) => receiver.server.close(() => resolve()));
  }
}
