import { sql } from 'kysely';
import { type Database, inWorkspace, migrateToLatest } from '../src/db/index.ts';
import { recomputeRelationshipsOfWorkspaces } from '../src/governance/index.ts';
import { recomputeRelationships } from '../src/relationships/index.ts';
import { generateWorld, type SyntheticInteraction } from '../src/synthetic/index.ts';
import { createWorkspace } from '../src/workspaces/index.ts';
import { peakRssMiB, percentile, timed } from './lib.ts';
import type { Figure } from './report.ts';

/**
 * The relationship targets of issue 14: a full recomputation (intensity norm, dimensions, archetype
 * with hysteresis, modifiers, profiles and history written) over the small-scale world — the first
 * interactions of a seeded synthetic world of 100,000 people, 1M interactions (10,000 / 50,000 for a
 * smoke run) — and the incremental recomputation of one customer after an event, in its own workspace
 * transaction as the event subscriber will run it. The world is loaded by SQL (one customer per
 * person, interactions as generated): benchmark setup, not the product's ingest path.
 */

const SCALE = {
  smoke: { customers: 10_000, interactions: 50_000 },
  small: { customers: 100_000, interactions: 1_000_000 },
  large: { customers: 100_000, interactions: 1_000_000 },
} as const;
const INCREMENTAL_RUNS = 1_000;
const BATCH = 10_000;

const customerUuid = (index: number) => `00000000-0000-4000-8000-${index.toString(16).padStart(12, '0')}`;

export async function loadRelationshipWorld(
  database: Database,
  workspaceId: string,
  scale: { customers: number; interactions: number },
): Promise<{ customers: number; interactions: number; endMs: number }> {
  const world = generateWorld({ seed: 'bench-relationships', customers: scale.customers });
  let rows: { person: number; i: SyntheticInteraction }[] = [];
  const people = new Set<number>();
  let loaded = 0;
  const flush = async () => {
    if (rows.length === 0) return;
    const batch = rows;
    rows = [];
    const newPeople = [...new Set(batch.map((r) => r.person))].filter((p) => !people.has(p));
    for (const p of newPeople) people.add(p);
    await inWorkspace(database.db, workspaceId, async (tx) => {
      if (newPeople.length > 0) {
        await sql`
          INSERT INTO customers (workspace_id, id)
          SELECT ${workspaceId}::uuid, u FROM unnest(${newPeople.map(customerUuid)}::uuid[]) u`.execute(tx);
      }
      await sql`
        INSERT INTO interactions (workspace_id, id, customer_id, type, channel, initiated_by, occurred_at,
          source, external_id, amount, currency, properties)
        SELECT ${workspaceId}::uuid, gen_random_uuid(), u.customer_id, u.type, u.channel, u.initiated_by,
          u.occurred_at, u.source, u.external_id, u.amount, u.currency, u.properties::jsonb
        FROM unnest(${batch.map((r) => customerUuid(r.person))}::uuid[], ${batch.map((r) => r.i.type)}::text[],
          ${batch.map((r) => r.i.channel)}::text[], ${batch.map((r) => r.i.initiatedBy)}::text[],
          ${batch.map((r) => r.i.occurredAt)}::timestamptz[], ${batch.map((r) => r.i.source)}::text[],
          ${batch.map((r) => r.i.externalId)}::text[], ${batch.map((r) => r.i.amount ?? null)}::numeric[],
          ${batch.map((r) => r.i.currency ?? null)}::text[], ${batch.map((r) => JSON.stringify(r.i.properties))}::text[])
          AS u(customer_id, type, channel, initiated_by, occurred_at, source, external_id, amount, currency,
               properties)`.execute(tx);
    });
  };
  let person = -1;
  let last = '';
  for (const { truePersonId, interaction } of world.labelledInteractions()) {
    if (loaded >= scale.interactions) break;
    if (truePersonId !== last) {
      last = truePersonId;
      person++;
    }
    rows.push({ person, i: interaction });
    loaded++;
    if (rows.length >= BATCH) await flush();
  }
  await flush();
  await sql`ANALYZE customers`.execute(database.db);
  await sql`ANALYZE interactions`.execute(database.db);
  return { customers: people.size, interactions: loaded, endMs: world.config.endMs };
}

/** Times the full recomputation twice (first labels, then a steady rerun) and the incremental one. */
export async function benchRelationships(
  database: Database,
  scaleName: 'smoke' | 'small' | 'large',
): Promise<Figure[]> {
  const scale = SCALE[scaleName];
  await migrateToLatest(database.db);
  const { workspace } = await createWorkspace(database.db, {
    name: `bench-relationships-${Date.now().toString(36)}`,
  });
  const loaded = await timed(() => loadRelationshipWorld(database, workspace.id, scale));
  const { customers, interactions, endMs } = loaded.value;
  process.stdout.write(
    `relationships: loaded ${customers.toLocaleString('en-US')} customers, ${interactions.toLocaleString('en-US')} interactions in ${loaded.seconds.toFixed(1)} s\n`,
  );
  const now = new Date(endMs);
  const first = await timed(() => recomputeRelationshipsOfWorkspaces(database.db, [workspace.id], { now }));
  const again = await timed(() =>
    recomputeRelationshipsOfWorkspaces(database.db, [workspace.id], { now: new Date(endMs + 86_400_000) }),
  );
  const report = first.value[0]?.report;
  const mix = Object.entries(report?.archetypes ?? {})
    .map(([k, n]) => `${k} ${n}`)
    .join(', ');

  // One customer after an event: the event is stored first (as ingest would), then the subscriber's
  // transaction recomputes that customer; only the latter is timed.
  const ids = await inWorkspace(database.db, workspace.id, async (tx) =>
    (
      await sql<{ id: string }>`SELECT id FROM customers WHERE workspace_id = ${workspace.id}
        ORDER BY md5(id::text) LIMIT ${INCREMENTAL_RUNS}`.execute(tx)
    ).rows.map((r) => r.id),
  );
  const latencies: number[] = [];
  for (const [k, id] of ids.entries()) {
    const at = new Date(endMs + 2 * 86_400_000 + k * 1000);
    await inWorkspace(database.db, workspace.id, (tx) =>
      sql`INSERT INTO interactions (workspace_id, id, customer_id, type, channel, initiated_by, occurred_at,
            source, external_id, properties)
          VALUES (${workspace.id}, gen_random_uuid(), ${id}, 'complaint', 'phone', 'customer', ${at.toISOString()},
            'bench-incremental', ${`c-${k}`}, '{"severity":"high"}'::jsonb)`.execute(tx),
    );
    const { seconds } = await timed(() =>
      inWorkspace(database.db, workspace.id, (tx) => recomputeRelationships(tx, workspace.id, [id], at)),
    );
    latencies.push(seconds * 1000);
  }
  const detail = `${customers.toLocaleString('en-US')} customers, ${interactions.toLocaleString('en-US')} interactions`;
  return [
    {
      workload: 'relationships: full recomputation (first labels)',
      value: Number(first.seconds.toFixed(2)),
      unit: 's',
      detail: `${detail}; norm, dimensions, archetypes, profiles and history written; ${mix}`,
      target: '< 30 s',
      peakRssMiB: peakRssMiB(),
    },
    {
      workload: 'relationships: full recomputation (rerun a day later)',
      value: Number(again.seconds.toFixed(2)),
      unit: 's',
      detail: `${detail}; ${again.value[0]?.report.changed ?? 0} changed`,
      target: '< 30 s',
      peakRssMiB: peakRssMiB(),
    },
    {
      workload: 'relationships: incremental recomputation of one customer (p99)',
      value: Number(percentile(latencies, 99).toFixed(2)),
      unit: 'ms',
      detail: `${latencies.length} customers, each after a new complaint, its own workspace transaction; p50 ${percentile(latencies, 50).toFixed(2)} ms, p90 ${percentile(latencies, 90).toFixed(2)} ms`,
      target: '< 20 ms',
      peakRssMiB: peakRssMiB(),
    },
  ];
}
