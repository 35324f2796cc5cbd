import { existsSync } from 'node:fs';
import { sql } from 'kysely';
import { type EvaluateOptions, readItemEvents } from '../src/cli/recommend.ts';
import { type Database, migrateToLatest } from '../src/db/index.ts';
import {
  createGovernedCustomers,
  readRecommendations,
  recordConsentGoverned,
  setIntimacyGoverned,
  withAccess,
} from '../src/governance/index.ts';
import {
  buildTrainingInput,
  DEFAULT_TRAINING_PARAMS,
  type ItemEvent,
  trainInWorker,
} from '../src/recommendations/index.ts';
import { generateWorld } from '../src/synthetic/index.ts';
import { computeDayNumber } from '../src/value/index.ts';
import { createWorkspace, operatorActor } from '../src/workspaces/index.ts';
import { driveLoad, peakRssMiB, percentile, timed } from './lib.ts';
import type { Figure } from './report.ts';

/**
 * The recommendations targets of SPEC §13 and the issue: training (the product model — the dense
 * linear item model, trend, own history — and every customer's lists, in the worker thread the job
 * uses) on the development file (Online Retail, every purchase to its last day) and on a synthetic world
 * (100,000 people at small scale), with peak memory; and serving: the governed read of one customer's
 * recommendations (access scope, privacy subject, the decision per kind, the lists, the audit event)
 * by 32 concurrent callers on the bench database.
 */

const WORLD = { smoke: 10_000, small: 100_000, large: 100_000 } as const;
const SERVED_CUSTOMERS = 2_000;
const REQUESTS = { smoke: 2_000, small: 20_000, large: 20_000 } as const;
const RETAIL = 'shared/data/online_retail/online_retail_2010-12-01_2011-08-31.csv';

async function trainFigure(
  workload: string,
  events: ItemEvent[],
  target: string,
  detail: string,
): Promise<Figure> {
  let today = 0;
  for (const e of events) today = Math.max(today, computeDayNumber(e.date));
  const input = buildTrainingInput(events, today);
  const { value, seconds } = await timed(() => trainInWorker(input, DEFAULT_TRAINING_PARAMS));
  return {
    workload,
    value: Number(seconds.toFixed(2)),
    unit: 's',
    detail: `${value.stats.customers.toLocaleString('en-US')} customers × ${value.stats.items.toLocaleString('en-US')} items, ${value.stats.pairs.toLocaleString('en-US')} customer–item pairs; ${detail}`,
    target,
    peakRssMiB: peakRssMiB(),
  };
}

async function retailFigure(root: string): Promise<Figure | undefined> {
  // The shared data folder beside the project (or beside its parent, for a worktree one level deeper).
  const file =
    [`${root}/../${RETAIL}`, `${root}/../../${RETAIL}`].find((f) => existsSync(f)) ?? `${root}/../${RETAIL}`;
  try {
    const options = {
      transactions: file,
      customerCol: 'CustomerID',
      dateCol: 'InvoiceDate',
      itemCol: 'StockCode',
      invoiceCol: 'InvoiceNo',
      quantityCol: 'Quantity',
      priceCol: 'UnitPrice',
      itemPattern: '^[0-9]',
      splitDate: '',
      k: '10',
    } satisfies EvaluateOptions;
    const { events } = await readItemEvents(options, /^[0-9]/);
    return trainFigure('recommend: training on the development file', events, '< 15 s', 'read not included');
  } catch {
    process.stdout.write(`  (the development file ${file} is absent: its training figure is skipped)\n`);
    return undefined;
  }
}

async function worldFigure(scale: keyof typeof WORLD): Promise<Figure> {
  const world = generateWorld({ seed: 'bench-recommend', customers: WORLD[scale] });
  const events: ItemEvent[] = [];
  for (const i of world.interactions()) {
    if (i.type !== 'purchase' || !i.lineItems) continue;
    const ref = i.customer as Record<string, unknown>;
    const customer = JSON.stringify(ref);
    for (const line of i.lineItems)
      events.push({ customer, item: line.sku, date: i.occurredAt.slice(0, 10) });
  }
  return trainFigure(
    `recommend: training on a world of ${WORLD[scale].toLocaleString('en-US')} people`,
    events,
    '< 120 s',
    'purchases by source record (a customer before identity resolution), from memory',
  );
}

async function servingFigure(database: Database, scale: keyof typeof REQUESTS): Promise<Figure> {
  await migrateToLatest(database.db);
  const { workspace } = await createWorkspace(database.db, {
    name: `bench-recommend-${Date.now().toString(36)}`,
  });
  const actor = operatorActor(workspace.id);
  const ids: string[] = [];
  for (let start = 0; start < SERVED_CUSTOMERS; start += 500) {
    const batch = await withAccess(
      database.db,
      actor,
      { purpose: 'service', requestId: null, mode: 'write' },
      async (scope) => {
        const created = await createGovernedCustomers(
          scope,
          Array.from({ length: 500 }, (_, k) => ({ givenName: `Bench${start + k}`, familyName: 'Customer' })),
        );
        for (const id of created) {
          await recordConsentGoverned(scope, id, { purpose: 'personalization', status: 'granted' });
          await setIntimacyGoverned(scope, id, { level: 3 });
        }
        return created;
      },
    );
    ids.push(...batch);
  }
  // Lists as training stores them (ten of each kind, each citing an own item): benchmark setup by SQL.
  const suggestion = (k: number, reason: string) => ({
    item: `SKU-${k}`,
    name: `Item ${k}`,
    score: 1 / (k + 1),
    reason,
    because: 'SKU-0',
    becauseName: 'Item 0',
    ...(reason === 'replenish' ? { cadenceDays: 28 } : {}),
  });
  const own = JSON.stringify(Array.from({ length: 10 }, (_, k) => suggestion(k, 'replenish')));
  const collective = JSON.stringify(Array.from({ length: 20 }, (_, k) => suggestion(k + 10, 'bought_with')));
  await withAccess(
    database.db,
    actor,
    { purpose: 'analytics', requestId: null, mode: 'write' },
    async ({ tx }) => {
      await sql`INSERT INTO recommendation_models (workspace_id, trained_at, as_of, params, stats, popular)
      VALUES (${workspace.id}, now(), current_date, '{}', '{}', '[]')`.execute(tx);
      await sql`INSERT INTO recommendation_lists (workspace_id, customer_id, own, collective)
      SELECT ${workspace.id}::uuid, unnest(${ids}::uuid[]), ${own}::jsonb, ${collective}::jsonb`.execute(tx);
    },
  );
  const reader = { ...actor, role: 'agent' as const, label: 'bench:agent' };
  const load = await driveLoad({
    concurrency: 32,
    count: REQUESTS[scale],
    maxSeconds: 240,
    send: async (i) => {
      const served = await withAccess(
        database.db,
        reader,
        { purpose: 'personalization', requestId: null, mode: 'read', deferChaining: true },
        (scope) => readRecommendations(scope, ids[(i * 7919) % ids.length] ?? '', 10),
      );
      return served.items.length === 10;
    },
  });
  return {
    workload: 'recommend: serving one customer (governed read, 32 callers)',
    value: Number(percentile(load.latenciesMs, 99).toFixed(2)),
    unit: 'ms p99',
    detail: `${load.requests.toLocaleString('en-US')} reads in ${load.seconds.toFixed(1)} s (${(load.requests / load.seconds).toFixed(0)}/s), p50 ${percentile(load.latenciesMs, 50).toFixed(2)} ms, ${load.errors} errors; in process, no HTTP`,
    target: '< 20 ms',
    peakRssMiB: peakRssMiB(),
  };
}

/** The `recommend` workload. */
export async function benchRecommend(
  database: Database,
  scale: keyof typeof WORLD,
  root: string,
): Promise<Figure[]> {
  const figures: Figure[] = [];
  const retail = await retailFigure(root);
  if (retail) figures.push(retail);
  figures.push(await worldFigure(scale));
  figures.push(await servingFigure(database, scale));
  return figures;
}
