import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { sql } from 'kysely';
import { createJobRegistry } from '../src/backbone.ts';
import { type Database, inWorkspace } from '../src/db/index.ts';
import { recordDisclosures } from '../src/disclosures/index.ts';
import { createGovernedCustomer, withAccess } from '../src/governance/index.ts';
import { rectifyField } from '../src/identity/index.ts';
import { Dispatcher } from '../src/jobs/index.ts';
import { buildAccessArchive, eraseCustomer, readNotifications } from '../src/privacy/index.ts';
import { newId } from '../src/shared/ids.ts';
import { deliverDueWebhooks, registerRecipientWithWebhook } from '../src/webhooks/index.ts';
import { createWorkspace, operatorActor } from '../src/workspaces/index.ts';
import { peakRssMiB, timed } from './lib.ts';
import type { Figure } from './report.ts';

/**
 * Privacy rights (issue 15's targets): the erasure of one customer with 10,000 interactions (< 2 s), the
 * access archive of such a customer (< 2 s), and one rectification propagated to 1,000 webhook
 * recipients that each received the field, up to every notification delivered to a local receiver
 * (< 10 s). Baselines measured in the same run: a plain DELETE of the same customer's interactions, a
 * plain SELECT of them as JSON, and the same number of POSTs to the receiver without a database.
 */

const INTERACTIONS = { smoke: 10_000, small: 10_000, large: 10_000 } as const;
const RECIPIENTS = { smoke: 1_000, small: 1_000, large: 1_000 } as const;
/** Other customers of the workspace, so the person's rows are found among others'. */
const OTHERS = 2_000;

async function seedCustomer(database: Database, workspaceId: string, interactions: number): Promise<string> {
  const actor = operatorActor(workspaceId);
  const customer = await withAccess(
    database.db,
    actor,
    { purpose: 'service', requestId: null, mode: 'write' },
    (scope) =>
      createGovernedCustomer(scope, {
        givenName: 'Bench',
        familyName: 'Person',
        emails: [`bench-${newId()}@example.org`],
        identities: [{ source: 'shop', externalId: newId() }],
      }),
  );
  // Benchmark setup, not the product's ingest path: interactions made by SQL.
  await inWorkspace(database.db, workspaceId, (tx) =>
    sql`
      INSERT INTO interactions (workspace_id, id, customer_id, type, channel, initiated_by, occurred_at, source,
        external_id, amount, currency, text, properties)
      SELECT ${workspaceId}::uuid, gen_random_uuid(), ${customer.id}::uuid, 'purchase', 'store', 'customer',
        now() - make_interval(hours => g), 'bench', ${customer.id}::text || '-' || g, 10 + g % 50, 'EUR',
        'bought item ' || g || ' and chatted about the weather', jsonb_build_object('till', g % 7)
      FROM generate_series(1, ${interactions}) g`.execute(tx),
  );
  return customer.id;
}

async function seedWorkspace(database: Database): Promise<string> {
  const { workspace } = await createWorkspace(database.db, {
    name: `bench-privacy-${Date.now().toString(36)}`,
  });
  await inWorkspace(database.db, workspace.id, (tx) =>
    sql`
      INSERT INTO customers (workspace_id, id, given_name, language, created_at)
      SELECT ${workspace.id}::uuid, gen_random_uuid(), 'Other ' || g, 'en', now()
      FROM generate_series(1, ${OTHERS}) g`.execute(tx),
  );
  return workspace.id;
}

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
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server, count: () => received };
}

/** Erasure and the access archive of a customer with 10,000 interactions, each against its plain-SQL baseline. */
async function benchErasureAndAccess(database: Database, interactions: number): Promise<Figure[]> {
  const workspaceId = await seedWorkspace(database);
  const actor = operatorActor(workspaceId);
  const legal = { purpose: 'legal', requestId: null, mode: 'write' as const };
  const baseline = await seedCustomer(database, workspaceId, interactions);
  const person = await seedCustomer(database, workspaceId, interactions);
  await inWorkspace(database.db, workspaceId, (tx) =>
    sql`ANALYZE interactions`.execute(tx).catch(() => undefined),
  );

  const selectBase = await timed(() =>
    inWorkspace(database.db, workspaceId, (tx) =>
      sql`SELECT to_jsonb(i) FROM interactions i WHERE workspace_id = ${workspaceId} AND customer_id = ${baseline}`.execute(
        tx,
      ),
    ),
  );
  const cpu0 = process.cpuUsage();
  const archive = await timed(() =>
    withAccess(database.db, actor, legal, (scope) => buildAccessArchive(scope, person)),
  );
  const archiveCpu = process.cpuUsage(cpu0);
  const deleteBase = await timed(() =>
    inWorkspace(database.db, workspaceId, (tx) =>
      sql`DELETE FROM interactions WHERE workspace_id = ${workspaceId} AND customer_id = ${baseline}`.execute(
        tx,
      ),
    ),
  );
  const cpu1 = process.cpuUsage();
  const erased = await timed(() =>
    withAccess(database.db, actor, legal, (scope) => eraseCustomer(scope, person, { requestId: null })),
  );
  const eraseCpu = process.cpuUsage(cpu1);
  return [
    {
      workload: 'privacy: access archive of one customer',
      value: Number(archive.seconds.toFixed(3)),
      unit: 's',
      detail:
        `${interactions} interactions among ${OTHERS} other customers; zip of ${archive.value.zip.byteLength} bytes, ` +
        `${archive.value.files.length} files; process CPU ${((archiveCpu.user + archiveCpu.system) / 1e6).toFixed(2)} s; ` +
        `a plain SELECT of the same number of interactions as JSON: ${selectBase.seconds.toFixed(3)} s`,
      ratio: archive.seconds / selectBase.seconds,
      target: '< 2 s',
      peakRssMiB: peakRssMiB(),
    },
    {
      workload: 'privacy: complete erasure of one customer',
      value: Number(erased.seconds.toFixed(3)),
      unit: 's',
      detail:
        `${erased.value.interactionsDeleted} interactions, contact points, identities, field values, derived rows; ` +
        `process CPU ${((eraseCpu.user + eraseCpu.system) / 1e6).toFixed(2)} s; a plain DELETE of the same number of ` +
        `interactions: ${deleteBase.seconds.toFixed(3)} s`,
      ratio: erased.seconds / deleteBase.seconds,
      target: '< 2 s',
      peakRssMiB: peakRssMiB(),
    },
  ];
}

/** One rectification told to 1,000 webhook recipients, until every notification is delivered. */
async function benchPropagation(database: Database, recipients: number): Promise<Figure> {
  const receiver = await startReceiver();
  try {
    const { workspace } = await createWorkspace(database.db, {
      name: `bench-propagate-${Date.now().toString(36)}`,
    });
    const actor = operatorActor(workspace.id);
    const legal = { purpose: 'legal', requestId: null, mode: 'write' as const };
    const customerId = await seedCustomer(database, workspace.id, 1);
    const ids: string[] = [];
    for (let i = 0; i < recipients; i += 100) {
      const batch = await withAccess(database.db, actor, legal, async (scope) => {
        const made: string[] = [];
        for (let j = i; j < Math.min(recipients, i + 100); j++) {
          const { recipient } = await registerRecipientWithWebhook(scope, {
            name: `partner-${j}`,
            kind: 'webhook',
            url: `${receiver.url}/hook/${j}`,
            purposes: ['service'],
            events: ['consent_changed'],
          });
          made.push(recipient.id);
        }
        return made;
      });
      ids.push(...batch);
    }
    await inWorkspace(database.db, workspace.id, (tx) =>
      recordDisclosures(
        tx,
        workspace.id,
        ids.map((recipientId) => ({
          customerId,
          recipientId,
          fields: ['familyName', 'givenName'],
          purpose: 'service',
          lawfulBasis: 'contract',
          requestId: 'bench',
        })),
      ),
    );
    const dispatcher = new Dispatcher(
      database.db,
      createJobRegistry({ valueRefitMinutes: 0, eventRetentionDays: 7 }),
    );
    await dispatcher.drain([workspace.id]);

    const before = receiver.count();
    const cpu0 = process.cpuUsage();
    let planned = 0;
    const run = await timed(async () => {
      const start = performance.now();
      await withAccess(database.db, actor, { ...legal, purpose: 'service' }, (scope) =>
        rectifyField(scope, customerId, 'familyName', 'Corrected', 'bench'),
      );
      await dispatcher.drain([workspace.id]);
      planned = (performance.now() - start) / 1000;
      let delivered = 0;
      for (;;) {
        const r = await deliverDueWebhooks(database.db, { limit: 500, workspaceIds: [workspace.id] });
        delivered += r.delivered;
        if (r.attempted === 0) break;
      }
      return delivered;
    });
    const cpu = process.cpuUsage(cpu0);
    const notices = await withAccess(database.db, actor, legal, (scope) =>
      readNotifications(scope, { customerId, status: 'delivered' }),
    );
    return {
      workload: 'privacy: one rectification to 1,000 webhook recipients',
      value: Number(run.seconds.toFixed(3)),
      unit: 's',
      detail:
        `rectify and dispatch (one notification per recipient from the disclosure ledger, each enqueued as a signed ` +
        `delivery) ${planned.toFixed(2)} s, then deliver to a local receiver ${(run.seconds - planned).toFixed(2)} s: ` +
        `${notices.length} notifications delivered, ${run.value} deliveries ` +
        `(the webhooks subscribe to consent_changed only, so the field_rectified event itself goes to none), receiver saw ` +
        `${receiver.count() - before}; process CPU ${((cpu.user + cpu.system) / 1e6).toFixed(2)} s`,
      target: '< 10 s',
      peakRssMiB: peakRssMiB(),
    };
  } finally {
    receiver.server.closeAllConnections();
    await new Promise<void>((resolve) => receiver.server.close(() => resolve()));
  }
}

/** The privacy workloads. */
export async function benchPrivacy(
  database: Database,
  scaleName: keyof typeof INTERACTIONS,
): Promise<Figure[]> {
  return [
    ...(await benchErasureAndAccess(database, INTERACTIONS[scaleName])),
    await benchPropagation(database, RECIPIENTS[scaleName]),
  ];
}
